/**
 * A submission whose writes fail half-way leaves nothing behind: the deliveries and outbox entries
 * are written at once before the document (the commit point), and are discarded only after every
 * one of them has settled (otherwise a write still in flight would land after the clean-up). Two submissions of
 * one DocumentId racing each other never mix: the loser is refused, not written under the winner's id.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { HubApiError } from '../../src/sdk/client.ts';
import { docIdFor, edocKey } from '../../src/domain/ids.ts';

describe('submission: a failed write or a race leaves no partial or mixed state', function () {
  this.timeout(60_000);
  let t: TestHub;

  before(async () => {
    t = await startTestHub('subfail');
  });
  after(async () => {
    await t?.close();
  });

  it('refuses with INTERNAL and removes the payload and deliveries written next to a failed outbox write', async () => {
    const outbox = t.hub.stores.outbox;
    const real = outbox.insertMany.bind(outbox);
    // Fails at once, while the payload and delivery inserts are still on their way to the store.
    outbox.insertMany = () => Promise.reject(new Error('store refused the outbox write'));
    const msg = documentMessage('H29.001', ['H41.001', 'D41.001']);
    let err: unknown;
    try {
      await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
    } catch (e) {
      err = e;
    } finally {
      outbox.insertMany = real;
    }
    expect(err).to.be.instanceOf(HubApiError);
    expect((err as HubApiError).code).to.equal('INTERNAL');
    const docId = docIdFor(edocKey('H29.001', msg.documentId));
    const m = t.hub.stores.models;
    expect({
      documents: await m.Document.countDocuments({ _id: docId }),
      payload: await m.PayloadChunk.countDocuments({ docId }),
      deliveries: await m.Delivery.countDocuments({ docId }),
      outbox: await m.Outbox.countDocuments({ docId }),
    }).to.deep.equal({ documents: 0, payload: 0, deliveries: 0, outbox: 0 });

    // The same message goes through once the store works again.
    const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    expect(r.docId).to.equal(docId);
    expect(await m.Delivery.countDocuments({ docId })).to.equal(2);
  });

  it('never relays a task to a recipient the document does not have (a conflicting attempt that stopped)', async () => {
    const msg = documentMessage('H29.001', ['H41.001']);
    const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    // What a conflicting submission to D41.001 wrote before its insert found the key taken, left
    // behind by a hub that stopped before removing it: past the relay's grace period.
    const stray = `${r.docId}:D41.001`;
    const long = new Date(Date.now() - 60_000);
    await t.hub.stores.deliveries.insertMany([
      {
        id: stray,
        docId: r.docId,
        documentId: msg.documentId,
        messageType: 'edoc',
        senderCode: 'H29.001',
        recipientCode: 'D41.001',
        transport: 'queued',
        attempts: 0,
        queuedAt: long,
        business: { code: null, pending: null },
        timeline: [],
        version: 0,
      },
    ]);
    await t.hub.stores.outbox.insertMany([
      { id: stray, docId: r.docId, deliveryId: stray, recipientCode: 'D41.001', createdAt: long },
    ]);
    const m = t.hub.stores.models;
    await eventually(
      async () => (await m.Outbox.countDocuments({ _id: stray })) === 0 || undefined,
      15_000,
      'the relay to take the stray task',
    );
    expect(await m.Delivery.countDocuments({ _id: stray }), 'stray delivery').to.equal(0);
    expect((await t.client('D41.001').inbox()).items.map((i) => i.docId)).not.to.include(r.docId);
    expect(await m.Delivery.countDocuments({ docId: r.docId })).to.equal(1);
  });

  it('a conflict addressed to other recipients is refused and leaves none of its deliveries or tasks', async () => {
    const msg = documentMessage('H29.001', ['H41.001']);
    const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    const other = { ...msg, subject: 'Khác', to: documentMessage('H29.001', ['D41.001']).to };
    let err: unknown;
    try {
      await t.client('H29.001').submit(signed(other, t.signingKey('H29.001')));
    } catch (e) {
      err = e;
    }
    expect((err as HubApiError).code).to.equal('DUPLICATE_CONFLICT');
    const m = t.hub.stores.models;
    const stray = `${r.docId}:D41.001`;
    expect(await m.Delivery.countDocuments({ _id: stray }), 'stray delivery').to.equal(0);
    expect(await m.Outbox.countDocuments({ _id: stray }), 'stray task').to.equal(0);
    expect(await m.Delivery.countDocuments({ docId: r.docId })).to.equal(1);
  });

  it('two submissions of one DocumentId with different bytes at the same moment: one accepted, the other DUPLICATE_CONFLICT', async () => {
    const documents = t.hub.stores.documents;
    const real = documents.insert.bind(documents);
    // Both requests have written their deliveries and tasks before either inserts its document (the
    // commit point): each waits here until the other has arrived, then they insert one after the other.
    let arrived = 0;
    let bothArrived!: () => void;
    const barrier = new Promise<void>((r) => (bothArrived = r));
    documents.insert = async (doc, payload) => {
      if (++arrived === 2) bothArrived();
      await barrier;
      return real(doc, payload);
    };
    const msg = documentMessage('H29.001', ['H41.001']);
    const xmls = [msg, { ...msg, subject: 'Nội dung khác, cùng số hiệu' }].map((x) =>
      signed(x, t.signingKey('H29.001')),
    );
    let outcomes: PromiseSettledResult<Awaited<ReturnType<ReturnType<TestHub['client']>['submit']>>>[];
    try {
      outcomes = await Promise.allSettled(xmls.map((x) => t.client('H29.001').submit(x)));
    } finally {
      documents.insert = real;
    }
    expect(arrived).to.equal(2);
    const accepted = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as HubApiError] : []));
    expect(accepted).to.have.length(1);
    expect(refused.map((e) => e.code)).to.deep.equal(['DUPLICATE_CONFLICT']);
    // What is stored, and what the receipt vouches for, are the accepted submission's bytes.
    const winner = Buffer.from(xmls[accepted[0]!]!, 'utf8');
    const docId = docIdFor(edocKey('H29.001', msg.documentId));
    const stored = await documents.getPayload(docId);
    expect(stored && Buffer.from(stored).equals(winner)).to.equal(true);
    const doc = await documents.get(docId);
    expect(doc?.sha256).to.equal(createHash('sha256').update(winner).digest('hex'));
    expect(doc?.state).to.equal('accepted');
  });
});
