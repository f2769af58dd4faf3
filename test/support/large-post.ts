/** A large POST streamed a chunk at a time, as an unhurried client sends it (intake tests, bench). */
import http from 'node:http';
import type { Socket } from 'node:net';

export interface LargePost {
  /** 0 when the connection closed without an answer. */
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  /** Body bytes handed to the connection before the answer came. */
  bytesSent: number;
  /** With `server`: bytes the hub's side of the connection read, headers included. */
  serverBytesRead?: number;
}

/**
 * POSTs a body of `total` bytes 64 KiB at a time with back-pressure, stopping as soon as the hub
 * answers or closes. With `server` (a hub in this process) it resolves once the hub's side of the
 * connection is closed, with the bytes it read. `hold` keeps the upload waiting after its first
 * chunk until it resolves (a slow client).
 */
export function postLarge(
  url: string,
  path: string,
  headers: Record<string, string>,
  total: number,
  o: { server?: http.Server; hold?: Promise<void> } = {},
): Promise<LargePost> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let serverSocket: Socket | undefined;
    let answer: Omit<LargePost, 'bytesSent'> | undefined;
    let serverClosed = !o.server;
    let sent = 0;
    const finish = () => {
      if (answer && serverClosed)
        resolve({
          ...answer,
          bytesSent: sent,
          ...(serverSocket ? { serverBytesRead: serverSocket.bytesRead } : {}),
        });
    };
    const req = http.request({
      host: hostname,
      port,
      method: 'POST',
      path,
      agent: false,
      headers: { ...headers, 'content-type': 'application/xml', 'content-length': String(total) },
    });
    req.on('socket', (client: Socket) => {
      const server = o.server;
      if (!server) return;
      const onConnection = (s: Socket) => {
        if (s.remotePort !== client.localPort) return;
        server.off('connection', onConnection);
        serverSocket = s;
        s.once('close', () => {
          serverClosed = true;
          finish();
        });
      };
      server.on('connection', onConnection);
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        answer = {
          status: res.statusCode!,
          code: body.startsWith('{') ? (JSON.parse(body) as { code: string }).code : undefined,
          retryAfter: res.headers['retry-after'],
        };
        req.destroy(); // the answer is all we wanted: closing our side ends a held upload too
        finish();
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (answer) return;
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') return reject(err);
    });
    req.on('close', () => {
      if (answer || o.server) return;
      answer = { status: 0, code: undefined, retryAfter: undefined };
      finish();
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let wake: (() => void) | undefined;
    const wakeUp = () => wake?.();
    req.on('drain', wakeUp).on('close', wakeUp).on('response', wakeUp);
    void (async () => {
      while (sent < total && !answer && !req.destroyed) {
        const n = Math.min(chunk.length, total - sent);
        req.write(chunk.subarray(0, n));
        sent += n;
        if (sent === n && o.hold) await o.hold;
        if (req.writableNeedDrain) await new Promise<void>((r) => (wake = r));
      }
      if (!req.destroyed) req.end();
    })();
  });
}
