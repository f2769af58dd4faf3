/**
 * A loopback HTTP proxy in front of a test hub that misbehaves on purpose, per request:
 *   'forward'       pass the request and the answer through;
 *   '503'           answer 503 UNAVAILABLE itself (the hub never sees the request);
 *   'lose-answer'   forward to the hub, then drop the connection instead of returning the answer
 *                   (the hub did the work; the client saw a network failure, as after a timeout);
 *   'hold-answer'   forward to the hub, then keep the answer and the connection (the hub did the work;
 *                   the client waits): the window between the hub's acceptance and the caller's record,
 *                   for a test to kill the caller in. `hubStatus` in the log says the hub has answered.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxyAction = 'forward' | '503' | 'lose-answer' | 'hold-answer';

export interface FlakyProxy {
  readonly url: string;
  /** Requests seen, with the action taken. */
  readonly log: { method: string; path: string; action: ProxyAction; hubStatus?: number }[];
  close(): Promise<void>;
}

export async function startFlakyProxy(
  target: string,
  policy: (n: number, req: http.IncomingMessage) => ProxyAction,
): Promise<FlakyProxy> {
  const log: FlakyProxy['log'] = [];
  const sockets = new Set<Socket>();
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const action = policy(++n, req);
      const entry: FlakyProxy['log'][number] = { method: req.method ?? '', path: req.url ?? '', action };
      log.push(entry);
      if (action === '503') {
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'UNAVAILABLE', message: 'Service temporarily unavailable (proxy)' }));
        return;
      }
      const up = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
        (upRes) => {
          const body: Buffer[] = [];
          upRes.on('data', (c: Buffer) => body.push(c));
          upRes.on('end', () => {
            entry.hubStatus = upRes.statusCode;
            if (action === 'lose-answer') return void req.socket.destroy();
            if (action === 'hold-answer') return; // answered by nobody; closed with the proxy
            res.writeHead(upRes.statusCode ?? 502, upRes.headers).end(Buffer.concat(body));
          });
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
