/**
 * After a MongoDB restore the broker's queues no longer match the data: a delivery restored as
 * `queued` whose task was already consumed waits forever. `hubctl deliveries requeue` re-sends the
 * tasks of waiting deliveries through the outbox; the delivery is then made exactly once.
 */
import { expect } from 'chai';
import { hubctlAsync } from '../support/hubctl.ts';
import { eventually, rewindDelivery, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { watchTasks, type TaskWatch } from '../support/task-watch.ts';

describe('requeue of waiting deliveries (restore repair)', function () {
  this.timeout(60_000);
  let t: TestHub;
  let tasks: TaskWatch | undefined;
  before(async () => {
    t = await startTestHub('requeue');
  });
  afterEach(() => {
    tasks?.stop();
    tasks = undefined;
  });
  after(async () => {
    await t?.close();
  });

  it('re-sends the task of a delivery left queued without one, and delivers it once', async () => {
    const m = t.hub.stores.models;
    tasks = watchTasks(t.hub);
    const msg = documentMessage('H29.001', ['H41.001', 'D41.001']);
    const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
    const stuckId = `${r.docId}:H41.001`;
    await eventually(
      async () => (await m.Delivery.countDocuments({ docId: r.docId, transport: 'available' })) === 2,
      20_000,
      'both deliveries made',
    );
    // What a restore to an earlier point leaves: the delivery queued again, its task long consumed.
    await rewindDelivery(t.hub, stuckId);
    // Nothing repairs it by itself: no task is left anywhere, and a relay pass republishes nothing.
    await tasks.settled();
    expect(await t.hub.relay!.runOnce()).to.equal(0);
    expect((await m.Delivery.findById(stuckId).lean<{ transport: string }>())!.transport).to.equal('queued');
    expect(await m.Outbox.countDocuments({})).to.equal(0);

    const cli = await hubctlAsync([
      '--json',
      'deliveries',
      'requeue',
      '--older-than',
      '600',
      '--db',
      t.dbName,
    ]);
    expect(cli.code, cli.err).to.equal(0);
    expect(JSON.parse(cli.out)).to.deep.equal({ requeued: 1, skippedUncommitted: 0 });

    await eventually(
      async () =>
        (await m.Delivery.findById(stuckId).lean<{ transport: string }>())?.transport === 'available',
      20_000,
      'requeued delivery made',
    );
    const inbox = await t.client('H41.001').inbox({ type: 'edoc' });
    expect(inbox.items.filter((i) => i.documentId === msg.documentId)).to.have.length(1);
    await tasks.settled(); // the requeued task taken, the outbox emptied: nothing more will come
    expect(await m.Outbox.countDocuments({})).to.equal(0);
    const audited = await m.Audit.countDocuments({ action: 'deliveries.requeued' });
    expect(audited).to.equal(1);

    // Nothing waits any more: a second run requeues nothing (the other delivery was never touched).
    const again = await hubctlAsync([
      '--json',
      'deliveries',
      'requeue',
      '--older-than',
      '0',
      '--db',
      t.dbName,
    ]);
    expect(JSON.parse(again.out)).to.deep.equal({ requeued: 0, skippedUncommitted: 0 });
  });
});
