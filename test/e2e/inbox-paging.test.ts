/** Inbox paging: oldest first, and a `next` cursor that neither skips nor repeats items. */
import { expect } from 'chai';
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
});
