/**
 * A client that behaves like the national axis's Java SDK (SDKVXP 2.0.1), written for the tests
 * from docs/vdxp-protocol.md alone — it shares no code with src/vdxp on purpose:
 *
 * - one header map per service object, never cleared (headers accumulate across calls, quirk 1);
 *   `timestamp` fixed at construction (`ddMMyyyy'T'HHmmss+SSSS`, +SSSS = milliseconds, quirk 2);
 * - caller keys added with getAsString(), except `to`, stored as its JSON text (quirk 9);
 * - entries emitted in Java HashMap iteration order (bucket of the spread String.hashCode, capacity
 *   16 up to 12 keys, 32 up to 24, ties in insertion order, §3.3);
 * - sign-header as Gson writes it (only `"`, `\`, control characters and U+2028/2029 escaped,
 *   non-ASCII raw), hash-header = lower-case hex HMAC-SHA256 over its UTF-8 bytes (§3.1, §3.2);
 * - hash-file = SHA-256 of the file, bytes as unpadded hex (§3.5); sendEdoc's body is the file
 *   followed by CRLF, application/octet-stream, not multipart (quirk 4);
 * - `Expect: 100-continue` on the Apache calls with a non-empty body (§2); header values with
 *   non-ASCII characters sent as UTF-8 by sendEdoc and as each character's low 8 bits otherwise (§3.8).
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';

export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Java HashMap iteration order of these keys (given in insertion order). */
export function hashMapOrder(keysInInsertionOrder: readonly string[]): string[] {
  let cap = 16;
  while (keysInInsertionOrder.length > cap * 0.75) cap *= 2;
  const bucket = (k: string) => {
    const h = javaStringHashCode(k);
    return (h ^ (h >>> 16)) & (cap - 1);
  };
  return keysInInsertionOrder
    .map((k, i) => ({ k, i, b: bucket(k) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((x) => x.k);
}

/** A JSON string literal as Gson 2.2 writes it (not HTML-safe). */
export function gsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || ch === '\u2028' || ch === '\u2029') out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Gson's compact JSON text of a caller value (what `to` becomes). */
function gsonJson(v: unknown): string {
  if (typeof v === 'string') return gsonString(v);
  if (Array.isArray(v)) return `[${v.map(gsonJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${gsonString(k)}:${gsonJson(x)}`)
      .join(',')}}`;
  return String(v);
}

export function sdkTimestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getDate())}${p(d.getMonth() + 1)}${d.getFullYear()}T${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}+${p(d.getMilliseconds(), 4)}`;
}

export function sdkHashFileOf(file: Uint8Array): string {
  return [...createHash('sha256').update(file).digest()].map((b) => (b & 0xff).toString(16)).join('');
}

export interface SdkResponse {
  readonly httpStatus: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON, read "line by line joined without newlines" like the SDK. */
  json<T = Record<string, unknown>>(): T;
}

export interface SignedRequest {
  /** Raw header list (name, value, …) as the SDK emits it, values as strings of bytes (latin1). */
  readonly rawHeaders: string[];
  readonly signHeaderKey: string;
  readonly signHeader: string;
  readonly hashHeader: string;
}

type Op =
  | 'sendEdoc'
  | 'getReceivedEdocList'
  | 'getSentEdocList'
  | 'getEdoc'
  | 'downloadEdoc'
  | 'updateStatus'
  | 'countReceiveEdoc'
  | 'countReceiveStatus'
  | 'getAgenciesList'
  | 'getAgenciesListQD20'
  | 'getSynchronizeUnit'
  | 'registerAgency'
  | 'deleteAgency';

/** The request body each operation sends (§5 table). */
const BODIES: Record<Op, 'file' | 'empty' | 'braces' | 'none' | 'data'> = {
  sendEdoc: 'file',
  getReceivedEdocList: 'empty',
  getSentEdocList: 'empty',
  getEdoc: 'braces',
  downloadEdoc: 'none',
  updateStatus: 'braces',
  countReceiveEdoc: 'braces',
  countReceiveStatus: 'braces',
  getAgenciesList: 'empty',
  getAgenciesListQD20: 'empty',
  getSynchronizeUnit: 'empty',
  registerAgency: 'data',
  deleteAgency: 'braces',
};

export class VdxpSdkClient {
  readonly endpoint: URL;
  readonly #secret: string;
  /** The service object's header map: insertion order kept, re-put keeps the position. */
  readonly map = new Map<string, string>();
  /** Source address of the connections (e.g. 127.0.0.2: another loopback address, same machine). */
  localAddress: string | undefined;

  constructor(endpoint: string, systemId: string, secret: string, timestamp = sdkTimestamp(new Date())) {
    this.endpoint = new URL(endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
    this.#secret = secret;
    this.map.set('timestamp', timestamp);
    this.map.set('systemid', systemId);
  }

  /** Adds a call's parameters to the map and signs the whole map (no network). */
  sign(op: Op, jsonHeaders: string, file?: Uint8Array): SignedRequest {
    const caller = JSON.parse(jsonHeaders) as Record<string, unknown>;
    this.map.set('Content-Type', op === 'sendEdoc' ? 'application/octet-stream' : 'application/json');
    if (op === 'sendEdoc' && file) this.map.set('hash-file', sdkHashFileOf(file));
    for (const [k, v] of Object.entries(caller)) {
      // getAsString() for every key, except `to`: its JSON text (quirk 9).
      this.map.set(k, k === 'to' ? gsonJson(v) : typeof v === 'string' ? v : gsonJson(v));
    }
    const order = hashMapOrder([...this.map.keys()]);
    const signHeaderKey = order.join(';');
    const signHeader = `{${order.map((k) => `${gsonString(`XroadVnpt-${k}`)}:${gsonString(this.map.get(k)!)}`).join(',')}}`;
    const hashHeader = createHmac('sha256', Buffer.from(this.#secret, 'utf8'))
      .update(Buffer.from(signHeader, 'utf8'))
      .digest('hex');
    // sendEdoc (HttpURLConnection) writes header values as UTF-8; Apache writes low 8 bits.
    const wire = (v: string) =>
      op === 'sendEdoc'
        ? Buffer.from(v, 'utf8').toString('latin1')
        : [...v].map((c) => String.fromCharCode(c.charCodeAt(0) & 0xff)).join('');
    const raw: string[] = [];
    for (const k of order) {
      raw.push(`XroadVnpt-${k}`, wire(this.map.get(k)!));
      if (k === 'Content-Type') raw.push('Content-Type', this.map.get(k)!);
    }
    raw.push('XroadVnpt-sign-header-key', wire(signHeaderKey));
    raw.push('XroadVnpt-sign-header', wire(signHeader));
    raw.push('XroadVnpt-hash-header', hashHeader);
    raw.push('User-Agent', 'JAVASDKAgent/1.0.0 XRoad/VPCP');
    raw.push('XroadVnpt-version', '3.0.201608');
    return { rawHeaders: raw, signHeaderKey, signHeader, hashHeader };
  }

  /** Sends a signed request; `tamper` may change the raw headers or body first (bad-input tests). */
  async call(
    op: Op,
    jsonHeaders = '{}',
    opts: {
      file?: Uint8Array;
      data?: string;
      tamper?: (r: { rawHeaders: string[]; body: Buffer }) => void;
    } = {},
  ): Promise<SdkResponse> {
    const signed = this.sign(op, jsonHeaders, opts.file);
    const kind = BODIES[op];
    const body =
      kind === 'file'
        ? Buffer.concat([Buffer.from(opts.file ?? []), Buffer.from('\r\n')])
        : kind === 'braces'
          ? Buffer.from('{}')
          : kind === 'data'
            ? Buffer.from(opts.data ?? '', 'utf8')
            : Buffer.alloc(0);
    const req = { rawHeaders: signed.rawHeaders, body };
    opts.tamper?.(req);
    return rawRequest(this.endpoint, op, op === 'downloadEdoc' ? 'GET' : 'POST', req.rawHeaders, req.body, {
      noBody: kind === 'none',
      expectContinue: op !== 'sendEdoc' && req.body.length > 0,
      accept: op === 'sendEdoc' ? 'text/html, image/gif, image/jpeg, */*; q=0.2' : undefined,
      localAddress: this.localAddress,
    });
  }

  sendEdoc(jsonHeaders: string, file: Uint8Array) {
    return this.call('sendEdoc', jsonHeaders, { file });
  }
  getReceivedEdocList(jsonHeaders = '{}') {
    return this.call('getReceivedEdocList', jsonHeaders);
  }
  getSentEdocList(jsonHeaders = '{}') {
    return this.call('getSentEdocList', jsonHeaders);
  }
  getEdoc(jsonHeaders: string) {
    return this.call('getEdoc', jsonHeaders);
  }
  downloadEdoc(jsonHeaders: string) {
    return this.call('downloadEdoc', jsonHeaders);
  }
  updateStatus(jsonHeaders: string) {
    return this.call('updateStatus', jsonHeaders);
  }
  countReceiveEdoc(jsonHeaders = '{}') {
    return this.call('countReceiveEdoc', jsonHeaders);
  }
  countReceiveStatus(jsonHeaders = '{}') {
    return this.call('countReceiveStatus', jsonHeaders);
  }
  getAgenciesList(jsonHeaders = '{}') {
    return this.call('getAgenciesList', jsonHeaders);
  }
  getAgenciesListQD20(jsonHeaders = '{"level":"1"}') {
    return this.call('getAgenciesListQD20', jsonHeaders);
  }
  getSynchronizeUnit(jsonHeaders = '{}') {
    return this.call('getSynchronizeUnit', jsonHeaders);
  }
  registerAgency(jsonHeaders: string, data: string) {
    return this.call('registerAgency', jsonHeaders, { data });
  }
  deleteAgency(jsonHeaders: string) {
    return this.call('deleteAgency', jsonHeaders);
  }

  /** downloadEdoc2: the same path, no XroadVnpt header at all (§5.6). */
  downloadEdoc2(): Promise<SdkResponse> {
    return rawRequest(
      this.endpoint,
      'downloadEdoc',
      'GET',
      ['User-Agent', 'Apache-HttpClient/4.5.6 (Java/17.0.9)'],
      Buffer.alloc(0),
      { noBody: true, expectContinue: false },
    );
  }
}

export function rawRequest(
  endpoint: URL,
  op: string,
  method: 'GET' | 'POST',
  rawHeaders: readonly string[],
  body: Buffer,
  o: {
    noBody?: boolean;
    expectContinue?: boolean;
    accept?: string | undefined;
    localAddress?: string | undefined;
  },
): Promise<SdkResponse> {
  const url = new URL(op, endpoint);
  const headers = [...rawHeaders, 'Host', url.host];
  if (o.accept) headers.push('Accept', o.accept);
  if (!o.noBody) headers.push('Content-Length', String(body.length));
  if (o.expectContinue) headers.push('Expect', '100-continue');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers,
        agent: false,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({
            httpStatus: res.statusCode ?? 0,
            headers: res.headers,
            body: buf,
            json<T>() {
              return JSON.parse(buf.toString('utf8').split(/\r?\n/).join('')) as T;
            },
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (o.expectContinue) req.on('continue', () => req.end(body));
    else if (o.noBody) req.end();
    else req.end(body);
  });
}
