/**
 * Response envelopes of the national-axis API (docs/vdxp-protocol.md §4):
 *
 *   {"status":"OK","ErrorCode":"0","ErrorDesc":"Thành công", ...endpoint fields}
 *   {"status":"FAIL","ErrorCode":"<not 0>","ErrorDesc":"...", ...}
 *
 * - All three keys on every JSON answer (a missing one makes the SDK swallow an NPE).
 * - Success satisfies both SDK tests: status "OK" and ErrorCode "0"; codes are JSON strings.
 * - Never `null` (the SDK throws on JsonNull and drops the whole list): absent values are omitted.
 * - Every non-ASCII character is escaped as \uXXXX: `sendEdoc` decodes its answer as US-ASCII.
 * - Always HTTP 200 (the SDK ignores the status, and `sendEdoc` crashes on an error without body).
 */
import type { Response } from 'express';

export const SUCCESS_DESC = 'Thành công';

export type EnvelopeValue = string | number | boolean | EnvelopeObject | EnvelopeValue[] | undefined | null;
export interface EnvelopeObject {
  [key: string]: EnvelopeValue;
}

/** Drops `null` and `undefined` members (recursively): the SDK must never see a JSON null. */
export function withoutNulls<T extends EnvelopeValue>(v: T): T {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(withoutNulls) as T;
  if (v && typeof v === 'object') {
    const out: EnvelopeObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = withoutNulls(x);
    return out as T;
  }
  return v;
}

/** JSON with every character outside US-ASCII escaped as \uXXXX (UTF-16 units, so pairs stay pairs). */
export function asciiJson(value: EnvelopeValue): string {
  return (JSON.stringify(withoutNulls(value)) ?? 'null').replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function okEnvelope(fields: EnvelopeObject = {}): EnvelopeObject {
  return { status: 'OK', ErrorCode: '0', ErrorDesc: SUCCESS_DESC, ...fields };
}

export function failEnvelope(
  errorCode: string,
  errorDesc: string,
  fields: EnvelopeObject = {},
): EnvelopeObject {
  // "0" would read as success to the SDK's list parsers: never send it with FAIL.
  const code = errorCode === '0' || errorCode === '' ? '500' : errorCode;
  return { status: 'FAIL', ErrorCode: code, ErrorDesc: errorDesc || 'FAIL', ...fields };
}

export function sendEnvelope(res: Response, body: EnvelopeObject): void {
  const text = asciiJson(body);
  res.status(200);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text, 'ascii'));
  res.end(text);
}

/**
 * Streams `{"status":"OK",...,"data":[item,item,...]}` for lists that may be large (the whole
 * directory is ~111,000 agencies): items are written as they are read, with back-pressure. An
 * error after the first byte can no longer become an envelope: the connection is cut, which the
 * SDK reports as an empty result rather than a truncated list taken for complete.
 */
export async function streamListEnvelope(
  res: Response,
  items: AsyncIterable<EnvelopeObject>,
  fields: EnvelopeObject = {},
): Promise<void> {
  const head = asciiJson(okEnvelope(fields));
  res.status(200);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
  };
  let buf = `${head.slice(0, -1)},"data":[`;
  let first = true;
  try {
    for await (const item of items) {
      buf += (first ? '' : ',') + asciiJson(item);
      first = false;
      if (buf.length >= 64 * 1024) {
        await write(buf);
        buf = '';
      }
    }
  } catch (err) {
    // Before the first byte the caller can still answer with a FAIL envelope.
    if (res.headersSent) res.destroy();
    throw err;
  }
  res.end(`${buf}]}`);
}
