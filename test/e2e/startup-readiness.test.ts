/**
 * Readiness reflects whether the process can do its job (issue 23; matrix in docs/deployment.md):
 * RabbitMQ cut off (a loopback TCP proxy in front of the real broker, closed on purpose) leaves an
 * api process ready but `degraded` — it still accepts submissions into the outbox — and makes a
 * worker-only process not ready; publishes the broker refuses (nacked by a queue that rejects them)
 * with the connection up show as `publish-refused` until a publish is confirmed again.
 */
import { expect } from 'chai';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Broker } from '../../src/broker/amqp.ts';
import { brokerEffect } from '../../src/ops/readiness.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

const RABBIT = { host: '127.0.0.1', port: 5672 };

/** A TCP proxy to RabbitMQ that can be cut (connections dropped, new ones refused) and restored. */
async function rabbitProxy() {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = net.connect(RABBIT);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Ready {
  status: string;
  checks: Record<string, boolean>;
  reasons: string[];
}

async function readyz(base: string): Promise<{ http: number; body: Ready }> {
  const r = await fetch(`${base}/readyz`);
  return { http: r.status, body: (await r.json()) as Ready };
}

describe('readiness with the broker down or refusing publishes', function () {
  this.timeout(90_000);
  let proxy: Awaited<ReturnType<typeof rabbitProxy>>;
  const hubs: TestHub[] = [];
  const suffix = randomBytes(3).toString('hex');

  const start = async (role: 'api' | 'worker') => {
    const t = await startTestHub(`startupready${role}`, {
      roles: [role],
      amqp: { urls: [proxy.url], prefix: `t.startupready${role}${suffix}`, shards: 2 },
      crypto: { verifyWorkers: 0, verifyBytesInFlight: 16 * 1024 * 1024 },
    });
    hubs.push(t);
    return t;
  };

  before(async () => {
    proxy = await rabbitProxy();
  });
  after(async () => {
    proxy.restore();
    for (const t of hubs) {
      await eventually(() => t.hub.broker.connected, 20_000, 'the broker to reconnect').catch(
        () => undefined,
      );
      await t.close();
    }
    await proxy.close();
  });

  it('api process: degraded (200) and still accepting into the outbox; ready again when the broker is back', async () => {
    const t = await start('api');
    expect((await readyz(t.url)).body.checks.rabbitmq).to.equal(true);
    proxy.cut();
    const down = await eventually(
      async () => {
        const r = await readyz(t.url);
        return r.body.checks.rabbitmq === false ? r : null;
      },
      20_000,
      'the broker to be seen down',
    );
    expect(down.http, 'stays in the load balancer').to.equal(200);
    expect(down.body.status).to.equal('degraded');
    expect(down.body.reasons).to.include('degraded: broker down, outbox relaying later');

    const msg = documentMessage('H29.001', ['H41.001']);
    const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    const waiting = await t.hub.stores.outbox.due(new Date(Date.now() + 60_000), 10);
    expect(waiting.map((e) => e.docId)).to.include(r.docId);

    proxy.restore();
    const back = await eventually(
      async () => {
        const x = await readyz(t.url);
        return x.body.checks.rabbitmq ? x : null;
      },
      20_000,
      'the broker to be back',
    );
    expect(back.http).to.equal(200);
    expect(back.body.reasons).not.to.include('degraded: broker down, outbox relaying later');
  });

  it('worker-only process: not ready (503) while the broker is down', async () => {
    const t = await start('worker');
    expect((await readyz(t.hub.healthUrl)).http).to.equal(200);
    proxy.cut();
    const down = await eventually(
      async () => {
        const r = await readyz(t.hub.healthUrl);
        return r.http === 503 ? r : null;
      },
      20_000,
      'the worker to report not ready',
    );
    expect(down.body.status).to.equal('not-ready');
    expect(down.body.checks.rabbitmq).to.equal(false);
    expect(down.body.reasons).to.include('broker down: the worker cannot deliver');
    proxy.restore();
    await eventually(
      async () => (await readyz(t.hub.healthUrl)).http === 200,
      20_000,
      'the worker ready again',
    );
  });

  it('publishes refused with the connection up: publish-refused until one is confirmed again', async () => {
    const full = `t.startupready.full.${suffix}`;
    const open = `t.startupready.open.${suffix}`;
    const broker = new Broker(
      [`amqp://guest:guest@${RABBIT.host}:${RABBIT.port}`],
      createLogger('silent'),
      async (ch) => {
        await ch.assertQueue(full, { arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
        await ch.assertQueue(open, { arguments: { 'x-expires': 60_000 } });
      },
    );
    try {
      await broker.start();
      expect(broker.health()).to.deep.equal({ state: 'up' });
      let refusal: unknown;
      await broker.publish('', full, Buffer.from('x')).catch((e: unknown) => (refusal = e));
      expect(refusal, 'nacked').to.be.instanceOf(Error);
      const health = broker.health();
      expect(health.state).to.equal('publish-refused');
      expect(broker.connected).to.equal(true);
      expect(brokerEffect(['api'], health)).to.deep.include({ up: true, effect: 'degraded' });
      expect(brokerEffect(['worker'], health)).to.deep.include({ up: true, effect: 'down' });
      await broker.publish('', open, Buffer.from('y'));
      expect(broker.health()).to.deep.equal({ state: 'up' });
    } finally {
      await broker
        .withChannel(async (ch) => {
          await ch.deleteQueue(full);
          await ch.deleteQueue(open);
        })
        .catch(() => undefined);
      await broker.close();
    }
  });
});
