/** HubClient transport: retries with backoff on transient failures only, timeouts, final errors. */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HubApiError, HubClient, type RetryEvent } from '../../../src/sdk/client.ts';
import { SdkError } from '../../../src/sdk/errors.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

async function serve(handler: Handler): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => handler(req, res, n));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => n,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

const unavailable = { code: 'UNAVAILABLE', message: 'Service temporarily unavailable' };

function client(
  url: string,
  events: RetryEvent[],
  extra: Partial<ConstructorParameters<typeof HubClient>[0]> = {},
) {
  return new HubClient({
    baseUrl: url,
    systemId: 'dms-H29.001',
    secret: 'DEV-ONLY-secret-H29.001',
    retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 200 },
    onRetry: (e) => events.push(e),
    ...extra,
  });
}

describe('HubClient retries and timeouts', function () {
  this.timeout(20_000);
  const servers: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('retries 503 UNAVAILABLE twice with backoff, then returns the answer; every attempt is signed', async () => {
    const auth: string[] = [];
    const s = await serve((req, res, n) => {
      auth.push(String(req.headers.authorization));
      if (n <= 2) return json(res, 503, unavailable);
      json(res, 200, { items: [{ id: 'x:H29.001' }] });
    });
    servers.push(s);
    const events: RetryEvent[] = [];
    const r = await client(s.url, events).inbox();
    expect(r.items).to.deep.equal([{ id: 'x:H29.001' }]);
    expect(s.hits()).to.equal(3);
    expect(events.map((e) => [e.attempt, e.reason])).to.deep.equal([
      [1, 'HTTP 503 UNAVAILABLE'],
      [2, 'HTTP 503 UNAVAILABLE'],
    ]);
    // jitter within [d/2, d], d doubling from the base
    expect(events[0]!.delayMs).to.be.within(10, 20);
    expect(events[1]!.delayMs).to.be.within(20, 40);
    expect(auth.every((a) => a.startsWith('HUB1-HMAC-SHA256 '))).to.equal(true);
  });

  it('never retries a refusal (4xx): the hub’s code comes back at once', async () => {
    const s = await serve((_req, res) =>
      json(res, 422, { code: 'SIGNATURE_INVALID', message: 'The XML signature does not verify', id: 'e1' }),
    );
    servers.push(s);
    const events: RetryEvent[] = [];
    const err = await client(s.url, events)
      .submit('<edXML/>')
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(HubApiError);
    expect(err).to.include({ code: 'SIGNATURE_INVALID', status: 422, errorId: 'e1' });
    expect(s.hits()).to.equal(1);
    expect(events).to.deep.equal([]);
  });

  it('gives up after the last attempt: HubApiError UNAVAILABLE for a hub that keeps answering 503', async () => {
    const s = await serve((_req, res) => json(res, 503, unavailable));
    servers.push(s);
    const events: RetryEvent[] = [];
    const err = await client(s.url, events)
      .ack('a:b')
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HubApiError);
    expect(err).to.include({ code: 'UNAVAILABLE', status: 503 });
    expect(s.hits()).to.equal(4);
    expect(events).to.have.length(3);
  });

  it('honours Retry-After on 429 (capped by maxDelayMs)', async () => {
    const s = await serve((_req, res, n) =>
      n === 1
        ? json(res, 429, { code: 'RATE_LIMITED', message: 'Too many requests' }, { 'retry-after': '1' })
        : json(res, 200, { items: [] }),
    );
    servers.push(s);
    const events: RetryEvent[] = [];
    await client(s.url, events, { retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 5_000 } }).inbox();
    expect(events).to.have.length(1);
    expect(events[0]!.delayMs).to.equal(1000);
  });

  it('retries a refused connection (hub down) and ends with SdkError HUB_UNREACHABLE', async () => {
    const s = await serve((_req, res) => json(res, 200, {}));
    const url = s.url;
    await s.close(); // nothing listens on that port any more
    const events: RetryEvent[] = [];
    const err = await client(url, events)
      .document('d1')
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SdkError);
    expect((err as SdkError).code).to.equal('HUB_UNREACHABLE');
    expect((err as SdkError).details).to.deep.include({ attempts: 4 });
    expect(events.map((e) => e.reason)).to.deep.equal(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('times out a request that gets no answer and retries it; SdkError TIMEOUT when none answers', async () => {
    const s = await serve((_req, res, n) => {
      if (n === 1) return; // never answers the first attempt
      json(res, 200, { items: [] });
    });
    servers.push(s);
    const events: RetryEvent[] = [];
    const r = await client(s.url, events, { timeoutMs: 300 }).inbox();
    expect(r.items).to.deep.equal([]);
    expect(events.map((e) => e.reason)).to.deep.equal(['timeout']);

    const silent = await serve(() => undefined);
    servers.push(silent);
    const err = await client(silent.url, [], { timeoutMs: 200, retry: { attempts: 2, baseDelayMs: 10 } })
      .inbox()
      .catch((e: unknown) => e);
    expect((err as SdkError).code).to.equal('TIMEOUT');
    expect(silent.hits()).to.equal(2);
  });

  it('retries a connection reset mid-answer', async () => {
    const s = await serve((req, res, n) => {
      if (n === 1) return req.socket.destroy();
      json(res, 200, { items: [] });
    });
    servers.push(s);
    const events: RetryEvent[] = [];
    await client(s.url, events).inbox();
    expect(s.hits()).to.equal(2);
    expect(events).to.have.length(1);
  });

  it('makes a single attempt with retry: false', async () => {
    const s = await serve((_req, res) => json(res, 503, unavailable));
    servers.push(s);
    const err = await client(s.url, [], { retry: false })
      .inbox()
      .catch((e: unknown) => e);
    expect((err as HubApiError).code).to.equal('UNAVAILABLE');
    expect(s.hits()).to.equal(1);
  });
});
