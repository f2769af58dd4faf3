/**
 * A submission whose writes fail half-way leaves nothing behind: the payload, deliveries and outbox
 * entries are written at once, and the pending document is discarded only after every one of them
 * has settled (otherwise a write still in flight would land after the clean-up).
 */
import { expect } from 'chai';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { HubApiError } from '../../src/sdk/client.ts';
import { docIdFor, edocKey } from '../../src/domain/ids.ts';

describe('submission: a failed write leaves no partial state', function () {
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
});
