/**
 * MongoDB implementations of the store ports (domain/ports.ts). The credential store and the audit
 * log are in credential-store.ts and audit-log.ts; certificates and revocation data in
 * certificate-store.ts and revocation-store.ts.
 */
import type { Connection, mongo } from 'mongoose';
import type { DeliveryStore, DocumentStore, InboxQuery, OutboxStore, Stores } from '../domain/ports.ts';
import type {
  DeliveryRecord,
  DocumentRecord,
  InboxItem,
  OutboxEntry,
  TimelineEntry,
  ChainEntry,
} from '../domain/types.ts';
import type { BusinessState } from '../domain/status.ts';
import { ensureIndexes, registerModels, type Models } from './models.ts';
import { SecretBox, type CredentialKeys } from './secret-box.ts';
import { MongoCredentialStore } from './credential-store.ts';
import { MongoAuditLog } from './audit-log.ts';
import { MongoDirectoryStore, type DirectoryStoreOptions } from './directory-store.ts';
import { docIdFor, edocKey } from '../domain/ids.ts';
import { GroupCommit } from './group-commit.ts';
import { duplicateIndexes, isDuplicateKey } from './errors.ts';
import { MongoCertificateStore } from './certificate-store.ts';
import { MongoRevocationDataStore } from './revocation-store.ts';
import type { CertificateStore, RevocationDataStore } from '../domain/ports/certificates.ts';
import { readPayload, type PayloadStream } from '../domain/payload.ts';

const PAYLOAD_CHUNK = 4 * 1024 * 1024; // well under the 16 MiB BSON document limit

type Doc = Record<string, unknown> & { _id: unknown };

/**
 * How conditional single-record updates are made. MongoDB: one atomic update whose filter is `_id`
 * plus the condition (served by the `_id` index). FerretDB 1.x pushes a filter down to SQLite only
 * when it is `_id` alone, so `{_id, state}` scans the whole collection; and it runs every update as
 * "find, then update by `_id`" without atomicity anyway. There the same check is made by reading the
 * record by `_id` and updating it by `_id` — the same semantics FerretDB gives, without the scan.
 */
export type UpdateDialect = 'mongodb' | 'id-only';

/** A delivered delivery keeps no error of its earlier attempts (the document page would show it). */
const DELIVERED_CLEARS = { lastError: 1, lastErrorAt: 1 } as const;

async function updateOneIf(
  model: Models['Delivery'],
  dialect: UpdateDialect,
  id: string,
  condition: Record<string, unknown>,
  holds: (d: Doc) => boolean,
  update: Record<string, unknown>,
  o: {
    /**
     * What the record becomes, computed from what was read (saves reading it back); without it the
     * record is read back after the update, or with `false` the caller only needs to know whether
     * the update was made.
     */
    after?: ((current: Doc) => Doc) | false;
    /** The record as the caller read it a moment ago (id-only: saves reading it again). */
    current?: Doc;
  } = {},
): Promise<Doc | null> {
  if (dialect === 'mongodb')
    return model.findOneAndUpdate({ _id: id, ...condition }, update, { returnDocument: 'after' }).lean<Doc>();
  const current = o.current ?? (await model.findById(id).lean<Doc>());
  if (!current || !holds(current)) return null;
  // `update` with a lone `_id` filter is pushed down; FerretDB's findAndModify scans the collection.
  const r = await model.updateOne({ _id: id }, update);
  if (r.matchedCount !== 1) return null;
  if (o.after === false) return current;
  return o.after ? o.after(current) : model.findById(id).lean<Doc>();
}

/**
 * Multi-document inserts of concurrent writers to one collection, grouped into one statement
 * (group-commit.ts). Each request learns which of its records were already there (`_id` taken).
 * Requests are weighed by their bytes (payload chunks) so that one statement stays well under the
 * 48 MB wire-message limit.
 */
const insertGroups = new WeakMap<object, GroupCommit<Record<string, unknown>[], boolean[]>>();
const GROUP_MAX_BYTES = 8 * 1024 * 1024;

function insertGroup(collection: mongo.Collection): GroupCommit<Record<string, unknown>[], boolean[]> {
  let g = insertGroups.get(collection);
  if (!g) {
    g = new GroupCommit<Record<string, unknown>[], boolean[]>(
      async (requests) => {
        const all = requests.flat();
        const taken = new Set<number>();
        try {
          await collection.insertMany(all, { ordered: false });
        } catch (err) {
          for (const i of duplicateIndexes(err, all.length)) taken.add(i);
        }
        let off = 0;
        return requests.map((r) => {
          const flags = r.map((_, i) => taken.has(off + i));
          off += r.length;
          return flags;
        });
      },
      {
        maxSize: GROUP_MAX_BYTES,
        size: (docs) =>
          docs.reduce((n, d) => n + (d.data instanceof Uint8Array ? d.data.byteLength : 0) + 1024, 0),
      },
    );
    insertGroups.set(collection, g);
  }
  return g;
}

/**
 * Inserts records whose `_id` is deterministic; records that already exist (a replay of the same
 * write after a crash) are left as they are, and checked to be really there. Concurrent callers'
 * records go out in one multi-document insert (one transaction on FerretDB's SQLite backend).
 */
async function insertAbsent(
  model: Pick<Models['Delivery'], 'collection'>,
  docs: Record<string, unknown>[],
): Promise<void> {
  if (docs.length === 0) return;
  const taken = await insertGroup(model.collection).run(docs);
  const replayed = docs.filter((_, i) => taken[i]).map((d) => d._id);
  if (replayed.length === 0) return;
  // Replays only (rare): make sure every record is really there before going on.
  const found = await model.collection.countDocuments({
    _id: { $in: replayed },
  } as mongo.Filter<mongo.Document>);
  if (found !== replayed.length) throw new Error(`insert into ${model.collection.name} incomplete`);
}

function strip<T>(d: Doc, idField: string): T {
  const { _id, ...rest } = d;
  for (const [k, v] of Object.entries(rest)) if (v === null && k !== 'parentCode') delete rest[k];
  return { [idField]: _id, ...rest } as T;
}

class MongoDocumentStore implements DocumentStore {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  /** By `_id`: a document's id is derived from its key (domain/ids.ts). */
  async findByKey(key: string) {
    const d = await this.m.Document.findById(docIdFor(key)).lean<Doc>();
    return d && d.key === key ? strip<DocumentRecord>(d, 'id') : null;
  }

  async get(id: string) {
    const d = await this.m.Document.findById(id).lean<Doc>();
    return d ? strip<DocumentRecord>(d, 'id') : null;
  }

  async findBySenderAndDocumentId(senderCode: string, documentId: string) {
    const d = await this.m.Document.findById(docIdFor(edocKey(senderCode, documentId))).lean<Doc>();
    return d && d.messageType === 'edoc' && d.state === 'accepted' ? strip<DocumentRecord>(d, 'id') : null;
  }

  async insertPending(doc: DocumentRecord): Promise<boolean> {
    const { id, ...rest } = doc;
    try {
      await this.m.Document.create({
        _id: id,
        ...rest,
        recipients: [...rest.recipients],
        chain: rest.chain ? [...rest.chain] : undefined,
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * The first accepted document with the same issuer, number, notation and year under another
   * DocumentId. Kept as a register keyed by that tuple (one `_id` lookup, not a search): the first
   * document claims the entry; an entry left by a document that was never accepted is taken over.
   */
  async findProbableDuplicate(doc: Pick<DocumentRecord, 'id' | 'senderCode' | 'documentId' | 'meta'>) {
    const { codeNumber, codeNotation, year } = doc.meta;
    if (!codeNumber || !codeNotation || !year) return null;
    const _id = `${doc.senderCode}|${codeNumber}|${codeNotation}|${year}`;
    const claim = { docId: doc.id, documentId: doc.documentId };
    try {
      await this.m.DocumentNumber.create({ _id, ...claim });
      return null;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const entry = await this.m.DocumentNumber.findById(_id).lean<{ docId: string; documentId: string }>();
    if (!entry || entry.documentId === doc.documentId) return null;
    const first = await this.m.Document.findById(entry.docId).lean<Doc>();
    if (first && first.state === 'accepted') return strip<DocumentRecord>(first, 'id');
    if (!first) await this.m.DocumentNumber.replaceOne({ _id }, claim);
    return null;
  }

  async appendChain(id: string, entry: ChainEntry): Promise<void> {
    const d = await this.m.Document.findById(id, { chain: 1 }).lean<{ chain?: ChainEntry[] }>();
    if (d?.chain?.some((c) => c.docId === entry.docId)) return;
    await this.m.Document.updateOne({ _id: id }, { $push: { chain: entry } });
  }

  async commit(
    id: string,
    receipt: string,
    acceptedAt: Date,
    found: { readonly probableDuplicateOf?: string } = {},
  ): Promise<void> {
    await this.m.Document.updateOne(
      { _id: id },
      { $set: { state: 'accepted', receipt, acceptedAt, ...found } },
    );
  }

  async discardPending(id: string): Promise<void> {
    await this.m.Outbox.deleteMany({ docId: id });
    await this.m.Delivery.deleteMany({ docId: id });
    await this.m.PayloadChunk.deleteMany({ docId: id });
    await this.m.Document.deleteOne({ _id: id, state: 'pending' });
  }

  async putPayload(id: string, bytes: Uint8Array): Promise<void> {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ops = [];
    const of = Math.max(1, Math.ceil(buf.length / PAYLOAD_CHUNK));
    for (let n = 0, off = 0; n < of; n++, off += PAYLOAD_CHUNK) {
      const data = buf.subarray(off, off + PAYLOAD_CHUNK);
      // A replay carries the same bytes (the id derives from the key, the key's bytes are checked).
      ops.push({ _id: `${id}:${n}`, docId: id, n, data, ...(n === 0 ? { of } : {}) });
    }
    await insertAbsent(this.m.PayloadChunk, ops);
  }

  async openPayload(id: string): Promise<PayloadStream | null> {
    const first = await this.m.PayloadChunk.findById(`${id}:0`).lean<StoredChunk>();
    if (!first) return null;
    const m = this.m;
    const of = first.of;
    async function* chunks(): AsyncGenerator<Buffer> {
      yield chunkBytes(first!);
      if (of) {
        // One chunk in memory at a time: a 5 MB document read by twenty recipients is not held
        // twenty times over.
        for (let n = 1; n < of; n++) {
          const c = await m.PayloadChunk.findById(`${id}:${n}`).lean<StoredChunk>();
          if (!c) throw new Error(`payload of ${id} is incomplete (chunk ${n} of ${of})`);
          yield chunkBytes(c);
        }
        return;
      }
      // written before chunk counts were recorded
      for await (const c of m.PayloadChunk.find({ docId: id, n: { $gt: 0 } })
        .sort({ n: 1 })
        .lean<StoredChunk[]>()
        .cursor())
        yield chunkBytes(c);
    }
    return { chunks: chunks() };
  }

  async getPayload(id: string): Promise<Buffer | null> {
    const p = await this.openPayload(id);
    return p ? readPayload(p) : null;
  }
}

type StoredChunk = { data: { buffer: Uint8Array } | Buffer; of?: number };

/** The chunk's bytes as a view of what the driver decoded, not a copy. */
function chunkBytes(c: StoredChunk): Buffer {
  if (Buffer.isBuffer(c.data)) return c.data;
  const b = c.data.buffer;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A delivery the caller read a moment ago, as `updateOneIf`'s `current` (only if it is that record). */
function readBefore(id: string, d: DeliveryRecord | undefined): { current?: Doc } {
  return d?.id === id ? { current: { ...d, _id: d.id } } : {};
}

function toDelivery(d: Doc): DeliveryRecord {
  const r = strip<DeliveryRecord & { timeline?: TimelineEntry[] }>(d, 'id');
  return {
    ...r,
    timeline: r.timeline ?? [],
    business: r.business ?? { code: null, pending: null },
    version: r.version ?? 0,
  };
}

type InboxEntryDoc = {
  _id: string;
  r: string;
  mt: InboxItem['messageType'];
  at: Date;
  doc: string;
  did: string;
  from: string;
  req?: string;
  q: Date;
};

function inboxEntryOf(d: DeliveryRecord & { availableAt: Date }): InboxEntryDoc {
  return {
    _id: d.id,
    r: d.recipientCode,
    mt: d.messageType,
    at: d.availableAt,
    doc: d.docId,
    did: d.documentId,
    from: d.senderCode,
    ...(d.requestedCode ? { req: d.requestedCode } : {}),
    q: d.queuedAt,
  };
}

function inboxItemOf(e: InboxEntryDoc): InboxItem {
  return {
    id: e._id,
    docId: e.doc,
    documentId: e.did,
    messageType: e.mt,
    senderCode: e.from,
    recipientCode: e.r,
    ...(e.req ? { requestedCode: e.req } : {}),
    queuedAt: e.q,
    availableAt: e.at,
  };
}

class MongoDeliveryStore implements DeliveryStore {
  private readonly m: Models;
  private readonly dialect: UpdateDialect;
  constructor(m: Models, dialect: UpdateDialect) {
    this.m = m;
    this.dialect = dialect;
  }

  #ifQueued(id: string, update: Record<string, unknown>, current?: DeliveryRecord) {
    return updateOneIf(
      this.m.Delivery,
      this.dialect,
      id,
      { transport: 'queued' },
      (d) => d.transport === 'queued',
      update,
      { after: false, ...readBefore(id, current) },
    );
  }

  async insertMany(deliveries: readonly DeliveryRecord[]): Promise<void> {
    await insertAbsent(
      this.m.Delivery,
      deliveries.map(({ id, ...rest }) => ({ _id: id, ...rest, timeline: [...rest.timeline] })),
    );
  }

  async get(id: string) {
    const d = await this.m.Delivery.findById(id).lean<Doc>();
    return d ? toDelivery(d) : null;
  }

  async forDocument(docId: string) {
    const ds = await this.m.Delivery.find({ docId }).sort({ recipientCode: 1 }).lean<Doc[]>();
    return ds.map((d) => toDelivery(d));
  }

  /**
   * queued → available, then listed in the recipient's inbox (the entry). A crash between the two
   * leaves the delivery available and unlisted; the task was not acknowledged to the broker, and its
   * redelivery finds the delivery past `queued` and lists it (`ensureListed`, worker.ts).
   */
  async markAvailable(d: DeliveryRecord, at: Date) {
    // `d` was read by the worker just before (its check that the delivery is still queued).
    const done = await this.#ifQueued(
      d.id,
      {
        $set: { transport: 'available', availableAt: at },
        $unset: DELIVERED_CLEARS,
        $inc: { attempts: 1, version: 1 },
      },
      d,
    );
    if (done === null) return false;
    await this.ensureListed({ ...d, availableAt: at });
    return true;
  }

  async ensureListed(d: DeliveryRecord) {
    if (!d.availableAt) throw new Error(`delivery ${d.id} is not available`);
    await insertAbsent(this.m.InboxEntry, [inboxEntryOf({ ...d, availableAt: d.availableAt })]);
  }

  async markPushed(id: string, at: Date): Promise<boolean> {
    const d = await this.#ifQueued(id, {
      $set: { transport: 'pushed', availableAt: at },
      $unset: DELIVERED_CLEARS,
      $inc: { attempts: 1, version: 1 },
    });
    return d !== null;
  }

  async markRefused(id: string, reason: string, at: Date): Promise<void> {
    await this.#ifQueued(id, {
      // The endpoint's refusal is the recipient's 02 (refused): it ends the delivery, shown to the sender.
      $set: {
        transport: 'failed',
        lastError: reason,
        lastErrorAt: at,
        failedAt: at,
        business: { code: '02', pending: null },
      },
      $push: { timeline: { code: '02', at, description: reason, by: 'hub' } },
      $inc: { attempts: 1, version: 1 },
    });
  }

  async overdue(now: Date, limit: number) {
    const ds = await this.m.Delivery.find({
      deadline: { $lt: now },
      messageType: 'edoc',
      'business.code': { $in: [null, '01'] },
      transport: { $nin: ['failed'] },
    })
      .sort({ deadline: 1 })
      .limit(limit)
      .lean<Doc[]>();
    return ds.map(toDelivery);
  }

  async recordFailure(id: string, error: string, final: boolean): Promise<void> {
    await this.m.Delivery.updateOne(
      { _id: id },
      {
        $set: { lastError: error, lastErrorAt: new Date(), ...(final ? { transport: 'dead-lettered' } : {}) },
        $inc: { version: 1, ...(final ? {} : { attempts: 1 }) },
      },
    );
  }

  /**
   * Oldest first by (availableAt, id), from the inbox entries (models.ts): only what is pending is
   * read, and no delivery. An entry outlives its delivery's acknowledgement only if the hub stopped
   * between the two writes; the item is then listed again and a second acknowledgement (idempotent)
   * removes it.
   */
  async inbox(q: InboxQuery): Promise<InboxItem[]> {
    const filter: Record<string, unknown> = { r: { $in: [...q.recipientCodes] } };
    if (q.messageType) filter.mt = q.messageType;
    if (q.after) {
      // The cursor is the last item's id; the order is (at, _id), so continue after both.
      const e = await this.m.InboxEntry.findById(q.after, { at: 1 }).lean<{ at: Date }>();
      const at =
        e?.at ??
        (await this.m.Delivery.findById(q.after, { availableAt: 1 }).lean<{ availableAt?: Date }>())
          ?.availableAt;
      filter.$or = at ? [{ at: { $gt: at } }, { at, _id: { $gt: q.after } }] : [{ _id: { $gt: q.after } }];
    }
    const es = await this.m.InboxEntry.find(filter)
      .sort({ at: 1, _id: 1 })
      .limit(q.limit)
      .lean<InboxEntryDoc[]>();
    return es.map(inboxItemOf);
  }

  async acknowledge(
    id: string,
    result: 'done' | 'fail',
    reason: string | undefined,
    at: Date,
    current?: DeliveryRecord,
  ) {
    const acked = { transport: 'acknowledged', ackedAt: at, ack: { result, ...(reason ? { reason } : {}) } };
    const d = await updateOneIf(
      this.m.Delivery,
      this.dialect,
      id,
      { transport: { $in: ['available', 'pushed'] } },
      (x) => x.transport === 'available' || x.transport === 'pushed',
      { $set: acked, $inc: { version: 1 } },
      {
        after: (c) => ({ ...c, ...acked, version: ((c.version as number | undefined) ?? 0) + 1 }),
        ...readBefore(id, current),
      },
    );
    if (d) {
      await this.m.InboxEntry.deleteOne({ _id: id });
      return toDelivery(d);
    }
    // Idempotent: a second acknowledgement answers with the first one (and unlists it, should a
    // stop between the two writes have left it listed).
    const now = await this.m.Delivery.findById(id).lean<Doc>();
    if (!now || now.transport !== 'acknowledged') return null;
    await this.m.InboxEntry.deleteOne({ _id: id });
    return toDelivery(now);
  }

  async applyStatus(
    id: string,
    version: number,
    state: BusinessState,
    entry?: TimelineEntry,
  ): Promise<boolean> {
    const d = await updateOneIf(
      this.m.Delivery,
      this.dialect,
      id,
      { version },
      (x) => (x.version ?? 0) === version,
      { $set: { business: state }, ...(entry ? { $push: { timeline: entry } } : {}), $inc: { version: 1 } },
      { after: false },
    );
    return d !== null;
  }
}

class MongoOutboxStore implements OutboxStore {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  async insertMany(entries: readonly OutboxEntry[]) {
    await insertAbsent(
      this.m.Outbox,
      entries.map(({ id, ...rest }) => ({ _id: id, ...rest })),
    );
  }

  /**
   * Published and confirmed: the entries have done their job and are removed, so the outbox holds
   * only what is in flight and stays small (one statement; a scan of a small table on FerretDB).
   */
  async markSent(ids: readonly string[], _at: Date) {
    if (ids.length) await this.#removals.run(ids);
  }

  /** Removals of concurrent publishers in one statement (group-commit.ts). */
  readonly #removals = new GroupCommit<readonly string[], void>(
    async (requests) => {
      await this.m.Outbox.deleteMany({ _id: { $in: requests.flat() } });
      return requests.map(() => undefined);
    },
    { size: (ids) => ids.length, maxSize: 5000 },
  );

  async due(olderThan: Date, limit: number) {
    const ds = await this.m.Outbox.find({ sentAt: { $exists: false }, createdAt: { $lte: olderThan } })
      .sort({ createdAt: 1 })
      .limit(limit)
      .lean<Doc[]>();
    return ds.map((d) => strip<OutboxEntry>(d, 'id'));
  }

  async remove(ids: readonly string[]) {
    await this.markSent(ids, new Date());
  }
}

/**
 * The dialect the server speaks: FerretDB answers `buildInfo` with its own version. Tests and the
 * conformance suite force `mongodb` on FerretDB (it executes conditional updates correctly, only
 * slowly), so that the production path runs in CI.
 */
export async function detectDialect(conn: Connection): Promise<UpdateDialect> {
  const build = (await conn.db!.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: string };
  return build.ferretdbVersion ? 'id-only' : 'mongodb';
}

export interface MongoStores extends Stores {
  readonly models: Models;
  /** The agency directory (directory-store.ts): agencies, issued codes, counters, import journal. */
  readonly agencies: MongoDirectoryStore;
  readonly certificates: CertificateStore;
  readonly revocationData: RevocationDataStore;
}

export async function createMongoStores(
  conn: Connection,
  credentialsKey: CredentialKeys,
  opts: { directory?: DirectoryStoreOptions; dialect?: UpdateDialect } = {},
): Promise<MongoStores> {
  const models = registerModels(conn);
  await ensureIndexes(models);
  const dialect = opts.dialect ?? (await detectDialect(conn));
  await backfillInboxEntries(models);
  const agencies = await MongoDirectoryStore.open(conn, opts.directory);
  return {
    models,
    agencies,
    certificates: new MongoCertificateStore(conn, agencies),
    revocationData: new MongoRevocationDataStore(conn, { dialect }),
    credentials: new MongoCredentialStore(conn, new SecretBox(credentialsKey)),
    documents: new MongoDocumentStore(models),
    deliveries: new MongoDeliveryStore(models, dialect),
    outbox: new MongoOutboxStore(models),
    audit: new MongoAuditLog(conn),
  };
}

/**
 * Deliveries made available before the inbox entries existed get their entry, once per database
 * (idempotent: concurrent starts insert the same entries; a stale one is removed by the listing).
 */
export async function backfillInboxEntries(models: Models): Promise<void> {
  const name = 'inbox-entries-1';
  if (await models.Migration.findById(name).lean()) return;
  const cursor = models.Delivery.find({ transport: 'available' }, { timeline: 0 })
    .lean<Doc[]>()
    .cursor({ batchSize: 1000 });
  let batch: Record<string, unknown>[] = [];
  for await (const d of cursor) {
    const r = toDelivery(d);
    batch.push(inboxEntryOf({ ...r, availableAt: r.availableAt ?? r.queuedAt }));
    if (batch.length === 1000) {
      await insertAbsent(models.InboxEntry, batch);
      batch = [];
    }
  }
  await insertAbsent(models.InboxEntry, batch);
  // Two processes starting together both get here: the second finds the marker there (no error).
  await insertAbsent(models.Migration, [{ _id: name, at: new Date() }]);
}

export { GENESIS_HASH, auditHash } from './audit-log.ts';
