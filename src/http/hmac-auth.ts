/**
 * Request authentication of agency systems on the hub's own API (/v1): per-system credentials,
 * HMAC-SHA256 over the method, path, timestamp and body hash.
 *
 *   Authorization: HUB1-HMAC-SHA256 Credential=<systemId>, Timestamp=<unix seconds>[, Nonce=<nonce>], Signature=<hex>
 *   X-Hub-Content-SHA256: <hex sha256 of body>   (lets the hub authenticate before reading the body)
 *   string to sign: "HUB1-HMAC-SHA256\n<METHOD>\n<path?query>\n<timestamp>\n<hex sha256 of body>[\n<nonce>]"
 *
 * The timestamp must be within the configured clock skew, and each signature is accepted once
 * (src/http/intake.ts, docs/security.md §9): the optional nonce lets a client send the same request
 * twice in one second.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const HMAC_SCHEME = 'HUB1-HMAC-SHA256';

/** The header carrying the hex SHA-256 of the body the signature covers. */
export const CONTENT_SHA256_HEADER = 'x-hub-content-sha256';

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The signed parts of a request: the body itself, or its hex SHA-256 (`bodySha256`). */
export type SignedRequestParts = {
  readonly method: string;
  readonly pathWithQuery: string;
  readonly timestamp: number;
  readonly nonce?: string | undefined;
} & ({ readonly body: Uint8Array } | { readonly bodySha256: string });

export function stringToSign(p: SignedRequestParts): string {
  const bodyHash = 'bodySha256' in p ? p.bodySha256.toLowerCase() : sha256Hex(p.body);
  const lines = [HMAC_SCHEME, p.method.toUpperCase(), p.pathWithQuery, String(p.timestamp), bodyHash];
  if (p.nonce !== undefined) lines.push(p.nonce);
  return lines.join('\n');
}

export function signRequest(systemId: string, secret: string, p: SignedRequestParts): string {
  const sig = createHmac('sha256', secret).update(stringToSign(p), 'utf8').digest('hex');
  const nonce = p.nonce !== undefined ? `, Nonce=${p.nonce}` : '';
  return `${HMAC_SCHEME} Credential=${systemId}, Timestamp=${p.timestamp}${nonce}, Signature=${sig}`;
}

export interface ParsedAuthorization {
  readonly systemId: string;
  readonly timestamp: number;
  readonly nonce?: string;
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
  const nonce = fields.get('Nonce');
  if (nonce !== undefined && !/^[A-Za-z0-9_-]{8,64}$/.test(nonce)) return null;
  return {
    systemId,
    timestamp: ts,
    ...(nonce !== undefined ? { nonce } : {}),
    signature: signature.toLowerCase(),
  };
}

export function verifySignature(secret: string, auth: ParsedAuthorization, p: SignedRequestParts): boolean {
  const expected = createHmac('sha256', secret)
    .update(stringToSign({ ...p, nonce: auth.nonce }), 'utf8')
    .digest();
  const given = Buffer.from(auth.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
