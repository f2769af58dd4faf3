/**
 * The broker stopped and restarted mid-load, on a dedicated RabbitMQ node started by the test:
 * submissions keep being accepted while it is down (persisted, left to the outbox relay), and after
 * it is back every accepted document reaches every recipient exactly once.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { HubClient } from '../../src/sdk/client.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { devSigningKey } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { HubProcess, RabbitNode, freePort, retrying } from './harness.ts';

const N = Number(process.env.FAULT_DOCS ?? 100);
const RECIPIENTS = ['H41.001', 'D41.001', 'M41.001'];

describe('reliability when the broker stops mid-load', function () {
  this.timeout(300_000);
  let rabbit: RabbitNode;
  let hub: HubProcess;
  const db = `brk_${randomBytes(4).toString('hex')}`;

  before(async function () {
    if (!RabbitNode.available() || !existsSync(path.join(PROJECT_ROOT, '.cache/bin/ferretdb'))) {
      console.log('      skipped: rabbitmq-server or the FerretDB binary is not installed');
      this.skip();
    }
    rabbit = await RabbitNode.create();
    await rabbit.start();
    hub = new HubProcess(await freePort(), {
      MONGODB_URI: `mongodb://127.0.0.1:27017/${db}`,
      AMQP_URL: rabbit.url,
      AMQP_SHARDS: '2',
      LOG_LEVEL: 'error',
      VERIFY_WORKERS: '1',
    });
    await hub.start();
  });

  after(async () => {
    await hub?.stop();
    rabbit?.stop();
    const conn = await connectMongo(`mongodb://127.0.0.1:27017/${db}`);
    await conn.dropDatabase();
    await conn.close();
  });

  it('accepts while the broker is down and delivers everything exactly once after it is back', async () => {
    const sender = new HubClient({
      baseUrl: hub.url,
      systemId: 'dms-H29.001',
      secret: 'DEV-ONLY-secret-H29.001',
    });
    const key = devSigningKey('H29.001');
    const messages = Array.from({ length: N }, () => documentMessage('H29.001', RECIPIENTS));
    let acceptedWhileDown = 0;
    let brokerDown = false;
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      if (i === Math.floor(N / 3)) {
        rabbit.stop();
        brokerDown = true;
      }
      if (i === Math.floor((2 * N) / 3)) {
        await rabbit.start();
        brokerDown = false;
      }
      await retrying(() => sender.submit(signed(messages[i]!, key)));
      if (brokerDown) acceptedWhileDown++;
    }
    const conn = await connectMongo(`mongodb://127.0.0.1:27017/${db}`);
    const Delivery = conn.collection('deliveries');
    const end = Date.now() + 120_000;
    let available = 0;
    while (Date.now() < end) {
      available = await Delivery.countDocuments({ messageType: 'edoc', transport: 'available' });
      if (available === N * RECIPIENTS.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await conn.close();
    expect(acceptedWhileDown).to.be.greaterThan(0);
    expect(available).to.equal(N * RECIPIENTS.length);
    for (const code of RECIPIENTS) {
      const c = new HubClient({
        baseUrl: hub.url,
        systemId: `dms-${code}`,
        secret: `DEV-ONLY-secret-${code}`,
      });
      const items = (await c.inbox({ type: 'edoc', limit: 500 })).items;
      expect(new Set(items.map((i) => i.documentId)).size).to.equal(N);
      expect(items.length).to.equal(N);
    }
    console.log(
      `      broker restart: ${N} documents × ${RECIPIENTS.length} recipients, ${acceptedWhileDown} accepted while the broker was down, all ${available} deliveries made once, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });
});
