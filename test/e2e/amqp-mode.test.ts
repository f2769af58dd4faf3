/** AMQP delivery mode: the hub republishes to the agency's own queue; the agency's user may only read it. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import amqp from 'amqplib';
import { PROJECT_ROOT } from '../../src/config.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('amqp delivery mode', function () {
  this.timeout(60_000);
  let t: TestHub;
  let user: string | undefined;
  before(async () => {
    t = await startTestHub('amqpmode');
    await t.hub.stores.models.Agency.updateOne({ _id: 'H41.001' }, { $set: { delivery: { mode: 'amqp' } } });
  });
  after(async () => {
    if (user) spawnSync('rabbitmqctl', ['-q', 'delete_user', user]);
    await t.hub.broker
      .withChannel((ch) => ch.deleteQueue(t.hub.topology.agencyQueue('H41.001')))
      .catch(() => undefined);
    await t?.close();
  });

  it('puts the exact signed bytes on the agency queue, which a provisioned read-only user consumes', async () => {
    const xml = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001'));
    const r = await t.client('H29.001').submit(xml);
    const queue = t.hub.topology.agencyQueue('H41.001');
    await eventually(
      async () => (await t.client('H29.001').document(r.docId)).deliveries[0]!.transport === 'pushed',
      15_000,
      'amqp delivery',
    );
    const prov = spawnSync(
      'bash',
      [path.join(PROJECT_ROOT, 'scripts/provision-amqp-agency.sh'), 'H41.001', t.hub.topology.prefix],
      { encoding: 'utf8' },
    );
    expect(prov.status, prov.stderr).to.equal(0);
    user = /user:\s+(\S+)/.exec(prov.stdout)![1];
    const pass = /password:\s+(\S+)/.exec(prov.stdout)![1]!;
    const conn = await amqp.connect(`amqp://${user}:${pass}@127.0.0.1:5672`);
    try {
      const ch = await conn.createChannel();
      const msg = await eventually(
        async () => ch.get(queue, { noAck: false }),
        10_000,
        'message on the agency queue',
      );
      expect(msg.content.toString('utf8')).to.equal(xml);
      expect(msg.properties.messageId).to.equal(`${r.docId}:H41.001`);
      ch.ack(msg);
      // Least privilege: the agency user cannot publish.
      const ch2 = await conn.createConfirmChannel();
      ch2.on('error', () => undefined);
      const refused = await new Promise<boolean>((resolve) => {
        ch2.publish(t.hub.topology.deliverExchange, 'shard.0', Buffer.from('x'), {}, (err) => resolve(!!err));
        ch2.once('close', () => resolve(true));
      });
      expect(refused).to.equal(true);
    } finally {
      await conn.close().catch(() => undefined);
    }
  });
});
