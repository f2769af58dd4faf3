/**
 * Request authentication of agency systems on the hub's own API (/v1): per-system credentials,
 * HMAC-SHA256 over the method, path, timestamp and body hash.
 *
 *   Authorization: HUB1-HMAC-SHA256 Credential=<systemId>, Timestamp=<unix seconds>, Signature=<hex>
 *   string to sign: "HUB1-HMAC-SHA256\n<METHOD>\n<path?query>\n<timestamp>\n<hex sha256 of body>"
 *
 * The timestamp must be within the configured clock skew, which bounds replays; replaying a
 * submission inside that window is harmless (submissions are idempotent per DocumentId).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const HMAC_SCHEME = 'HUB1-HMAC-SHA256';

export interface SignedRequestParts {
  readonly method: string;
  readonly pathWithQuery: string;
  readonly timestamp: number;
  readonly body: Uint8Array;
}

export function stringToSign(p: SignedRequestParts): string {
  const bodyHash = createHash('sha256').update(p.body).digest('hex');
  return [HMAC_SCHEME, p.method.toUpperCase(), p.pathWithQuery, String(p.timestamp), bodyHash].join('\n');
}

export function signRequest(systemId: string, secret: string, p: SignedRequestParts): string {
  const sig = createHmac('sha256', secret).update(stringToSign(p), 'utf8').digest('hex');
  return `${HMAC_SCHEME} Credential=${systemId}, Timestamp=${p.timestamp}, Signature=${sig}`;
}

export interface ParsedAuthorization {
  readonly systemId: string;
  readonly timestamp: number;
  readonly signature: string;
}

export function parseAuthorization(header: string | undefined): ParsedAuthorization | null {
  if (!header || !header.startsWith(HMAC_SCHEME + ' ')) return null;
  const fields = new Map<string, string>();
  for (const part of header.slice(HMAC_SCHEME.length + 1).split(',')) {
    const i = part.indexOf('=');
    if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const systemId = fields.get('Credential');
  const ts = Number(fields.get('Timestamp'));
  const signature = fields.get('Signature');
  if (!systemId || !Number.isInteger(ts) || !signature || !/^[0-9a-f]{64}$/i.test(signature)) return null;
  return { systemId, timestamp: ts, signature: signature.toLowerCase() };
}

export function verifySignature(secret: string, auth: ParsedAuthorization, p: SignedRequestParts): boolean {
  const expected = createHmac('sha256', secret).update(stringToSign(p), 'utf8').digest();
  const given = Buffer.from(auth.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
