/**
 * A national-axis protocol client (docs/vdxp-protocol.md) for federation: this hub speaking to a
 * peer — the Government's national axis, or another instance of this hub at its `/vdxp` — as the
 * official Java SDK would, so that both accept it unchanged:
 *
 * - every parameter is a signed `XroadVnpt-<key>` header (src/vdxp/signing.ts, the same rule the
 *   hub's own server verifies); a fresh parameter map per call (no accumulation, §7 quirk 1);
 * - `sendEdoc` body = the file bytes + CRLF, `hash-file` = the SDK's unpadded hex SHA-256 (§3.5);
 * - answers are the JSON envelope (§4): success is `status: OK` and `ErrorCode: "0"`.
 *
 * Errors are classified for the delivery worker: connection trouble, timeouts, HTTP 5xx/408/429 and
 * unreadable answers are transient (`TransientDeliveryError`, retried with backoff and counted by the
 * circuit breaker); a FAIL envelope is the peer's answer (`PeerRefusal`) with its code and reason.
 */
import http from 'node:http';
import https from 'node:https';
import { sdkHashFile } from '../vdxp/hash-file.ts';
import { sdkTimestamp, signParams } from '../vdxp/signing.ts';
import { TransientDeliveryError } from '../delivery/push.ts';

export interface PeerEndpoint {
  /** `service.endpoint` of the peer: operations are `<baseUrl>/<operation>`. */
  readonly baseUrl: string;
  /** The system id this hub holds at the peer, and its secret. */
  readonly systemId: string;
  readonly secret: string;
  /** PEM of the CA(s) to trust for the peer's TLS certificate (default: the system's). */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/** The peer answered with a FAIL envelope: its decision, not a transport problem. */
export class PeerRefusal extends Error {
  readonly errorCode: string;
  constructor(op: string, errorCode: string, errorDesc: string) {
    super(`peer refused ${op}: [${errorCode}] ${errorDesc}`);
    this.name = 'PeerRefusal';
    this.errorCode = errorCode;
  }
}

export interface Envelope {
  readonly status: string;
  readonly ErrorCode: string;
  readonly ErrorDesc: string;
  readonly [k: string]: unknown;
}

export interface ReceivedItem {
  readonly docId: string;
  readonly messageType?: string;
  readonly from?: string;
  readonly to?: string;
  readonly status?: string;
}

export interface PeerAgency {
  readonly code: string;
  readonly name: string;
  readonly pid?: string;
  readonly mail?: string;
  readonly oldCode?: string;
  readonly deleted?: boolean;
  readonly version?: number;
}

type Params = (readonly [string, string])[];

export class PeerClient {
  readonly #p: PeerEndpoint;
  readonly #clock: () => Date;

  constructor(endpoint: PeerEndpoint, clock: () => Date = () => new Date()) {
    this.#p = endpoint;
    this.#clock = clock;
  }

  /** The signed headers of one call: timestamp and systemid first, as the SDK's constructor puts them. */
  signedHeaders(contentType: string, callerKeys: Params): Record<string, string> {
    const params: Params = [
      ['timestamp', sdkTimestamp(this.#clock())],
      ['systemid', this.#p.systemId],
      ['Content-Type', contentType],
      ...callerKeys,
    ];
    return signParams(params, this.#p.secret).headers;
  }

  /** sendEdoc (§5.1): the exact bytes, unchanged; the peer's DocId on success. */
  async sendEdoc(file: Uint8Array, from: string): Promise<string> {
    const headers = this.signedHeaders('application/octet-stream', [
      ['servicetype', 'eDoc'],
      ['messagetype', 'edoc'],
      ['hash-file', sdkHashFile(file)],
      ['from', from],
    ]);
    const body = Buffer.concat([file, Buffer.from('\r\n')]);
    const env = await this.#json('sendEdoc', 'POST', headers, body);
    return str(env.DocId) ?? '';
  }

  /** getReceivedEdocList (§5.2): what the peer holds for this hub's system, oldest first. */
  async getReceivedEdocList(messageType?: 'edoc' | 'status'): Promise<ReceivedItem[]> {
    const keys: Params = [['servicetype', 'eDoc']];
    if (messageType) keys.push(['messagetype', messageType]);
    const env = await this.#json('getReceivedEdocList', 'POST', this.signedHeaders('application/json', keys));
    return listOf(env).flatMap((x) => {
      const docId = str(x.docId);
      if (!docId) return [];
      const [messageType, from, to, status] = [str(x.messageType), str(x.from), str(x.to), str(x.status)];
      return [
        {
          docId,
          ...(messageType !== undefined ? { messageType } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(status !== undefined ? { status } : {}),
        },
      ];
    });
  }

  /** getEdoc (§5.4): the exact bytes (base64 in `data`). */
  async getEdoc(docId: string): Promise<Buffer> {
    const env = await this.#json(
      'getEdoc',
      'POST',
      this.signedHeaders('application/json', [['docId', docId]]),
      Buffer.from('{}'),
    );
    if (typeof env.data !== 'string') throw new TransientDeliveryError('getEdoc answered without data');
    return Buffer.from(env.data, 'base64');
  }

  /** updateStatus (§5.7): done, fail (with the reason) or processing. */
  async updateStatus(docId: string, status: 'done' | 'fail' | 'processing', reason?: string): Promise<void> {
    const keys: Params = [
      ['docId', docId],
      ['status', status],
    ];
    // Header values must be ASCII (§3.8): the reason is sent folded to ASCII.
    if (reason) keys.push(['description', asciiOnly(reason).slice(0, 500)]);
    await this.#json('updateStatus', 'POST', this.signedHeaders('application/json', keys), Buffer.from('{}'));
  }

  /** getAgenciesList (§5.9). */
  async getAgenciesList(): Promise<PeerAgency[]> {
    const env = await this.#json('getAgenciesList', 'POST', this.signedHeaders('application/json', []));
    return listOf(env).flatMap(agencyOf);
  }

  /** getSynchronizeUnit (§5.11): units with version and the deleted flag. */
  async getSynchronizeUnit(): Promise<PeerAgency[]> {
    const env = await this.#json('getSynchronizeUnit', 'POST', this.signedHeaders('application/json', []));
    return listOf(env).flatMap(agencyOf);
  }

  async #json(op: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Envelope> {
    const { status, text } = await this.#request(op, method, headers, body);
    let env: Envelope;
    try {
      env = JSON.parse(text) as Envelope;
    } catch {
      throw new TransientDeliveryError(`${op}: the peer answered HTTP ${status} without a JSON envelope`);
    }
    if (typeof env !== 'object' || env === null || typeof env.status !== 'string')
      throw new TransientDeliveryError(`${op}: the peer's answer is not an envelope`);
    if (env.status === 'OK' && str(env.ErrorCode) === '0') return env;
    throw new PeerRefusal(op, str(env.ErrorCode) ?? '?', str(env.ErrorDesc) ?? '');
  }

  #request(
    op: string,
    method: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<{ status: number; text: string }> {
    const url = new URL(`${this.#p.baseUrl.replace(/\/+$/, '')}/${op}`);
    const lib = url.protocol === 'https:' ? https : http;
    const timeoutMs = this.#p.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method,
          headers: {
            ...headers,
            'User-Agent': 'JAVASDKAgent/1.0.0 XRoad/VPCP',
            'Content-Length': String(body?.length ?? 0),
          },
          ...(url.protocol === 'https:' && this.#p.ca ? { ca: this.#p.ca } : {}),
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status === 408 || status === 429 || status >= 500) {
              // The hub's /vdxp answers 200 always; a 5xx is a proxy or a peer in trouble.
              try {
                const env = JSON.parse(text) as Envelope;
                if (env.status === 'FAIL' || env.status === 'OK') return resolve({ status, text });
              } catch {
                /* not an envelope */
              }
              return reject(new TransientDeliveryError(`${op}: the peer answered HTTP ${status}`));
            }
            resolve({ status, text });
          });
          res.on('error', (e) => reject(new TransientDeliveryError(`${op}: ${e.message}`)));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new TransientDeliveryError(`${op} to ${url.origin}: ${e.message}`)));
      req.end(body);
    });
  }
}

/** A string field of an answer; the SDK also takes numbers (§4). */
function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : typeof x === 'number' ? String(x) : undefined;
}

function listOf(env: Envelope): Record<string, unknown>[] {
  return Array.isArray(env.data) ? (env.data as unknown[]).filter(isObject) : [];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function agencyOf(x: Record<string, unknown>): PeerAgency[] {
  if (typeof x.code !== 'string' || x.code.trim() === '') return [];
  const deleted = x.deleted === true || x.deleted === 'true';
  return [
    {
      code: x.code.trim(),
      name: typeof x.name === 'string' && x.name.trim() ? x.name.trim() : x.code.trim(),
      ...(typeof x.pid === 'string' ? { pid: x.pid } : {}),
      ...(typeof x.mail === 'string' ? { mail: x.mail } : {}),
      ...(typeof x.oldCode === 'string' ? { oldCode: x.oldCode } : {}),
      ...(deleted ? { deleted } : {}),
      ...(typeof x.version === 'number' ? { version: x.version } : {}),
    },
  ];
}

/** Vietnamese text to ASCII for a header value (§3.8): diacritics dropped, đ → d, the rest `?`. */
export function asciiOnly(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .replace(/[^\x20-\x7e]/g, '?');
}
