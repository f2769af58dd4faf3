/**
 * A worker-only process (HUB_ROLES=worker) serves health, readiness and metrics on its port, and no
 * agency API: orchestrators probe it and Prometheus scrapes its delivery counters.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createHub, type Hub } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { purgeHub } from '../support/hub.ts';

describe('worker role: health and metrics endpoints', function () {
  this.timeout(60_000);
  let hub: Hub;
  let cleaned = false;

  // A worker process of each test's own: one test stops it (a shared one failed the other after it).
  beforeEach(async () => {
    const suffix = randomBytes(4).toString('hex');
    const config = loadConfig(process.env, {
      roles: ['worker'],
      http: { port: 0, host: '127.0.0.1' },
      amqp: { prefix: `t.wrk${suffix}`, shards: 1 },
      log: { level: 'silent' },
    });
    cleaned = false;
    hub = await createHub(config, {
      dbName: `t_worker_${suffix}`,
      log: createLogger('silent'),
      defaultMetrics: false,
    });
  });

  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await purgeHub(hub);
  };

  afterEach(async () => {
    if (!hub) return;
    await cleanup();
    await hub.stop(); // safe when the test stopped it already
  });

  it('answers /healthz, /readyz and /metrics, and no /v1', async () => {
    expect(hub.url, 'no agency API').to.equal(null);
    const health = await fetch(`${hub.healthUrl}/healthz`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok', roles: ['worker'] });
    const ready = await fetch(`${hub.healthUrl}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({
      status: 'ready',
      checks: { mongodb: true, rabbitmq: true },
    });
    const metrics = await (await fetch(`${hub.healthUrl}/metrics`)).text();
    expect(metrics).to.contain('hub_deliveries_delivered_total');
    const v1 = await fetch(`${hub.healthUrl}/v1/inbox`);
    expect(v1.status).to.equal(404);
  });

  it('answers 503 on /readyz once stopping', async () => {
    await cleanup();
    const stopping = hub.stop();
    // The HTTP server closes first; a request racing the close gets 503 or a refused connection.
    const r = await fetch(`${hub.healthUrl}/readyz`).then(
      (res) => res.status,
      () => 'closed',
    );
    await stopping;
    expect([503, 'closed']).to.include(r);
  });
});
