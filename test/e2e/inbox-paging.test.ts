/**
 * Inbox paging: oldest first, and a `next` cursor that neither skips nor repeats items; the inbox
 * entries (the pending-only index the listing reads) across crashes between their two writes.
 */
import { expect } from 'chai';
import { backfillInboxEntries } from '../../src/store/stores.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('inbox paging', function () {
  this.timeout(120_000);
  let t: TestHub;

  before(async () => {
    t = await startTestHub('inboxpaging');
  });
  after(async () => {
    await t?.close();
  });

  it('pages through unacknowledged items in availability order, each exactly once', async () => {
    const A = t.client('H29.001');
    const B = t.client('H41.001');
    // From an empty inbox: the other tests leave items of theirs unacknowledged.
    for (const x of (await B.inbox({ limit: 500 })).items) await B.ack(x.id);
    const sent: string[] = [];
    // One at a time, each available before the next is sent: the availability order is the send
    // order, while the ids (hashes) are in no particular order.
    for (let i = 0; i < 7; i++) {
      const r = await A.submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
      sent.push(r.docId);
      await eventually(async () => {
        const { items } = await B.inbox({ limit: 500 });
        return items.some((x) => x.docId === r.docId);
      });
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await B.inbox({ limit: 2, ...(after ? { after } : {}) });
      seen.push(...r.items.map((x) => x.docId));
      if (!r.next || r.items.length === 0) break;
      after = r.next;
    }
    expect(seen).to.deep.equal(sent);
  });

  it('survives a stop between the delivery and inbox-entry writes, and backfills old deliveries', async () => {
    const A = t.client('H29.001');
    const B = t.client('H41.001');
    const { models } = t.hub.stores;
    const listed = async () => (await B.inbox({ limit: 500 })).items.map((x) => x.id);
    const r = await A.submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
    const item = await eventually(async () =>
      (await B.inbox({ limit: 500 })).items.find((x) => x.docId === r.docId),
    );
    const d = (await t.hub.stores.deliveries.get(item.id))!;
    expect(new Date(item.availableAt).getTime()).to.equal(d.availableAt!.getTime());
    expect([item.documentId, item.from, item.to]).to.deep.equal([d.documentId, 'H29.001', 'H41.001']);

    // Available but not listed (stopped after the first write): the redelivered task lists it.
    await models.InboxEntry.deleteOne({ _id: item.id });
    expect(await listed()).to.not.include(item.id);
    await t.hub.worker!.deliver({
      deliveryId: d.id,
      docId: d.docId,
      recipientCode: d.recipientCode,
      attempt: 2,
    });
    expect(await listed()).to.include(item.id);

    // Acknowledged but still listed (stopped after the first write): a second acknowledgement
    // answers with the first and unlists it.
    await t.hub.stores.deliveries.acknowledge(item.id, ['H41.001'], 'done', undefined, new Date());
    await models.InboxEntry.collection.insertOne({
      _id: item.id,
      r: 'H41.001',
      mt: 'edoc',
      at: d.availableAt,
    } as never);
    expect(await listed()).to.include(item.id);
    const again = await B.ack(item.id, 'done');
    expect(again.transport).to.equal('acknowledged');
    expect(await listed()).to.not.include(item.id);

    // A database from before the entries: available deliveries get theirs at start, once.
    await models.Delivery.updateOne({ _id: item.id }, { $set: { transport: 'available' } });
    expect(await listed()).to.not.include(item.id);
    await models.Migration.deleteOne({ _id: 'inbox-entries-1' });
    await backfillInboxEntries(models);
    const back = (await B.inbox({ limit: 500 })).items.find((x) => x.id === item.id);
    expect(back).to.deep.include({ docId: item.docId, documentId: item.documentId, from: 'H29.001' });
    expect(await models.Migration.countDocuments({ _id: 'inbox-entries-1' })).to.equal(1);
  });
});
