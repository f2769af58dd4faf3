/** The document aggregate behaves the same on every adapter (harness.ts). */
import { expect } from 'chai';
import { createMongoStores } from '../../src/store/stores.ts';
import { readPayload } from '../../src/domain/payload.ts';
import { docIdFor, edocKey } from '../../src/domain/ids.ts';
import type { DeliveryRecord, DocumentRecord } from '../../src/domain/types.ts';
import { INITIAL_BUSINESS_STATE } from '../../src/domain/status.ts';
import { PAYLOAD_INLINE } from '../../src/store/document-store.ts';
import { describeAdapters } from './harness.ts';

const KEY = 'conformance-test-key-not-a-secret';
const AT = new Date('2026-03-02T08:00:00Z');
const H41 = '000.00.00.H41';
const H42 = '000.00.00.H42';

/** A document as a submission inserts it: accepted, with its receipt (the commit point). */
export function acceptedDocument(documentId: string, over: Partial<DocumentRecord> = {}): DocumentRecord {
  const key = edocKey('000.00.00.H29', documentId);
  return {
    id: docIdFor(key),
    key,
    messageType: 'edoc',
    senderCode: '000.00.00.H29',
    documentId,
    sha256: 'a'.repeat(64),
    size: 5,
    state: 'accepted',
    receivedAt: AT,
    acceptedAt: AT,
    receipt: '<receipt/>',
    meta: { codeNumber: '12', codeNotation: 'UBND-VP', year: '2026' },
    signer: { fingerprintSha256: 'f'.repeat(64), subject: 'CN=H29' },
    recipients: [{ code: H41, outcome: 'accepted', deliveredTo: H41 }],
    submittedBy: 'dms-h29',
    ...over,
  };
}

/** The outbox entry of a document's delivery to a recipient. */
const taskOf = (docId: string, code = H41) => ({
  id: `${docId}:${code}`,
  docId,
  deliveryId: `${docId}:${code}`,
  recipientCode: code,
  createdAt: AT,
});

/** A queued delivery of a document to a recipient. */
const deliveryOf = (docId: string, code: string): DeliveryRecord => ({
  id: `${docId}:${code}`,
  docId,
  documentId: 'x',
  messageType: 'edoc',
  senderCode: '000.00.00.H29',
  recipientCode: code,
  transport: 'queued',
  attempts: 0,
  queuedAt: AT,
  business: INITIAL_BUSINESS_STATE,
  timeline: [],
  version: 0,
});

describeAdapters('DocumentStore', (ctx) => {
  it('inserts a record once, accepted with its receipt and its payload inline (one write)', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = acceptedDocument('000.00.00.H29,2026/03/02,12/UBND-VP');
    const bytes = Buffer.from('hello');
    expect(await documents.insert(doc, bytes)).to.equal(true);
    // The same key again (a replay, a conflict or a race): not written a second time.
    expect(await documents.insert({ ...doc, sha256: 'b'.repeat(64) }, Buffer.from('other'))).to.equal(false);
    const found = await documents.findByKey(doc.key);
    expect(found).to.deep.include({ state: 'accepted', sha256: doc.sha256, receipt: '<receipt/>' });
    expect(found).not.to.have.property('payload');
    expect((await documents.findBySenderAndDocumentId(doc.senderCode, doc.documentId))?.id).to.equal(doc.id);
    // One chunk only: no payload_chunks record for a small payload.
    expect(await conn.db!.collection('payload_chunks').countDocuments()).to.equal(0);
    expect((await documents.getPayload(doc.id))!.toString()).to.equal('hello');
    const opened = await documents.open(doc.id);
    expect(opened?.document).to.deep.include({ id: doc.id, state: 'accepted' });
    expect(opened?.document).not.to.have.property('payload');
    expect((await readPayload(opened!.payload!)).toString()).to.equal('hello');
  });

  it('commits a pending record left by an older hub; readers see it only then', async () => {
    const { conn, adapter } = ctx();
    const { documents, models } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = acceptedDocument('000.00.00.H29,2026/03/02,18/UBND-VP');
    const { id, receipt: _receipt, acceptedAt: _acceptedAt, ...rest } = doc;
    await models.Document.collection.insertOne({ _id: id, ...rest, state: 'pending' } as never);
    expect(await documents.findBySenderAndDocumentId(doc.senderCode, doc.documentId)).to.equal(null);
    await documents.commit(id, '<receipt/>', AT, { probableDuplicateOf: 'x' });
    expect(await documents.get(id)).to.deep.include({
      state: 'accepted',
      receipt: '<receipt/>',
      probableDuplicateOf: 'x',
    });
  });

  it('keeps a payload over the inline limit in chunks, read back in order, committed after them', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = acceptedDocument('000.00.00.H29,2026/03/02,13/UBND-VP', { probableDuplicateOf: 'y' });
    const bytes = Buffer.alloc(PAYLOAD_INLINE + 10, 7);
    bytes[PAYLOAD_INLINE + 9] = 9;
    expect(await documents.insert(doc, bytes)).to.equal(true);
    expect(await conn.db!.collection('payload_chunks').countDocuments()).to.equal(2);
    expect(await documents.get(doc.id)).to.deep.include({
      state: 'accepted',
      receipt: '<receipt/>',
      probableDuplicateOf: 'y',
    });
    expect((await documents.getPayload(doc.id))!.equals(bytes)).to.equal(true);
    // Another submission under the key: refused, and none of its chunks is written.
    const other = Buffer.alloc(PAYLOAD_INLINE + 10, 1);
    expect(await documents.insert({ ...doc, sha256: 'c'.repeat(64) }, other)).to.equal(false);
    expect((await documents.getPayload(doc.id))!.equals(bytes)).to.equal(true);
  });

  it('discards what an uncommitted submission wrote; of a committed one, only what it does not own', async () => {
    const { conn, adapter } = ctx();
    const stores = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = acceptedDocument('000.00.00.H29,2026/03/02,14/UBND-VP');
    // Written before a commit point that never came: all of it goes.
    await stores.deliveries.insertMany([deliveryOf(doc.id, H41)]);
    await stores.outbox.insertMany([taskOf(doc.id)]);
    await stores.documents.discardUncommitted(doc.id);
    expect(await stores.deliveries.forDocument(doc.id)).to.deep.equal([]);
    expect(await stores.outbox.due(new Date(), 10)).to.deep.equal([]);
    // Committed (to H41), next to what a conflicting submission to H42 wrote before its refusal.
    const other = acceptedDocument('000.00.00.H29,2026/03/02,15/UBND-VP');
    await stores.deliveries.insertMany([deliveryOf(other.id, H41), deliveryOf(other.id, H42)]);
    await stores.outbox.insertMany([taskOf(other.id), taskOf(other.id, H42)]);
    expect(await stores.documents.insert(other, Buffer.from('y'))).to.equal(true);
    await stores.documents.discardUncommitted(other.id);
    expect((await stores.documents.get(other.id))?.state).to.equal('accepted');
    expect((await stores.deliveries.forDocument(other.id)).map((d) => d.recipientCode)).to.deep.equal([H41]);
    expect((await stores.outbox.due(new Date(), 10)).map((e) => e.recipientCode)).to.deep.equal([H41]);
  });

  it('flags a probable duplicate (same issuer, number, notation, year) only against an accepted first', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const first = acceptedDocument('000.00.00.H29,2026/03/02,16/UBND-VP');
    const second = acceptedDocument('000.00.00.H29,2026/03/03,16/UBND-VP');
    expect(await documents.findProbableDuplicate(first)).to.equal(null);
    await documents.insert(first, Buffer.from('1'));
    expect((await documents.findProbableDuplicate(second))?.id).to.equal(first.id);
    // The first itself, submitted again, is not its own duplicate.
    expect(await documents.findProbableDuplicate(first)).to.equal(null);
    // A claim whose document was never inserted (its submission stopped first) is taken over.
    const third = acceptedDocument('000.00.00.H29,2026/03/02,19/UBND-VP', {
      meta: { codeNumber: '19', codeNotation: 'UBND-VP', year: '2026' },
    });
    const fourth = acceptedDocument('000.00.00.H29,2026/03/04,19/UBND-VP', {
      meta: { codeNumber: '19', codeNotation: 'UBND-VP', year: '2026' },
    });
    expect(await documents.findProbableDuplicate(third)).to.equal(null);
    expect(await documents.findProbableDuplicate(fourth)).to.equal(null);
    await documents.insert(fourth, Buffer.from('4'));
    expect((await documents.findProbableDuplicate(third))?.id).to.equal(fourth.id);
  });

  it('appends a chain entry once per new document', async () => {
    const { conn, adapter } = ctx();
    const { documents } = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const doc = acceptedDocument('000.00.00.H29,2026/03/02,17/UBND-VP');
    await documents.insert(doc, Buffer.from('1'));
    const entry = { docId: 'new', documentId: 'n', type: 'revoke' as const, at: AT };
    await documents.appendChain(doc.id, entry);
    await documents.appendChain(doc.id, entry);
    expect((await documents.get(doc.id))?.chain).to.have.length(1);
  });
});
