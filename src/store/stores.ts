/** MongoDB implementations of the store ports (domain/ports.ts). */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Connection } from 'mongoose';
import type {
  AuditLog,
  CredentialStore,
  DeliveryStore,
  DocumentStore,
  InboxQuery,
  OutboxStore,
  Stores,
} from '../domain/ports.ts';
import type {
  AuditEntry,
  AuditEvent,
  DeliveryRecord,
  DocumentRecord,
  OutboxEntry,
  SystemCredential,
  TimelineEntry,
  ChainEntry,
} from '../domain/types.ts';
import type { BusinessState } from '../domain/status.ts';
import { ensureIndexes, registerModels, type Models } from './models.ts';
import { SecretBox } from './secret-box.ts';
import { MongoDirectoryStore, type DirectoryStoreOptions } from './directory-store.ts';

const PAYLOAD_CHUNK = 4 * 1024 * 1024; // well under the 16 MiB BSON document limit

type Doc = Record<string, unknown> & { _id: unknown };

function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code?: number }[] };
  return e?.code === 11000 || (Array.isArray(e?.writeErrors) && e.writeErrors.every((w) => w.code === 11000));
}

function strip<T>(d: Doc, idField: string): T {
  const { _id, ...rest } = d;
  for (const [k, v] of Object.entries(rest)) if (v === null && k !== 'parentCode') delete rest[k];
  return { [idField]: _id, ...rest } as T;
}

class MongoCredentialStore implements CredentialStore {
  private readonly m: Models;
  private readonly box: SecretBox;
  constructor(m: Models, box: SecretBox) {
    this.m = m;
    this.box = box;
  }

  async find(systemId: string): Promise<SystemCredential | null> {
    const d = await this.m.System.findById(systemId).lean<Doc & { secretEnc: string }>();
    if (!d) return null;
    return {
      systemId: String(d._id),
      secret: this.box.open(d.secretEnc),
      agencyCodes: d.agencyCodes as string[],
      rights: d.rights as SystemCredential['rights'],
      active: d.active as boolean,
    };
  }

  async upsert(c: SystemCredential): Promise<void> {
    await this.m.System.updateOne(
      { _id: c.systemId },
      {
        $set: {
          secretEnc: this.box.seal(c.secret),
          agencyCodes: c.agencyCodes,
          rights: c.rights,
          active: c.active,
        },
        $setOnInsert: { createdAt: new Date() },
      },
      { upsert: true },
    );
  }
}

class MongoDocumentStore implements DocumentStore {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  async findByKey(key: string) {
    const d = await this.m.Document.findOne({ key }).lean<Doc>();
    return d ? strip<DocumentRecord>(d, 'id') : null;
  }

  async get(id: string) {
    const d = await this.m.Document.findById(id).lean<Doc>();
    return d ? strip<DocumentRecord>(d, 'id') : null;
  }

  async findBySenderAndDocumentId(senderCode: string, documentId: string) {
    const d = await this.m.Document.findOne({
      senderCode,
      documentId,
      messageType: 'edoc',
      state: 'accepted',
    }).lean<Doc>();
    return d ? strip<DocumentRecord>(d, 'id') : null;
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

  async findProbableDuplicate(doc: Pick<DocumentRecord, 'senderCode' | 'documentId' | 'meta'>) {
    const { codeNumber, codeNotation, year } = doc.meta;
    if (!codeNumber || !codeNotation || !year) return null;
    const d = await this.m.Document.findOne({
      senderCode: doc.senderCode,
      'meta.codeNumber': codeNumber,
      'meta.codeNotation': codeNotation,
      'meta.year': year,
      messageType: 'edoc',
      state: 'accepted',
      documentId: { $ne: doc.documentId },
    }).lean<Doc>();
    return d ? strip<DocumentRecord>(d, 'id') : null;
  }

  async findAcceptedByDocumentId(documentId: string) {
    const d = await this.m.Document.findOne({
      documentId,
      messageType: 'edoc',
      state: 'accepted',
    }).lean<Doc>();
    return d ? strip<DocumentRecord>(d, 'id') : null;
  }

  async appendChain(id: string, entry: ChainEntry): Promise<void> {
    const d = await this.m.Document.findById(id, { chain: 1 }).lean<{ chain?: ChainEntry[] }>();
    if (d?.chain?.some((c) => c.docId === entry.docId)) return;
    await this.m.Document.updateOne({ _id: id }, { $push: { chain: entry } });
  }

  async commit(id: string, receipt: string, acceptedAt: Date): Promise<void> {
    await this.m.Document.updateOne({ _id: id }, { $set: { state: 'accepted', receipt, acceptedAt } });
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
    for (let n = 0, off = 0; off < buf.length || n === 0; n++, off += PAYLOAD_CHUNK) {
      const data = buf.subarray(off, off + PAYLOAD_CHUNK);
      ops.push({
        replaceOne: { filter: { _id: `${id}:${n}` }, replacement: { docId: id, n, data }, upsert: true },
      });
    }
    await this.m.PayloadChunk.bulkWrite(ops, { ordered: true });
  }

  async getPayload(id: string): Promise<Buffer | null> {
    const chunks = await this.m.PayloadChunk.find({ docId: id })
      .sort({ n: 1 })
      .lean<{ data: { buffer: Buffer } | Buffer }[]>();
    if (chunks.length === 0) return null;
    return Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c.data) ? c.data : Buffer.from(c.data.buffer))));
  }
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

class MongoDeliveryStore implements DeliveryStore {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  async insertMany(deliveries: readonly DeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    const ops = deliveries.map(({ id, ...rest }) => ({
      updateOne: { filter: { _id: id }, update: { $setOnInsert: rest }, upsert: true },
    }));
    await this.m.Delivery.bulkWrite(ops, { ordered: false });
  }

  async get(id: string) {
    const d = await this.m.Delivery.findById(id).lean<Doc>();
    return d ? toDelivery(d) : null;
  }

  async forDocument(docId: string) {
    const ds = await this.m.Delivery.find({ docId }).sort({ recipientCode: 1 }).lean<Doc[]>();
    return ds.map((d) => toDelivery(d));
  }

  async markAvailable(id: string, at: Date): Promise<boolean> {
    const r = await this.m.Delivery.updateOne(
      { _id: id, transport: 'queued' },
      { $set: { transport: 'available', availableAt: at }, $inc: { attempts: 1, version: 1 } },
    );
    return r.modifiedCount === 1;
  }

  async markPushed(id: string, at: Date): Promise<boolean> {
    const r = await this.m.Delivery.updateOne(
      { _id: id, transport: 'queued' },
      { $set: { transport: 'pushed', availableAt: at }, $inc: { attempts: 1, version: 1 } },
    );
    return r.modifiedCount === 1;
  }

  async markRefused(id: string, reason: string, at: Date): Promise<void> {
    await this.m.Delivery.updateOne(
      { _id: id, transport: 'queued' },
      {
        // The endpoint's refusal is the recipient's 02 (refused): it ends the delivery, shown to the sender.
        $set: {
          transport: 'failed',
          lastError: reason,
          failedAt: at,
          business: { code: '02', pending: null },
        },
        $push: { timeline: { code: '02', at, description: reason, by: 'hub' } },
        $inc: { attempts: 1, version: 1 },
      },
    );
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
        $set: { lastError: error, ...(final ? { transport: 'dead-lettered' } : {}) },
        $inc: { version: 1, ...(final ? {} : { attempts: 1 }) },
      },
    );
  }

  async inbox(q: InboxQuery) {
    const filter: Record<string, unknown> = {
      recipientCode: { $in: q.recipientCodes },
      transport: 'available',
    };
    if (q.messageType) filter.messageType = q.messageType;
    if (q.after) filter._id = { $gt: q.after };
    // Oldest first; the _id tie-break keeps paging stable.
    const ds = await this.m.Delivery.find(filter)
      .sort({ availableAt: 1, _id: 1 })
      .limit(q.limit)
      .lean<Doc[]>();
    return ds.map((d) => toDelivery(d));
  }

  async acknowledge(id: string, result: 'done' | 'fail', reason: string | undefined, at: Date) {
    const d = await this.m.Delivery.findOneAndUpdate(
      { _id: id, transport: { $in: ['available', 'pushed'] } },
      {
        $set: { transport: 'acknowledged', ackedAt: at, ack: { result, ...(reason ? { reason } : {}) } },
        $inc: { version: 1 },
      },
      { new: true },
    ).lean<Doc>();
    if (d) return toDelivery(d);
    // Idempotent: a second acknowledgement answers with the first one.
    const current = await this.m.Delivery.findOne({ _id: id, transport: 'acknowledged' }).lean<Doc>();
    return current ? toDelivery(current) : null;
  }

  async applyStatus(
    id: string,
    version: number,
    state: BusinessState,
    entry?: TimelineEntry,
  ): Promise<boolean> {
    const r = await this.m.Delivery.updateOne(
      { _id: id, version },
      { $set: { business: state }, ...(entry ? { $push: { timeline: entry } } : {}), $inc: { version: 1 } },
    );
    return r.modifiedCount === 1;
  }
}

class MongoOutboxStore implements OutboxStore {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  async insertMany(entries: readonly OutboxEntry[]) {
    if (entries.length === 0) return;
    const ops = entries.map(({ id, ...rest }) => ({
      updateOne: { filter: { _id: id }, update: { $setOnInsert: rest }, upsert: true },
    }));
    await this.m.Outbox.bulkWrite(ops, { ordered: false });
  }

  async markSent(ids: readonly string[], at: Date) {
    if (ids.length) await this.m.Outbox.updateMany({ _id: { $in: ids } }, { $set: { sentAt: at } });
  }

  async due(olderThan: Date, limit: number) {
    const ds = await this.m.Outbox.find({ sentAt: { $exists: false }, createdAt: { $lte: olderThan } })
      .sort({ createdAt: 1 })
      .limit(limit)
      .lean<Doc[]>();
    return ds.map((d) => strip<OutboxEntry>(d, 'id'));
  }

  async remove(ids: readonly string[]) {
    if (ids.length) await this.m.Outbox.deleteMany({ _id: { $in: ids } });
  }
}

export const GENESIS_HASH = '0'.repeat(64);

export function auditHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const body = canonicalize({
    seq: e.seq,
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    data: e.data ?? null,
  });
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(body ?? '')
    .digest('hex');
}

/**
 * Hash-chained audit log. The sequence number is the _id, so two writers can never fork the chain:
 * the loser of a race gets a duplicate-key error and retries on the new head.
 */
class MongoAuditLog implements AuditLog {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  async append(event: AuditEvent): Promise<AuditEntry> {
    for (let attempt = 0; ; attempt++) {
      const head = await this.m.Audit.findOne().sort({ _id: -1 }).lean<{ _id: number; hash: string }>();
      const seq = (head?._id ?? 0) + 1;
      const prevHash = head?.hash ?? GENESIS_HASH;
      const at = new Date();
      const base = { seq, at, ...event };
      const entry: AuditEntry = { ...base, prevHash, hash: auditHash(prevHash, base) };
      try {
        const { seq: _s, ...rest } = entry;
        await this.m.Audit.create({ _id: seq, ...rest });
        return entry;
      } catch (err) {
        if (!isDuplicateKey(err) || attempt > 200) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
      }
    }
  }

  async verify() {
    let prevHash = GENESIS_HASH;
    let expected = 1;
    let count = 0;
    const cursor = this.m.Audit.find().sort({ _id: 1 }).lean<Doc & AuditEntry>().cursor();
    for await (const d of cursor) {
      const seq = d._id as number;
      const e = {
        seq,
        at: new Date(d.at),
        actor: d.actor,
        action: d.action,
        subject: d.subject,
        data: d.data,
      };
      if (seq !== expected) return { ok: false, count, brokenAt: seq, reason: `missing entry ${expected}` };
      if (d.prevHash !== prevHash)
        return { ok: false, count, brokenAt: seq, reason: 'prevHash does not match the previous entry' };
      if (auditHash(prevHash, e) !== d.hash)
        return { ok: false, count, brokenAt: seq, reason: 'entry content does not match its hash' };
      prevHash = d.hash;
      expected++;
      count++;
    }
    return { ok: true, count };
  }
}

export interface MongoStores extends Stores {
  readonly models: Models;
  /** The agency directory (directory-store.ts): agencies, issued codes, counters, import journal. */
  readonly agencies: MongoDirectoryStore;
}

export async function createMongoStores(
  conn: Connection,
  credentialsKey: string,
  opts: { directory?: DirectoryStoreOptions } = {},
): Promise<MongoStores> {
  const models = registerModels(conn);
  await ensureIndexes(models);
  return {
    models,
    agencies: await MongoDirectoryStore.open(conn, opts.directory),
    credentials: new MongoCredentialStore(models, new SecretBox(credentialsKey)),
    documents: new MongoDocumentStore(models),
    deliveries: new MongoDeliveryStore(models),
    outbox: new MongoOutboxStore(models),
    audit: new MongoAuditLog(models),
  };
}
