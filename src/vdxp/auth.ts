/**
 * Authentication of national-axis SDK requests (docs/vdxp-protocol.md §3, verification per §3.7).
 *
 * The SDK sends every parameter as a header `XroadVnpt-<key>`, plus
 *   XroadVnpt-sign-header-key: <key1>;<key2>;...
 *   XroadVnpt-sign-header:     {"XroadVnpt-<key1>":"<value1>",...}   (Gson, Java HashMap order)
 *   XroadVnpt-hash-header:     hex HMAC-SHA256(secret, sign-header bytes)
 *
 * The HMAC is computed over the sign-header bytes exactly as received (never re-serialized: the key
 * order is Java HashMap order and the escaping Gson's), compared in constant time; then the JSON
 * must list exactly the keys of sign-header-key in order, and every parameter header actually sent
 * must carry its signed value. The signed values are the parameters; unsigned headers are ignored.
 * Every failure is UNAUTHENTICATED with a reason that never contains the expected HMAC, and an
 * unknown, disabled or wrongly keyed system get the same answer (no oracle).
 */
import { timingSafeEqual } from 'node:crypto';
import { HubError } from '../domain/errors.ts';
import type { SystemCredential } from '../domain/types.ts';
import { signHeaderHmac } from './signing.ts';

export const PREFIX = 'xroadvnpt-';
const SIGN_HEADER = 'xroadvnpt-sign-header';
const SIGN_HEADER_KEY = 'xroadvnpt-sign-header-key';
const HASH_HEADER = 'xroadvnpt-hash-header';
/** Sent by the SDK but not signed (§3.1). */
const UNSIGNED_META = new Set([SIGN_HEADER, SIGN_HEADER_KEY, HASH_HEADER, 'xroadvnpt-version']);
/** `SimpleDateFormat("ddMMyyyy'T'HHmmss+SSSS")`: +SSSS is milliseconds, there is no zone (§3.4). */
const TIMESTAMP = /^\d{8}T\d{6}\+\d{4}$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function unauthenticated(reason: string): HubError {
  return new HubError('UNAUTHENTICATED', reason);
}

/**
 * The signed parameters, in signed order, looked up by key case-insensitively (quirk 10: the SDK
 * keeps the caller's spelling, `docId` and `docid` both occur, and may both be present at once).
 */
export class SignedParams {
  readonly entries: readonly (readonly [string, string])[];

  constructor(entries: readonly (readonly [string, string])[]) {
    this.entries = entries;
  }

  /** Every signed value whose key equals `name` ignoring case, exact spelling first. */
  all(name: string): string[] {
    const lower = name.toLowerCase();
    const exact = this.entries.filter(([k]) => k === name).map(([, v]) => v);
    const other = this.entries.filter(([k]) => k !== name && k.toLowerCase() === lower).map(([, v]) => v);
    return [...exact, ...other];
  }

  /**
   * For reads: the value under the exact spelling if signed, else the one under another spelling.
   * Two other spellings with different values are ambiguous and refused.
   */
  get(name: string): string | undefined {
    const exact = this.entries.find(([k]) => k === name);
    if (exact) return exact[1];
    return this.#single(name);
  }

  /**
   * For changes (acknowledging, deleting): every spelling must agree, since headers accumulate on
   * an SDK object (quirk 1) and a stale `docid` next to a fresh `docId` must not act on the wrong one.
   */
  getStrict(name: string): string | undefined {
    return this.#single(name);
  }

  #single(name: string): string | undefined {
    const values = [...new Set(this.all(name))];
    if (values.length > 1)
      throw new HubError(
        'VALIDATION_FAILED',
        `the signed parameter ${name} is present under several spellings with different values (${this.entries
          .filter(([k]) => k.toLowerCase() === name.toLowerCase())
          .map(([k]) => k)
          .join(', ')}); send one spelling`,
      );
    return values[0];
  }
}

export interface VdxpAuthResult {
  readonly caller: SystemCredential;
  readonly systemId: string;
  readonly params: SignedParams;
}

export type CredentialLookup = (systemId: string) => Promise<SystemCredential | null>;

/** Headers by lower-case name, every occurrence kept (Node's `rawHeaders`: name, value, name, …). */
function groupHeaders(rawHeaders: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    m.set(name, [...(m.get(name) ?? []), rawHeaders[i + 1]!]);
  }
  return m;
}

/** Node hands header values over as latin1 (one char per byte): these are the bytes received. */
const bytesOf = (headerValue: string) => Buffer.from(headerValue, 'latin1');

/** A header value as text: the bytes as UTF-8 (how `sendEdoc` sends non-ASCII), else as latin1. */
function textOf(headerValue: string): string {
  const b = bytesOf(headerValue);
  try {
    return utf8.decode(b);
  } catch {
    return headerValue;
  }
}

function one(headers: Map<string, string[]>, name: string, display: string): string {
  const v = headers.get(name);
  if (!v || v.length === 0) throw unauthenticated(`missing header ${display}`);
  if (v.length > 1) throw unauthenticated(`header ${display} sent more than once`);
  return v[0]!;
}

/** Parses the sign-header JSON into ordered [key, value] pairs (exact keys, string values only). */
function parseSignHeader(raw: Buffer): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(raw));
  } catch {
    throw unauthenticated('XroadVnpt-sign-header is not a JSON object in UTF-8');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw unauthenticated('XroadVnpt-sign-header is not a JSON object');
  const entries = Object.entries(parsed as Record<string, unknown>);
  const out: [string, string][] = [];
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw unauthenticated(`signed value of ${k} is not a JSON string`);
    out.push([k, v]);
  }
  return out;
}

/** Header values lose surrounding spaces and tabs on the wire (RFC 9110 §5.5). */
const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '');

export async function authenticate(
  rawHeaders: readonly string[],
  lookup: CredentialLookup,
): Promise<VdxpAuthResult> {
  const headers = groupHeaders(rawHeaders);
  const signHeaderRaw = bytesOf(one(headers, SIGN_HEADER, 'XroadVnpt-sign-header'));
  const signHeaderKey = textOf(one(headers, SIGN_HEADER_KEY, 'XroadVnpt-sign-header-key'));
  const hashHeader = one(headers, HASH_HEADER, 'XroadVnpt-hash-header').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hashHeader))
    throw unauthenticated('XroadVnpt-hash-header is not a hex HMAC-SHA256 (64 hex digits)');

  // Structure first (it reveals nothing): the JSON lists exactly the announced keys, in order.
  const signed = parseSignHeader(signHeaderRaw);
  const keys = signHeaderKey.split(';');
  if (keys.length !== signed.length || keys.some((k, i) => `XroadVnpt-${k}` !== signed[i]![0]))
    throw unauthenticated(
      'XroadVnpt-sign-header does not list the keys of XroadVnpt-sign-header-key in order',
    );
  const params = new SignedParams(signed.map(([k, v]) => [k.slice('XroadVnpt-'.length), v] as const));

  let systemId: string | undefined;
  let timestamp: string | undefined;
  try {
    systemId = params.getStrict('systemid');
    timestamp = params.getStrict('timestamp');
  } catch {
    throw unauthenticated('systemid or timestamp is signed twice with different values');
  }
  if (!systemId || timestamp === undefined)
    throw unauthenticated('the signed headers must include systemid and timestamp');
  if (!TIMESTAMP.test(timestamp))
    throw unauthenticated('XroadVnpt-timestamp must have the form ddMMyyyyTHHmmss+SSSS');

  // The signature: HMAC-SHA256 keyed with the secret's UTF-8 bytes over the bytes received.
  const cred = await lookup(systemId);
  const given = Buffer.from(hashHeader, 'hex');
  const expected = signHeaderHmac(cred?.secret ?? 'no such system: compare anyway', signHeaderRaw);
  const matches = given.length === expected.length && timingSafeEqual(given, expected);
  if (!cred || !cred.active || !matches) throw unauthenticated('unknown system or invalid signature');

  // Every parameter header actually sent must carry its signed value (§3.7 step 4), matched per
  // lower-case name: two spellings of one key arrive as two headers of one name (quirk 10).
  const signedByName = new Map<string, string[]>();
  for (const [k, v] of params.entries) {
    const n = PREFIX + k.toLowerCase();
    signedByName.set(n, [...(signedByName.get(n) ?? []), trimOws(v)]);
  }
  for (const [name, values] of headers) {
    if (!name.startsWith(PREFIX) || UNSIGNED_META.has(name)) continue;
    const signedValues = signedByName.get(name);
    if (!signedValues) continue; // not signed: never read
    const unused = [...signedValues];
    for (const v of values.map(textOf)) {
      const i = unused.indexOf(v);
      if (i < 0)
        throw unauthenticated(
          `header XroadVnpt-${name.slice(PREFIX.length)} does not carry its signed value`,
        );
      unused.splice(i, 1);
    }
  }
  return { caller: cred, systemId, params };
}

/** True when the request carries none of the SDK's signing headers (`downloadEdoc2`, §5.6). */
export function carriesNoSignature(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.toLowerCase().startsWith(PREFIX)) return false;
  return true;
}
