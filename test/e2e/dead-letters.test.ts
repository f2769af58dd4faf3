/** Poison tasks go to the dead-letter queue with their reason; operators list, inspect and replay them. */
import { expect } from 'chai';
import { hubctl } from '../support/hubctl.ts';
import { HubClient } from '../../src/sdk/client.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('dead letters', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startTestHub('deadletters');
  });
  after(async () => {
    await t?.close();
  });

  it('dead-letters an unreadable task with its reason', async () => {
    await t.hub.broker.publish(t.hub.topology.deliverExchange, 'shard.0', Buffer.from('not a task'));
    const dl = await eventually(
      () => t.hub.stores.models.DeadLetter.findOne({ _id: /^raw-/ }).lean<{ reason: string }>(),
      15_000,
      'dead letter',
    );
    expect(dl.reason).to.equal('task is not JSON');
    const metrics = await t.hub.metrics.registry.getSingleMetricAsString('hub_dead_letters_total');
    expect(metrics).to.match(/hub_dead_letters_total [1-9]/);
  });

  describe('a delivery that cannot be made', () => {
    // H41.001's delivery mode as seeded, put back after the test whatever its outcome.
    let seeded: unknown;
    beforeEach(async () => {
      seeded = (await t.hub.stores.models.Agency.findById('H41.001').lean<{ delivery: unknown }>())!.delivery;
    });
    afterEach(async () => {
      await t.hub.stores.models.Agency.updateOne({ _id: 'H41.001' }, { $set: { delivery: seeded } });
      t.hub.services.directoryCache.invalidate(); // changed behind the hub's back
    });

    it('dead-letters a delivery that cannot be made, and delivers it once replayed after the fix', async () => {
      await t.hub.stores.models.Agency.updateOne(
        { _id: 'H41.001' },
        { $set: { delivery: { mode: 'push' } } },
      ); // no URL: poison
      t.hub.services.directoryCache.invalidate(); // changed behind the hub's back
      const msg = documentMessage('H29.001', ['H41.001']);
      const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
      const deliveryId = `${r.docId}:H41.001`;
      const list = await eventually(
        () => {
          const l = hubctl(['--json', 'deadletters', 'list', '--db', t.dbName]);
          const rows = JSON.parse(l.out || '[]') as { id: string; reason: string }[];
          return rows.find((x) => x.id === deliveryId);
        },
        20_000,
        'dead letter listed',
      );
      expect(list.reason).to.contain('push mode without an endpoint URL');
      expect((await t.client('H29.001').document(r.docId)).deliveries[0]!.transport).to.equal(
        'dead-lettered',
      );

      const admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
      const shown = (await (
        await admin.request('GET', `/v1/admin/deadletters/${encodeURIComponent(deliveryId)}`)
      ).json()) as { content: string };
      expect(shown.content).to.contain(deliveryId);

      await t.hub.stores.models.Agency.updateOne(
        { _id: 'H41.001' },
        { $set: { delivery: { mode: 'pull' } } },
      ); // the fix
      t.hub.services.directoryCache.invalidate(); // changed behind the hub's back
      const replay = hubctl(['deadletters', 'replay', deliveryId, '--db', t.dbName]);
      expect(replay.code, replay.err).to.equal(0);
      const item = await eventually(
        async () => (await t.client('H41.001').inbox()).items.find((i) => i.documentId === msg.documentId),
        20_000,
        'replayed delivery',
      );
      expect(item.id).to.equal(deliveryId);
      const again = hubctl(['deadletters', 'replay', deliveryId, '--db', t.dbName]);
      expect(again.code).to.equal(3); // already delivered: refused, nothing sent twice
    });
  });
});
