/** The document aggregate behaves the same on every adapter (harness.ts). */
import { expect } from 'chai';
import { createMongoStores } from '../../src/store/stores.ts';
import { readPayload } from '../../src/domain/payload.ts';
import { docIdFor, edocKey } from '../../src/domain/ids.ts';
import type { DocumentRecord } from '../../src/domain/types.ts';
import { PAYLOAD_INLINE } from '../../src/store/document-store.ts';
import { describeAdapters } from './harness.ts';

const KEY = 'conformance-test-key-not-a-secret';
const AT = new Date('2026-03-02T08:00:00Z');

export function pendingDocument(documentId: string, over: Partial<DocumentRecord> = {}): DocumentRecord {
  const key = edocKey('000.00.00.H29', documentId);
  return {
    id: docIdFor(key),
    key,
    messageType: 'edoc',
    senderCode: '000.00.00.H29',
    documentId,
    sha256: 'a'.repeat(64),
    size: 5,
    state: 'pending',
    receivedAt: AT,
    meta: { codeNumber: '12', codeNotation: 'UBND-VP', year: '2026' },
    signer: { fingerprintSha256: 'f'.repeat(64), subject: 'CN=H29' },
    recipients: [{ code: '000.00.00.H41', outcome: 'accepted', deliveredTo: '000.00.00.H41' }],
    submittedBy: 'dms-h29',
    ...over,
  };
}

/** The outbox entry of a document's delivery to H41. */
const taskOf = (docId: string) => ({
  id: `${docId}:H41`,
  docId,
  deliveryId: `${docId}:H41`,
  recipientCode: 'H41',
  createdAt: AT,
});

describeAdapters('DocumentStore', (ctx) => {
  it('inserts a pending record once, with its payload inline; commit makes it accepted', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = pendingDocument('000.00.00.H29,2026/03/02,12/UBND-VP');
    const bytes = Buffer.from('hello');
    expect(await documents.insertPending(doc, bytes)).to.equal(true);
    // The same key again (a replay, a conflict or a race): not written a second time.
    expect(await documents.insertPending({ ...doc, sha256: 'b'.repeat(64) }, Buffer.from('other'))).to.equal(
      false,
    );
    const pending = await documents.findByKey(doc.key);
    expect(pending).to.deep.include({ state: 'pending', sha256: doc.sha256 });
    expect(pending).not.to.have.property('payload');
    // Not yet accepted: not found as the sender's document (readers see accepted documents only).
    expect(await documents.findBySenderAndDocumentId(doc.senderCode, doc.documentId)).to.equal(null);
    // One chunk only: no payload_chunks record for a small payload.
    expect(await conn.db!.collection('payload_chunks').countDocuments()).to.equal(0);
    expect((await documents.getPayload(doc.id))!.toString()).to.equal('hello');

    await documents.commit(doc.id, '<receipt/>', AT, { probableDuplicateOf: 'x' });
    const accepted = await documents.get(doc.id);
    expect(accepted).to.deep.include({ state: 'accepted', receipt: '<receipt/>', probableDuplicateOf: 'x' });
    expect((await documents.findBySenderAndDocumentId(doc.senderCode, doc.documentId))?.id).to.equal(doc.id);
    const opened = await documents.open(doc.id);
    expect(opened?.document).to.deep.include({ id: doc.id, state: 'accepted' });
    expect(opened?.document).not.to.have.property('payload');
    expect((await readPayload(opened!.payload!)).toString()).to.equal('hello');
  });

  it('keeps a payload over the inline limit in chunks, read back in order', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = pendingDocument('000.00.00.H29,2026/03/02,13/UBND-VP');
    const bytes = Buffer.alloc(PAYLOAD_INLINE + 10, 7);
    bytes[PAYLOAD_INLINE + 9] = 9;
    expect(await documents.insertPending(doc, bytes)).to.equal(true);
    expect(await conn.db!.collection('payload_chunks').countDocuments()).to.equal(2);
    const back = await documents.getPayload(doc.id);
    expect(back!.equals(bytes)).to.equal(true);
    // A retry of the interrupted submission (same bytes) completes missing chunks.
    await conn.db!.collection('payload_chunks').deleteOne({ _id: `${doc.id}:1` as never });
    expect(await documents.insertPending(doc, bytes)).to.equal(false);
    expect((await documents.getPayload(doc.id))!.equals(bytes)).to.equal(true);
  });

  it('discards a pending submission and everything written for it, never an accepted one', async () => {
    const { conn, adapter } = ctx();
    const stores = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = pendingDocument('000.00.00.H29,2026/03/02,14/UBND-VP');
    await stores.documents.insertPending(doc, Buffer.from('x'));
    await stores.outbox.insertMany([taskOf(doc.id)]);
    await stores.documents.discardPending(doc.id);
    expect(await stores.documents.get(doc.id)).to.equal(null);
    expect(await stores.outbox.due(new Date(), 10)).to.deep.equal([]);
    const other = pendingDocument('000.00.00.H29,2026/03/02,15/UBND-VP');
    await stores.documents.insertPending(other, Buffer.from('y'));
    await stores.outbox.insertMany([taskOf(other.id)]);
    await stores.documents.commit(other.id, 'r', AT);
    // A commit that landed while its answer was lost: the discard of the failed attempt keeps it whole.
    await stores.documents.discardPending(other.id);
    expect((await stores.documents.get(other.id))?.state).to.equal('accepted');
    expect((await stores.outbox.due(new Date(), 10)).map((e) => e.docId)).to.deep.equal([other.id]);
  });

  it('flags a probable duplicate (same issuer, number, notation, year) only once the first is accepted', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const first = pendingDocument('000.00.00.H29,2026/03/02,16/UBND-VP');
    const second = pendingDocument('000.00.00.H29,2026/03/03,16/UBND-VP');
    expect(await documents.findProbableDuplicate(first)).to.equal(null);
    await documents.insertPending(first, Buffer.from('1'));
    // The first is still pending: no flag (readers only know accepted documents).
    expect(await documents.findProbableDuplicate(second)).to.equal(null);
    await documents.commit(first.id, 'r', AT);
    expect((await documents.findProbableDuplicate(second))?.id).to.equal(first.id);
    // The first itself, submitted again, is not its own duplicate.
    expect(await documents.findProbableDuplicate(first)).to.equal(null);
  });

  it('appends a chain entry once per new document', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = pendingDocument('000.00.00.H29,2026/03/02,17/UBND-VP');
    await documents.insertPending(doc, Buffer.from('1'));
    await documents.commit(doc.id, 'r', AT);
    const entry = { docId: 'new', documentId: 'n', type: 'revoke' as const, at: AT };
    await documents.appendChain(doc.id, entry);
    await documents.appendChain(doc.id, entry);
    expect((await documents.get(doc.id))?.chain).to.have.length(1);
  });
});
