/** Sending a stored message's bytes as they are read, one chunk in memory at a time. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { PayloadStream } from '../domain/payload.ts';

/**
 * Streams the payload with its exact length. A chunk missing half-way, or bytes that do not add up
 * to the recorded length, is an error after the headers went out: the connection is cut (the client
 * sees fewer bytes than Content-Length, never a shorter document passed off as whole) and the error
 * reaches the error handler to be logged. A client that goes away stops the reading.
 */
export async function sendPayload(
  res: Response,
  payload: PayloadStream,
  size: number,
  type = 'application/xml',
): Promise<void> {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(size));
  async function* counted(): AsyncGenerator<Buffer> {
    let sent = 0;
    for await (const c of payload.chunks) {
      sent += c.length;
      if (sent > size) throw new Error(`payload longer than its recorded ${size} bytes`);
      yield c;
    }
    // Short (a chunk lost where no count was recorded): an error, not a response left hanging.
    if (sent !== size) throw new Error(`payload of ${sent} bytes, ${size} recorded`);
  }
  try {
    await pipeline(Readable.from(counted(), { objectMode: false }), res);
  } catch (err) {
    res.destroy();
    if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw err;
  }
}
