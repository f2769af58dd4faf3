/**
 * `XroadVnpt-hash-file` (docs/vdxp-protocol.md §3.5, quirk 3): SHA-256 of the edXML file bytes (not
 * the CRLF the SDK appends to the body), each byte as `Integer.toHexString(b & 0xff)`, i.e.
 * lower-case hex WITHOUT zero-padding: 32 to 64 characters, lossy. It is verified by computing the
 * same encoding and comparing strings.
 */
import { createHash } from 'node:crypto';
import { HubError } from '../domain/errors.ts';

export function sdkHashFile(bytes: Uint8Array): string {
  return [...createHash('sha256').update(bytes).digest()].map((b) => b.toString(16)).join('');
}

const CRLF = Buffer.from('\r\n');

/**
 * The file carried by a `/sendEdoc` body: the SDK sends the file followed by CRLF (quirk 4, not
 * multipart). One trailing CRLF is stripped when the hash says so; a client that sends the file
 * alone is accepted too. The signed hash decides which bytes are the file, so nothing is guessed.
 */
export function fileFromSendBody(body: Buffer, signedHashFile: string | undefined): Buffer {
  if (signedHashFile === undefined || signedHashFile === '')
    throw new HubError('VALIDATION_FAILED', 'the signed header hash-file is required by sendEdoc');
  const expected = signedHashFile.trim().toLowerCase();
  if (!/^[0-9a-f]{32,64}$/.test(expected))
    throw new HubError('CONTENT_HASH_MISMATCH', 'hash-file is not 32 to 64 lower-case hex digits');
  if (body.length > CRLF.length && body.subarray(body.length - 2).equals(CRLF)) {
    const file = body.subarray(0, body.length - 2);
    if (sdkHashFile(file) === expected) return file;
  }
  if (body.length > 0 && sdkHashFile(body) === expected) return body;
  if (body.length === 0)
    throw new HubError('VALIDATION_FAILED', 'the request body (the edXML file) is empty');
  throw new HubError(
    'CONTENT_HASH_MISMATCH',
    'hash-file (SHA-256 of the file, unpadded hex) does not match the body received',
  );
}
