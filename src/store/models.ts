/**
 * Mongoose schemas. Models never leave the store folder: repositories map them to domain types.
 * The data model stays within what both MongoDB and FerretDB support: single-document atomic
 * writes, unique indexes, no multi-document transactions, change streams or $lookup.
 */
import { Schema, type Connection } from 'mongoose';

const certificateSchema = new Schema(
  {
    fingerprintSha256: { type: String, required: true },
    subject: String,
    notAfter: Date,
    pem: String,
    registeredAt: { type: Date, required: true },
    revokedAt: Date,
  },
  { _id: false },
);

const agencySchema = new Schema(
  {
    _id: { type: String }, // canonical code
    legacyCode: { type: String },
    name: { type: String, required: true },
    nameFolded: { type: String, required: true },
    shortName: String,
    block: { type: String, required: true },
    kind: { type: String, required: true },
    parentCode: { type: String, default: null },
    province: String,
    status: { type: String, required: true },
    validFrom: Date,
    closedAt: Date,
    successors: { type: [String], default: [] },
    contact: { type: Object, default: {} },
    delivery: { type: Object, default: { mode: 'pull' } },
    certificates: { type: [certificateSchema], default: [] },
    version: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, minimize: false },
);
// FerretDB 1.x has no partial or sparse indexes: uniqueness of legacy codes is enforced by the
// directory's code registry, this index only serves lookups.
agencySchema.index({ legacyCode: 1 });
agencySchema.index({ 'certificates.fingerprintSha256': 1 });
agencySchema.index({ version: 1 });
agencySchema.index({ parentCode: 1 });
// Directory search (docs/directory.md): filters, and the folded names (a contains-search scans the
// index keys rather than the documents on MongoDB; FerretDB scans either way).
agencySchema.index({ province: 1, block: 1, status: 1 });
agencySchema.index({ nameFolded: 1 });

const systemSchema = new Schema(
  {
    _id: { type: String }, // systemId
    secretEnc: { type: String, required: true },
    agencyCodes: { type: [String], required: true },
    rights: { type: [String], default: ['send'] },
    active: { type: Boolean, default: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

const documentSchema = new Schema(
  {
    _id: { type: String },
    key: { type: String, required: true },
    messageType: { type: String, required: true },
    senderCode: { type: String, required: true },
    documentId: { type: String, required: true },
    sha256: { type: String, required: true },
    size: { type: Number, required: true },
    state: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    acceptedAt: Date,
    meta: { type: Object, default: {} },
    signer: { type: Object, required: true },
    recipients: { type: [Object], default: [] },
    receipt: String,
    submittedBy: { type: String, required: true },
    via: { type: [Object], default: undefined },
    chain: { type: [Object], default: undefined },
    probableDuplicateOf: String,
    /** The signed bytes when at most 4 MiB (document-store.ts); larger ones are in payload_chunks. */
    payload: Buffer,
  },
  { versionKey: false, minimize: false },
);
documentSchema.index({ key: 1 }, { unique: true });
documentSchema.index({ senderCode: 1, documentId: 1 });
documentSchema.index({ state: 1, receivedAt: 1 });
documentSchema.index({ senderCode: 1, 'meta.codeNumber': 1, 'meta.year': 1 });

const payloadChunkSchema = new Schema(
  {
    _id: { type: String }, // `${docId}:${n}`
    docId: { type: String, required: true },
    n: { type: Number, required: true },
    data: { type: Buffer, required: true },
    /** Number of chunks of the payload (on chunk 0), so that a read goes by `_id` alone. */
    of: Number,
  },
  { versionKey: false },
);
payloadChunkSchema.index({ docId: 1, n: 1 });

/** One entry per issuer + number + notation + year: the first document accepted under it (Decree 30 duplicate flag). */
const documentNumberSchema = new Schema(
  {
    _id: { type: String }, // `${senderCode}|${codeNumber}|${codeNotation}|${year}`
    docId: { type: String, required: true },
    documentId: { type: String, required: true },
  },
  { versionKey: false },
);

const timelineSchema = new Schema(
  {
    code: { type: String, required: true },
    at: { type: Date, required: true },
    reportedAt: String,
    description: String,
    statusDocId: String,
    by: { type: String, required: true },
  },
  { _id: false },
);

const deliverySchema = new Schema(
  {
    _id: { type: String },
    docId: { type: String, required: true },
    documentId: { type: String, required: true },
    messageType: { type: String, required: true },
    senderCode: { type: String, required: true },
    recipientCode: { type: String, required: true },
    requestedCode: String,
    transport: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    lastError: String,
    /** When lastError was recorded: a recent one means the endpoint is still failing (dead-letter replay warns). */
    lastErrorAt: Date,
    failedAt: Date,
    queuedAt: { type: Date, required: true },
    availableAt: Date,
    ackedAt: Date,
    ack: { type: Object },
    business: { type: Object, default: { code: null, pending: null } },
    timeline: { type: [timelineSchema], default: [] },
    version: { type: Number, default: 0 },
    deadline: Date,
    /** First opening of the document page by a clerk of the recipient (the lists' "new" mark). */
    openedAt: Date,
    openedBy: String,
  },
  { versionKey: false, minimize: false },
);
deliverySchema.index({ deadline: 1 });
deliverySchema.index({ recipientCode: 1, transport: 1, availableAt: 1 });
deliverySchema.index({ docId: 1 });
// A document is identified by its sender and its DocumentId (documents/originals.ts): the sender
// leads, which also serves the web UI's sent-side status filters.
deliverySchema.index({ senderCode: 1, documentId: 1 });

/**
 * The pull inbox: one small entry per delivery that is available and not yet acknowledged, removed
 * on acknowledgement. Listing an inbox reads these entries, not the deliveries: on FerretDB, which
 * pushes no filter but a lone `_id` down to SQLite, the old query decoded every delivery ever made
 * on every poll; here it reads only what is pending, and no delivery. MongoDB serves it from the
 * index below.
 */
const inboxEntrySchema = new Schema(
  {
    _id: { type: String }, // the delivery's id
    r: { type: String, required: true }, // recipient code
    mt: { type: String, required: true }, // message type
    at: { type: Date, required: true }, // when it became available (the delivery's availableAt)
    // What the listing shows, copied from the delivery (immutable fields): no delivery read per item.
    doc: String, // docId
    did: String, // edXML DocumentId
    from: String, // sender code
    req: String, // the code the sender addressed, when rerouted
    q: Date, // queuedAt
  },
  { versionKey: false },
);
inboxEntrySchema.index({ r: 1, at: 1, _id: 1 });

/** One-time data migrations that have run (by name). */
const migrationSchema = new Schema({ _id: { type: String }, at: Date }, { versionKey: false });

const outboxSchema = new Schema(
  {
    _id: { type: String },
    docId: { type: String, required: true },
    deliveryId: { type: String, required: true },
    recipientCode: { type: String, required: true },
    createdAt: { type: Date, required: true },
    sentAt: Date,
  },
  { versionKey: false },
);
outboxSchema.index({ sentAt: 1, createdAt: 1 });

const auditSchema = new Schema(
  {
    _id: { type: Number }, // seq: the unique index makes the chain linear
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    action: { type: String, required: true },
    subject: { type: String, required: true },
    data: { type: Object },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { versionKey: false, minimize: false },
);

const crlSchema = new Schema(
  {
    _id: { type: String }, // issuer distinguished name
    der: { type: Buffer, required: true },
    thisUpdate: { type: Date, required: true },
    nextUpdate: Date,
    url: String,
    fetchedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

const deadLetterSchema = new Schema(
  {
    _id: { type: String },
    deliveryId: String,
    docId: String,
    recipientCode: String,
    reason: { type: String, required: true },
    deadAt: { type: Date, required: true },
    contentBase64: { type: String, required: true },
    replayedAt: Date,
    replayCount: { type: Number, default: 0 },
  },
  { versionKey: false },
);
deadLetterSchema.index({ deadAt: -1 });

export function registerModels(conn: Connection) {
  return {
    Agency: conn.model('Agency', agencySchema, 'agencies'),
    System: conn.model('System', systemSchema, 'systems'),
    Document: conn.model('Document', documentSchema, 'documents'),
    PayloadChunk: conn.model('PayloadChunk', payloadChunkSchema, 'payload_chunks'),
    DocumentNumber: conn.model('DocumentNumber', documentNumberSchema, 'document_numbers'),
    Delivery: conn.model('Delivery', deliverySchema, 'deliveries'),
    Outbox: conn.model('Outbox', outboxSchema, 'outbox'),
    InboxEntry: conn.model('InboxEntry', inboxEntrySchema, 'inbox_entries'),
    Migration: conn.model('Migration', migrationSchema, 'migrations'),
    Audit: conn.model('Audit', auditSchema, 'audit'),
    Crl: conn.model('Crl', crlSchema, 'crls'),
    DeadLetter: conn.model('DeadLetter', deadLetterSchema, 'dead_letters'),
  };
}

export type Models = ReturnType<typeof registerModels>;

export async function ensureIndexes(models: Models): Promise<void> {
  for (const m of Object.values(models)) {
    await m.createCollection().catch(() => undefined);
    await m.createIndexes();
  }
}
