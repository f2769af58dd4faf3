/**
 * Push delivery to an agency endpoint on loopback: hub-signed requests, retries with backoff while
 * the endpoint is down, eventual delivery exactly once, and a refusal (4xx) ending the delivery.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../../src/config.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { verifyPushRequest } from '../../src/delivery/push.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { watchTasks, type TaskWatch } from '../support/task-watch.ts';

describe('push delivery', function () {
  this.timeout(90_000);
  let t: TestHub;
  let server: http.Server;
  let mode: 'down' | 'up' | 'refuse' = 'down';
  const received = new Map<string, number>(); // delivery id → times received while up
  let attemptsWhileDown = 0;
  let badSignatures = 0;
  const hubCert = readFileSync(path.join(PROJECT_ROOT, 'certs-dev/hub.pem'), 'utf8');

  let trust: TrustStore;
  let tasks: TaskWatch | undefined;

  before(async () => {
    trust = await TrustStore.fromDirectory(path.join(PROJECT_ROOT, 'certs-dev'));
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        const id = String(req.headers['x-hub-delivery-id']);
        // As a receiving agency would: the hub certificate must be a pinned hub signing certificate.
        const ok = await verifyPushRequest(
          {
            deliveryId: id,
            timestamp: String(req.headers['x-hub-timestamp']),
            signature: String(req.headers['x-hub-signature']),
          },
          body,
          hubCert,
          { trust, pins: loadConfig().pki.hubPins },
        ).then(
          () => true,
          () => false,
        );
        if (!ok) badSignatures++;
        if (mode === 'down') {
          attemptsWhileDown++;
          res.writeHead(503).end();
        } else if (mode === 'refuse') res.writeHead(422).end();
        else {
          received.set(id, (received.get(id) ?? 0) + 1);
          res.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/edxml`;
    t = await startTestHub('push', {
      delivery: {
        retryDelaysMs: [300, 600, 1200],
        maxAttempts: 20,
        breakerThreshold: 3,
        breakerCooldownMs: 500,
      },
    });
    await t.hub.stores.models.Agency.updateOne(
      { _id: 'H41.001' },
      { $set: { delivery: { mode: 'push', url } } },
    );
    t.hub.services.directoryCache.invalidate(); // changed behind the hub's back
  });
  afterEach(() => {
    tasks?.stop();
    tasks = undefined;
  });
  after(async () => {
    await t?.close();
    server?.close();
  });

  it('retries while the endpoint is down and delivers every document exactly once when it is back', async () => {
    // This test's own endpoint state, whichever test ran before.
    mode = 'down';
    attemptsWhileDown = 0;
    badSignatures = 0;
    received.clear();
    tasks = watchTasks(t.hub);
    const A = t.client('H29.001');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push(
        (await A.submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')))).docId,
      );
    await eventually(() => attemptsWhileDown >= 3, 20_000, 'failed attempts while down');
    const view = await A.document(ids[0]!);
    expect(view.deliveries[0]!.transport).to.equal('queued');
    mode = 'up';
    await eventually(() => received.size === 10, 60_000, 'all ten pushed');
    // Late duplicates: once every task published has been taken and nothing runs, none can come.
    await tasks.settled();
    expect([...received.values()].every((n) => n === 1)).to.equal(true);
    expect(badSignatures).to.equal(0);
    const after = await A.document(ids[0]!);
    expect(after.deliveries[0]!.transport).to.equal('pushed');
    console.log(
      `      push: ${attemptsWhileDown} refused attempts while down, ${received.size} deliveries after recovery, 0 duplicates`,
    );
  });

  it('ends the delivery as failed when the endpoint refuses the document (4xx)', async () => {
    mode = 'refuse';
    const r = await t
      .client('H29.001')
      .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
    const d = await eventually(
      async () => {
        const v = await t.client('H29.001').document(r.docId);
        return v.deliveries[0]!.transport === 'failed' ? v.deliveries[0] : null;
      },
      20_000,
      'refusal recorded',
    );
    expect((d as unknown as { lastError: string }).lastError).to.contain('HTTP 422');
    expect(d.status).to.equal('02');
    expect(d.timeline.map((e) => e.code)).to.deep.equal(['02']);
  });
});
