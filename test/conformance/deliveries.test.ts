/**
 * Deliveries, the pull inbox, the outbox and dead letters behave the same on every adapter
 * (harness.ts): every conditional update runs here in the FerretDB dialect (read, then update by
 * `_id`) and in the MongoDB dialect (`findOneAndUpdate`).
 */
import { expect } from 'chai';
import { createMongoStores } from '../../src/store/stores.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { INITIAL_BUSINESS_STATE } from '../../src/domain/status.ts';
import type { DeliveryRecord } from '../../src/domain/types.ts';
import { describeAdapters, type AdapterContext } from './harness.ts';

const KEY = 'conformance-test-key-not-a-secret';
const T0 = new Date('2026-03-02T08:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function delivery(docId: string, recipientCode: string, over: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    id: `${docId}:${recipientCode}`,
    docId,
    documentId: `000.00.00.H29,2026/03/02,${docId}/UBND`,
    messageType: 'edoc',
    senderCode: '000.00.00.H29',
    recipientCode,
    transport: 'queued',
    attempts: 0,
    queuedAt: T0,
    business: INITIAL_BUSINESS_STATE,
    timeline: [],
    version: 0,
    ...over,
  };
}

async function open(ctx: () => AdapterContext) {
  const { conn, adapter } = ctx();
  return createMongoStores(conn, KEY, { dialect: adapter.dialect });
}

describeAdapters('DeliveryStore', (ctx) => {
  it('acknowledges a listed delivery by `_id` alone in the FerretDB dialect (a condition scans there)', async function () {
    const { adapter, dbName } = ctx();
    if (adapter.dialect !== 'id-only') this.skip();
    // A second connection to the test's database, with command monitoring, to see the filters sent.
    const watched = await connectMongo(adapter.uri, { dbName, onStatement: () => undefined });
    try {
      const filters: string[] = [];
      watched.getClient().on('commandStarted', (e) => {
        const cmd = e.command as Record<string, unknown>;
        if (cmd[e.commandName] !== 'deliveries') return;
        const updates = cmd.updates as { q?: object }[] | undefined;
        const q: object | undefined = cmd.query ?? cmd.filter ?? updates?.[0]?.q;
        if (q) filters.push(`${e.commandName} {${Object.keys(q).join(',')}}`);
      });
      const { deliveries } = await createMongoStores(watched, KEY, { dialect: adapter.dialect });
      const d = delivery('d0', 'H41');
      await deliveries.insertMany([d]);
      await deliveries.markAvailable(d.id, at(1));
      filters.length = 0;
      const acked = await deliveries.acknowledge(d.id, ['H41'], 'done', undefined, at(2));
      expect(acked).to.not.be.oneOf(['not-found', 'conflict']);
      expect((acked as { first: boolean }).first).to.equal(true);
      expect(filters.length).to.be.greaterThan(0);
      expect(
        filters.filter((f) => !f.endsWith(' {_id}')),
        'filters other than `_id` alone',
      ).to.deep.equal([]);
      // A repeat is answered with the first acknowledgement, and changes nothing.
      const again = await deliveries.acknowledge(d.id, ['H41'], 'fail', 'late', at(3));
      expect((again as { first: boolean }).first).to.equal(false);
      expect((await deliveries.get(d.id))?.ackedAt?.getTime()).to.equal(at(2).getTime());
    } finally {
      await watched.close();
    }
  });

  it('makes a delivery available once and lists it; a redelivered task lists it again, nothing more', async () => {
    const { deliveries, models } = await open(ctx);
    const d = delivery('d1', 'H41');
    await deliveries.insertMany([d]);
    await deliveries.insertMany([d]); // a replayed submission: left as it is
    expect(await deliveries.markAvailable('nope', at(1))).to.equal(null);
    const first = await deliveries.markAvailable(d.id, at(1));
    expect(first?.made).to.equal(true);
    expect(first?.delivery).to.deep.include({ transport: 'available', attempts: 1, version: 1 });
    expect(first?.delivery.availableAt?.getTime()).to.equal(at(1).getTime());
    // A stop between the update and the listing: the redelivery lists it.
    await models.InboxEntry.deleteOne({ _id: d.id });
    const again = await deliveries.markAvailable(d.id, at(2));
    expect(again?.made).to.equal(false);
    expect(again?.delivery.availableAt?.getTime()).to.equal(at(1).getTime());
    const items = await deliveries.inbox({ recipientCodes: ['H41'], limit: 10 });
    expect(items.map((i) => i.id)).to.deep.equal([d.id]);
    expect(items[0]).to.deep.include({ docId: 'd1', senderCode: '000.00.00.H29', recipientCode: 'H41' });
    expect((await deliveries.get(d.id))?.attempts).to.equal(1);
  });

  it('lists oldest first by (availableAt, id) and pages after a cursor, by recipient and type', async () => {
    const { deliveries } = await open(ctx);
    const ds = ['a', 'b', 'c', 'd'].map((x) => delivery(`doc-${x}`, 'H41'));
    const other = delivery('doc-e', 'H42');
    const status = delivery('doc-f', 'H41', { messageType: 'status' });
    await deliveries.insertMany([...ds, other, status]);
    // b and c at the same moment: ordered by id.
    await deliveries.markAvailable(ds[3]!.id, at(1));
    await deliveries.markAvailable(ds[2]!.id, at(2));
    await deliveries.markAvailable(ds[1]!.id, at(2));
    await deliveries.markAvailable(ds[0]!.id, at(3));
    await deliveries.markAvailable(other.id, at(0));
    await deliveries.markAvailable(status.id, at(0));
    const q = { recipientCodes: ['H41'], messageType: 'edoc' as const };
    const page1 = await deliveries.inbox({ ...q, limit: 2 });
    expect(page1.map((i) => i.docId)).to.deep.equal(['doc-d', 'doc-b']);
    const page2 = await deliveries.inbox({ ...q, limit: 2, after: page1[1]!.id });
    expect(page2.map((i) => i.docId)).to.deep.equal(['doc-c', 'doc-a']);
    expect(await deliveries.inbox({ ...q, limit: 2, after: page2[1]!.id })).to.deep.equal([]);
    expect((await deliveries.inbox({ recipientCodes: ['H41'], limit: 10 })).map((i) => i.docId)).to.include(
      'doc-f',
    );
  });

  it('acknowledges by its recipient once delivered, idempotently, and unlists it', async () => {
    const { deliveries } = await open(ctx);
    const d = delivery('d2', 'H41');
    await deliveries.insertMany([d]);
    // Not delivered yet, or not the caller's: the same answer as absent.
    expect(await deliveries.acknowledge(d.id, ['H41'], 'done', undefined, at(1))).to.equal('not-found');
    await deliveries.markAvailable(d.id, at(1));
    expect(await deliveries.acknowledge(d.id, ['H42'], 'done', undefined, at(2))).to.equal('not-found');
    expect(await deliveries.acknowledge('nope', ['H41'], 'done', undefined, at(2))).to.equal('not-found');
    const acked = await deliveries.acknowledge(d.id, ['H40', 'H41'], 'fail', 'unreadable', at(2));
    expect(acked).to.have.property('first', true);
    expect(typeof acked === 'object' && acked.delivery).to.deep.include({
      transport: 'acknowledged',
      ack: { result: 'fail', reason: 'unreadable' },
    });
    expect(typeof acked === 'object' && acked.delivery.version).to.equal(2);
    expect(await deliveries.inbox({ recipientCodes: ['H41'], limit: 10 })).to.deep.equal([]);
    // Again: the first acknowledgement, unchanged, and told apart as a repeat.
    const again = await deliveries.acknowledge(d.id, ['H41'], 'done', undefined, at(3));
    expect(again).to.have.property('first', false);
    expect(typeof again === 'object' && again.delivery).to.deep.include({
      transport: 'acknowledged',
      ack: { result: 'fail', reason: 'unreadable' },
      version: 2,
    });
    expect((await deliveries.get(d.id))?.ackedAt?.getTime()).to.equal(at(2).getTime());
    // A failed delivery cannot be acknowledged.
    const f = delivery('d3', 'H41');
    await deliveries.insertMany([f]);
    await deliveries.markRefused(f.id, 'no', at(1));
    expect(await deliveries.acknowledge(f.id, ['H41'], 'done', undefined, at(2))).to.equal('conflict');
  });

  it('acknowledges a listed delivery through its inbox entry; one left unlisted by a stop, on retry', async () => {
    const { deliveries, models } = await open(ctx);
    const d = delivery('d5', 'H41');
    await deliveries.insertMany([d]);
    await deliveries.markAvailable(d.id, at(1));
    // The entry of another recipient's delivery is not removed by this caller.
    expect(await deliveries.acknowledge(d.id, ['H42'], 'done', undefined, at(2))).to.equal('not-found');
    expect(await models.InboxEntry.countDocuments({ _id: d.id })).to.equal(1);
    // A stop between the two writes of an acknowledgement: unlisted, still available.
    await models.InboxEntry.deleteOne({ _id: d.id });
    expect((await deliveries.get(d.id))?.transport).to.equal('available');
    const retried = await deliveries.acknowledge(d.id, ['H41'], 'done', undefined, at(3));
    expect(retried).to.have.property('first', true);
    expect(typeof retried === 'object' && retried.delivery).to.deep.include({
      transport: 'acknowledged',
      ack: { result: 'done' },
    });
    // A stop the other way round: acknowledged, still listed. The entry goes; the answer is a repeat.
    await models.InboxEntry.collection.insertOne({ _id: d.id, r: 'H41', at: at(1) } as never);
    const listedAgain = await deliveries.acknowledge(d.id, ['H41'], 'fail', 'late', at(4));
    expect(listedAgain).to.have.property('first', false);
    expect(typeof listedAgain === 'object' && listedAgain.delivery.ack).to.deep.equal({ result: 'done' });
    expect(await models.InboxEntry.countDocuments({ _id: d.id })).to.equal(0);
    expect((await deliveries.get(d.id))?.ackedAt?.getTime()).to.equal(at(3).getTime());
    // Pushed deliveries have no inbox entry: acknowledged through the conditional update.
    const p = delivery('d6', 'H41');
    await deliveries.insertMany([p]);
    await deliveries.markPushed(p.id, at(1));
    const pushed = await deliveries.acknowledge(p.id, ['H41'], 'done', undefined, at(2));
    expect(pushed).to.have.property('first', true);
    expect(typeof pushed === 'object' && pushed.delivery).to.deep.include({ transport: 'acknowledged' });
    expect(await deliveries.acknowledge(p.id, ['H41'], 'done', undefined, at(3))).to.have.property(
      'first',
      false,
    );
  });

  it('applies a business status with an optimistic version', async () => {
    const { deliveries } = await open(ctx);
    const d = delivery('d4', 'H41');
    await deliveries.insertMany([d]);
    const entry = { code: '03' as const, at: at(1), by: 'H41', statusDocId: 's1' };
    expect(await deliveries.applyStatus(d.id, 0, { code: '03', pending: null }, entry)).to.equal(true);
    expect(await deliveries.applyStatus(d.id, 0, { code: '05', pending: null })).to.equal(false);
    expect(await deliveries.applyStatus('nope', 0, { code: '05', pending: null })).to.equal(false);
    const now = await deliveries.get(d.id);
    expect(now).to.deep.include({ version: 1, business: { code: '03', pending: null } });
    expect(now?.timeline.map((t) => t.statusDocId)).to.deep.equal(['s1']);
  });

  it('pushes or refuses only from queued, and records failures and dead letters', async () => {
    const { deliveries } = await open(ctx);
    const [p, r, x] = ['P', 'R', 'X'].map((c) => delivery('d5', c));
    await deliveries.insertMany([p!, r!, x!]);
    await deliveries.recordFailure(p!.id, 'ECONNREFUSED', false);
    expect((await deliveries.get(p!.id))?.lastError).to.equal('ECONNREFUSED');
    expect(await deliveries.markPushed(p!.id, at(1))).to.equal(true);
    expect(await deliveries.markPushed(p!.id, at(2))).to.equal(false);
    const pushed = await deliveries.get(p!.id);
    expect(pushed).to.deep.include({ transport: 'pushed', attempts: 2 });
    expect(pushed).not.to.have.property('lastError');
    await deliveries.markRefused(r!.id, 'schema', at(1));
    const refused = await deliveries.get(r!.id);
    expect(refused).to.deep.include({
      transport: 'failed',
      lastError: 'schema',
      business: { code: '02', pending: null },
    });
    expect(refused?.timeline.map((t) => t.code)).to.deep.equal(['02']);
    await deliveries.markRefused(r!.id, 'again', at(2)); // past queued: nothing
    expect((await deliveries.get(r!.id))?.timeline).to.have.length(1);

    await deliveries.recordFailure(x!.id, 'gave up', true);
    expect((await deliveries.get(x!.id))?.transport).to.equal('dead-lettered');
    await deliveries.markDeadLettered(x!.id);
    expect(await deliveries.requeue(x!.id)).to.equal(true);
    expect(await deliveries.get(x!.id)).to.deep.include({ transport: 'queued', attempts: 0 });
    expect(await deliveries.requeue(p!.id)).to.equal(false); // already delivered
    await deliveries.markDeadLettered(p!.id); // delivered: left alone
    expect((await deliveries.get(p!.id))?.transport).to.equal('pushed');
  });

  it('finds overdue deliveries, waiting ones, and endpoint activity', async () => {
    const { deliveries } = await open(ctx);
    const late = delivery('d6', 'H41', { deadline: at(10) });
    const later = delivery('d7', 'H41', { deadline: at(20) });
    const accepted = delivery('d8', 'H41', { deadline: at(5), business: { code: '03', pending: null } });
    await deliveries.insertMany([late, later, accepted]);
    expect((await deliveries.overdue(at(30), 10)).map((d) => d.id)).to.deep.equal([late.id, later.id]);
    expect((await deliveries.overdue(at(15), 10)).map((d) => d.id)).to.deep.equal([late.id]);
    expect((await deliveries.waiting(at(1))).map((d) => d.id).sort()).to.deep.equal(
      [late.id, later.id, accepted.id].sort(),
    );
    expect(await deliveries.waiting(at(-1))).to.deep.equal([]);
    await deliveries.recordFailure(late.id, 'ECONNREFUSED', false);
    await deliveries.markAvailable(later.id, new Date());
    const act = await deliveries.endpointActivity(['H41'], new Date(Date.now() - 60_000));
    expect(act.failures.map((f) => f.lastError)).to.deep.equal(['ECONNREFUSED']);
    expect(act.deliveries.map((d) => d.recipientCode)).to.deep.equal(['H41']);
  });
});

describeAdapters('OutboxStore', (ctx) => {
  it('holds entries until sent, due after their grace period, oldest first', async () => {
    const { outbox } = await open(ctx);
    const e = (id: string, s: number) => ({
      id,
      docId: 'd',
      deliveryId: id,
      recipientCode: 'H41',
      createdAt: at(s),
    });
    await outbox.insertMany([e('b', 2), e('a', 1), e('c', 3)]);
    await outbox.insertMany([e('a', 1)]); // a replay: left as it is
    expect((await outbox.due(at(2), 10)).map((x) => x.id)).to.deep.equal(['a', 'b']);
    expect((await outbox.due(at(3), 1)).map((x) => x.id)).to.deep.equal(['a']);
    await outbox.markSent(['a'], at(4));
    await outbox.remove(['c']);
    expect((await outbox.due(at(9), 10)).map((x) => x.id)).to.deep.equal(['b']);
  });
});

describeAdapters('DeadLetterStore', (ctx) => {
  it('records, lists newest first, marks replayed, records again as not replayed', async () => {
    const { deadLetters } = await open(ctx);
    await deadLetters.record({
      id: 'x:H41',
      deliveryId: 'x:H41',
      docId: 'x',
      recipientCode: 'H41',
      reason: 'r1',
      deadAt: at(1),
      content: Buffer.from('{}'),
    });
    await deadLetters.record({ id: 'raw-1', reason: 'poison', deadAt: at(2), content: Buffer.from('nope') });
    expect((await deadLetters.list({ includeReplayed: false, limit: 10 })).map((d) => d.id)).to.deep.equal([
      'raw-1',
      'x:H41',
    ]);
    await deadLetters.markReplayed('x:H41', 1, at(3));
    expect((await deadLetters.list({ includeReplayed: false, limit: 10 })).map((d) => d.id)).to.deep.equal([
      'raw-1',
    ]);
    expect(await deadLetters.get('x:H41')).to.deep.include({ replayCount: 1 });
    const again = await deadLetters.record({
      id: 'x:H41',
      deliveryId: 'x:H41',
      docId: 'x',
      recipientCode: 'H41',
      reason: 'r2',
      deadAt: at(4),
      content: Buffer.from('{}'),
    });
    expect(again).to.deep.include({ reason: 'r2', replayCount: 1 });
    expect(again).not.to.have.property('replayedAt');
    expect((await deadLetters.getMany(['x:H41', 'none'])).map((d) => d.id)).to.deep.equal(['x:H41']);
    const without = [];
    for await (const d of deadLetters.withoutDelivery()) without.push(d.id);
    expect(without).to.deep.equal(['raw-1']);
    expect((await deadLetters.get('raw-1'))?.content.toString()).to.equal('nope');
    expect(await deadLetters.removeWithoutDelivery(['raw-1', 'x:H41'])).to.equal(1);
    expect((await deadLetters.list({ includeReplayed: true, limit: 10 })).map((d) => d.id)).to.deep.equal([
      'x:H41',
    ]);
  });
});
