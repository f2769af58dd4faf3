/** Revoke, update and replace of an accepted document; probable duplicates; overdue deliveries. */
import { expect } from 'chai';
import type { EdocMessage } from '../../src/domain/edxml/index.ts';
import { edocKey } from '../../src/domain/ids.ts';
import { Originals } from '../../src/documents/originals.ts';
import type { HubApiError } from '../../src/sdk/client.ts';
import { MongoWebQueryStore } from '../../src/store/web-store.ts';
import { WebQueries } from '../../src/web/queries.ts';
import { eventually, startTestHub, withoutDocumentIdRule, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';

describe('business flows: revoke, update, replace, duplicates, deadlines', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startTestHub('business');
  });
  after(async () => {
    await t?.close();
  });

  async function sendAndDeliver(m: EdocMessage) {
    const r = await t.client(m.from.organId).submit(signed(m, t.signingKey(m.from.organId)));
    for (const to of m.to)
      await eventually(
        async () => (await t.client(to.organId).inbox()).items.find((i) => i.documentId === m.documentId),
        15_000,
        `delivery to ${to.organId}`,
      );
    return r;
  }

  it('revokes a document: recipients get the revocation, a pending recall they answer with 15, and the chain is shown', async () => {
    const original = documentMessage('H29.001', ['H41.001']);
    const r = await sendAndDeliver(original);
    const revoke = documentMessage('H29.001', ['H41.001'], {
      business: { docType: 1, documentId: original.documentId, reason: 'Ban hành nhầm', replacements: [] },
    });
    await sendAndDeliver(revoke);
    let view = await t.client('H29.001').document(r.docId);
    expect(view.deliveries[0]).to.include({ pendingRequest: 'recall' });
    expect((view as unknown as { chain: { type: string; documentId: string }[] }).chain[0]).to.include({
      type: 'revoke',
      documentId: revoke.documentId,
    });
    await t
      .client('H41.001')
      .submit(signed(statusMessage('H41.001', original, '15'), t.signingKey('H41.001')));
    view = await t.client('H29.001').document(r.docId);
    expect(view.deliveries[0]!.status).to.equal('recalled');
    expect(view.deliveries[0]!.timeline.map((e) => e.code)).to.deep.equal(['13', '15']);
  });

  it('refuses a revoke from anyone but the original sender', async () => {
    const original = documentMessage('H29.001', ['H41.001']);
    await sendAndDeliver(original);
    const revoke = documentMessage('H41.001', ['H29.001'], {
      business: { docType: 1, documentId: original.documentId, replacements: [] },
    });
    try {
      await t.client('H41.001').submit(signed(revoke, t.signingKey('H41.001')));
      expect.fail('accepted');
    } catch (err) {
      expect((err as HubApiError).code).to.equal('NOT_ORIGINAL_SENDER');
    }
  });

  /** The original the web UI's document page links to, as an administrator sees it. */
  async function webOriginal(docId: string) {
    const { stores } = t.hub;
    const queries = new WebQueries({
      store: new MongoWebQueryStore(stores.models),
      documents: stores.documents,
      deliveries: stores.deliveries,
      agencies: stores.agencies,
      originals: new Originals({ documents: stores.documents, agencies: stores.agencies }),
    });
    const now = new Date();
    const admin = {
      username: 'admin',
      role: 'admin',
      agencies: [],
      active: true,
      createdAt: now,
      updatedAt: now,
      passwordChangedAt: now,
    } as const;
    return (await queries.document(admin, docId)).original?.id;
  }

  /** The HubApiError a submission is refused with (fails if it is accepted). */
  async function refusal(code: string, m: EdocMessage | Parameters<typeof signed>[0]) {
    try {
      await t.client(code).submit(signed(m, t.signingKey(code)));
    } catch (err) {
      return err as HubApiError;
    }
    return expect.fail('accepted');
  }

  describe('a document is identified by its sender and its DocumentId', () => {
    it('refuses a document whose DocumentId carries another agency’s code, and stores nothing', async () => {
      // M29.001 sends H29.001's next DocumentId: refused before anything is written.
      const real = documentMessage('H29.001', ['H41.001']);
      const squat = documentMessage('M29.001', ['H41.001'], { documentId: real.documentId });
      const err = await refusal('M29.001', squat);
      expect(err.status).to.equal(422);
      expect(err.code).to.equal('DOCUMENT_ID_SENDER_MISMATCH');
      expect(err.messageVi).to.contain('Mã văn bản');
      expect(await t.hub.stores.documents.findByKey(edocKey('M29.001', real.documentId))).to.equal(null);
      // H29.001 then sends it as its own.
      expect((await sendAndDeliver(real)).httpStatus).to.equal(202);
    });

    it('compares the embedded code exactly with the codes the directory knows for the sender', async () => {
      // G22 is also known by its legacy code 000.00.00.G22 (config/seed-directory.json): either form.
      for (const [from, embedded] of [
        ['G22', '000.00.00.G22'],
        ['000.00.00.G22', 'G22'],
      ] as const) {
        const m = documentMessage(from, ['H41.001']);
        const r = await t
          .client('G22')
          .submit(signed({ ...m, documentId: m.documentId.replace(from, embedded) }, t.signingKey('G22')));
        expect(r.httpStatus).to.equal(202);
      }
      // A parent's code (000.00.00.H29 is H29, not H29.001), a lower-case code, a prefix: refused.
      for (const embedded of ['000.00.00.H29', 'H29', 'h29.001', 'H29.00']) {
        const m = documentMessage('H29.001', ['H41.001']);
        const err = await refusal('H29.001', { ...m, documentId: m.documentId.replace('H29.001', embedded) });
        expect(err.code, embedded).to.equal('DOCUMENT_ID_SENDER_MISMATCH');
      }
    });

    it('accepts a DocumentId that does not follow the format at all (no embedded code): it names no one', async () => {
      const m = documentMessage('H29.001', ['H41.001'], { documentId: `VB-${Date.now()}` });
      expect((await sendAndDeliver(m)).httpStatus).to.equal(202);
    });

    it('refuses a revoke naming a DocumentId that carries another agency’s code with NOT_ORIGINAL_SENDER', async () => {
      const revoke = documentMessage('M29.001', ['H41.001'], {
        business: { docType: 1, documentId: 'H29.001,2026/11/22,1/UBND-VP', replacements: [] },
      });
      expect((await refusal('M29.001', revoke)).code).to.equal('NOT_ORIGINAL_SENDER');
    });

    for (const [docType, type] of [
      [1, 'revoke'],
      [2, 'update'],
      [3, 'replace'],
    ] as const) {
      it(`lets the real sender ${type} its document although another agency holds one with the same DocumentId`, async () => {
        // M29.001's copy of H29.001's next DocumentId, accepted before the rule existed.
        const real = documentMessage('H29.001', ['H41.001']);
        const squat = await withoutDocumentIdRule(() =>
          sendAndDeliver(documentMessage('M29.001', ['D41.001'], { documentId: real.documentId })),
        );
        const r = await sendAndDeliver(real);
        const change = documentMessage('H29.001', ['H41.001'], {
          business: { docType, documentId: real.documentId, reason: 'Ban hành nhầm', replacements: [] },
        });
        const c = await sendAndDeliver(change);
        expect(c.httpStatus).to.equal(202);
        // The web UI links the change and a status to H29.001's document, not to M29.001's.
        const status = await t
          .client('H41.001')
          .submit(signed(statusMessage('H41.001', real, '01'), t.signingKey('H41.001')));
        expect(await webOriginal(c.docId)).to.equal(r.docId);
        expect(await webOriginal(status.docId)).to.equal(r.docId);
        type View = { chain?: { type: string; documentId: string }[] };
        const view = (await t.client('H29.001').document(r.docId)) as unknown as View;
        expect(view.chain).to.deep.equal([{ ...view.chain![0], type, documentId: change.documentId }]);
        // M29.001's document is untouched.
        const other = (await t.client('M29.001').document(squat.docId)) as unknown as View;
        expect(other.chain ?? []).to.deep.equal([]);
      });
    }

    it('finds the target of a status whose ResponseFor/OrganId is the original sender’s legacy code', async () => {
      const original = documentMessage('G22', ['H41.001']);
      const r = await sendAndDeliver(original);
      const status = statusMessage('H41.001', original, '03', '000.00.00.G22');
      expect((await t.client('H41.001').submit(signed(status, t.signingKey('H41.001')))).httpStatus).to.equal(
        202,
      );
      const view = await t.client('G22').document(r.docId);
      expect(view.deliveries[0]!.status).to.equal('03');
    });
  });

  it('updates the recipients: the removed one gets a recall, the added one the update, the kept one a pending update', async () => {
    const original = documentMessage('H29.001', ['H41.001', 'D41.001']);
    const r = await sendAndDeliver(original);
    const update = documentMessage('H29.001', ['H41.001', 'M41.001'], {
      business: {
        docType: 2,
        documentId: original.documentId,
        replacements: [],
        documentInfo: {
          metadataChanged: true,
          receiversChanged: true,
          receivers: [
            { organId: 'D41.001', receiverType: 0 },
            { organId: 'M41.001', receiverType: 1 },
          ],
        },
      },
    });
    await sendAndDeliver(update);
    const view = await t.client('H29.001').document(r.docId);
    const by = Object.fromEntries(
      view.deliveries.map((d) => [d.recipient, (d as unknown as { pendingRequest: string }).pendingRequest]),
    );
    expect(by).to.deep.equal({ 'D41.001': 'recall', 'H41.001': 'update' });
    // H41.001 refuses the update (16): its state stays as it was.
    await t
      .client('H41.001')
      .submit(signed(statusMessage('H41.001', original, '16'), t.signingKey('H41.001')));
    const after = await t.client('H29.001').document(r.docId);
    expect(after.deliveries.find((d) => d.recipient === 'H41.001')).to.include({
      pendingRequest: null,
      status: null,
    });
  });

  it('replaces a document and records the chain', async () => {
    const original = documentMessage('H29.001', ['H41.001']);
    const r = await sendAndDeliver(original);
    const replacement = documentMessage('H29.001', ['H41.001'], {
      business: { docType: 3, documentId: original.documentId, replacements: [] },
    });
    await sendAndDeliver(replacement);
    const view = (await t.client('H29.001').document(r.docId)) as unknown as { chain: { type: string }[] };
    expect(view.chain.map((c) => c.type)).to.deep.equal(['replace']);
  });

  it('flags a probable duplicate: same issuer, number, notation and year under another DocumentId', async () => {
    const first = documentMessage('H29.001', ['H41.001']);
    const f = await t.client('H29.001').submit(signed(first, t.signingKey('H29.001')));
    const second = { ...documentMessage('H29.001', ['H41.001']), code: first.code };
    const r = await t.client('H29.001').submit(signed(second, t.signingKey('H29.001')));
    type View = { probableDuplicateOf?: string };
    const view = (await t.client('H29.001').document(r.docId)) as unknown as View;
    expect(view.probableDuplicateOf).to.equal(f.docId);
    // The first one is not flagged, and a replay of the second keeps its flag.
    expect(((await t.client('H29.001').document(f.docId)) as unknown as View).probableDuplicateOf).to.equal(
      undefined,
    );
    const again = await t.client('H29.001').submit(signed(second, t.signingKey('H29.001')));
    expect(again.duplicate).to.equal(true);
    expect(((await t.client('H29.001').document(r.docId)) as unknown as View).probableDuplicateOf).to.equal(
      f.docId,
    );
  });

  it('marks a delivery overdue when its DueDate passed without acceptance (03)', async () => {
    const m = documentMessage('H29.001', ['H41.001'], { dueDate: '2020/01/01' });
    const r = await sendAndDeliver(m);
    let view = await t.client('H29.001').document(r.docId);
    expect(view.deliveries[0]).to.include({ overdue: true });
    await t.client('H41.001').submit(signed(statusMessage('H41.001', m, '03'), t.signingKey('H41.001')));
    view = await t.client('H29.001').document(r.docId);
    expect(view.deliveries[0]).to.include({ overdue: false });
    expect((await t.hub.stores.deliveries.overdue(new Date(), 10)).map((d) => d.docId)).to.not.include(
      r.docId,
    );
  });
});
