/**
 * MongoDB persistence of the agency directory (issue 3). Works on MongoDB and on FerretDB 1.x:
 * single-document atomic writes only, no transactions.
 *
 * Collections:
 * - `agencies`: one document per agency, `_id` = canonical code. Never deleted (a closed agency
 *   stays, with its successors), except when an interrupted import is rolled back.
 * - `agency_codes`: the register of every code ever issued, canonical and legacy alike, `_id` = the
 *   code. A code is issued by inserting it here first; the unique `_id` makes issuing atomic and
 *   reuse impossible, even of closed codes. Lookups by legacy code go through it, so that every
 *   lookup is an `_id` lookup (the only filter FerretDB's SQLite backend pushes down).
 * - `directory_counters`: `code:<parent>` ordinals ($inc, never down) and `version`, the change-feed
 *   counter with its open leases (see allocateVersions).
 * - `directory_imports` and `directory_import_undo`: the journal of bulk imports, so that an import
 *   interrupted mid-way is rolled back (all-or-nothing per file); `directory_import_records`: the
 *   units each import created, as audited (their SHA-256 is chained in the audit log).
 * - `directory_locks`: the single-writer lock chain (see withWriter).
 */
import { randomUUID } from 'node:crypto';
import type { Connection, mongo } from 'mongoose';
import type {
  AgencyPatch,
  AgencySearch,
  CodeReservation,
  DirectoryStore,
  DirectoryWriter,
  ImportJob,
} from '../domain/ports.ts';
import { isLegacyCode } from '../domain/codes.ts';
import { HubError } from '../domain/errors.ts';
import type { Agency } from '../domain/types.ts';
import { foldVietnamese } from '../domain/text.ts';
import { LOOKUP_CONCURRENCY, mapLimit } from '../domain/concurrency.ts';
import { duplicateIndexes, isDuplicateKey } from './errors.ts';
import { toRegisteredCertificate, type CertificateDoc } from './certificate-store.ts';

type Collection<T extends mongo.Document> = mongo.Collection<T>;
type Filter<T> = mongo.Filter<T>;
type UpdateFilter<T extends mongo.Document> = mongo.UpdateFilter<T>;

interface AgencyDoc extends Omit<Agency, 'code'> {
  _id: string;
  nameFolded: string;
  importId?: string;
}

interface CodeDoc {
  _id: string;
  canonical: string;
  kind: 'canonical' | 'legacy';
  issuedAt: Date;
  by: string;
  given?: boolean;
}

interface CounterDoc {
  _id: string;
  seq: number;
}

interface LockDoc {
  _id: string;
  n: number;
  owner: string;
  label: string;
  acquiredAt: Date;
  heartbeatAt: Date;
  releasedAt?: Date;
  /** The first change-feed version taken under this lock. */
  from?: number;
}

interface ImportDoc extends Omit<ImportJob, 'id'> {
  _id: string;
}

interface RecordsDoc {
  _id: string;
  importId: string;
  part: number;
  records: Record<string, unknown>[];
}

interface UndoDoc {
  _id: string;
  importId: string;
  code: string;
  /** The agency before the import changed it, and the version the import gave it. */
  before: AgencyDoc;
  appliedVersion: number;
}

const VERSION_COUNTER = 'version';
const LOCK_HINT = 'lock';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function searchText(name: string, shortName?: string): string {
  return foldVietnamese(shortName ? `${name} | ${shortName}` : name);
}

function toDoc(a: Agency, importId?: string): AgencyDoc {
  const { code, ...rest } = a;
  const doc: AgencyDoc = {
    _id: code,
    ...rest,
    successors: [...a.successors],
    ...(a.predecessors ? { predecessors: [...a.predecessors] } : {}),
    certificates: [...a.certificates],
    nameFolded: searchText(a.name, a.shortName),
    ...(importId ? { importId } : {}),
  };
  for (const [k, v] of Object.entries(doc))
    if (v === undefined) delete (doc as unknown as Record<string, unknown>)[k];
  return doc;
}

function toAgency(d: AgencyDoc): Agency {
  const { _id, nameFolded: _f, importId: _i, ...rest } = d;
  const out: Record<string, unknown> = { code: _id, ...rest };
  for (const [k, v] of Object.entries(out)) if (v === null && k !== 'parentCode') delete out[k];
  out.parentCode ??= null;
  out.successors ??= [];
  out.contact ??= {};
  out.delivery ??= { mode: 'pull' };
  out.certificates = ((out.certificates ?? []) as CertificateDoc[]).map(toRegisteredCertificate);
  return out as unknown as Agency;
}

export interface DirectoryStoreOptions {
  /** A version lease not renewed for this long belongs to a crashed writer and no longer holds the feed. */
  readonly versionLeaseMs: number;
}

export class MongoDirectoryStore implements DirectoryStore {
  readonly #agencies: Collection<AgencyDoc>;
  readonly #codes: Collection<CodeDoc>;
  readonly #counters: Collection<CounterDoc>;
  readonly #imports: Collection<ImportDoc>;
  readonly #undo: Collection<UndoDoc>;
  readonly #locks: Collection<LockDoc>;
  readonly #records: Collection<RecordsDoc>;
  readonly #leaseMs: number;
  #localQueue: Promise<void> = Promise.resolve();

  private constructor(db: mongo.Db, opts: DirectoryStoreOptions) {
    // The driver's collections (mongoose's `Collection` is the same object with the driver's API).
    this.#agencies = db.collection<AgencyDoc>('agencies');
    this.#codes = db.collection<CodeDoc>('agency_codes');
    this.#counters = db.collection<CounterDoc>('directory_counters');
    this.#imports = db.collection<ImportDoc>('directory_imports');
    this.#undo = db.collection<UndoDoc>('directory_import_undo');
    this.#locks = db.collection<LockDoc>('directory_locks');
    this.#records = db.collection<RecordsDoc>('directory_import_records');
    this.#leaseMs = opts.versionLeaseMs;
  }

  /**
   * Opens the store on a connection whose `agencies` collection and indexes exist (models.ts).
   * Databases written before the code register existed are migrated: every agency's codes are
   * registered, and the version counter starts above the highest version already used.
   */
  static async open(conn: Connection, opts: DirectoryStoreOptions = { versionLeaseMs: 60_000 }) {
    const db = conn.db;
    if (!db) throw new Error('MongoDB connection not open');
    for (const name of [
      'agency_codes',
      'directory_counters',
      'directory_locks',
      'directory_imports',
      'directory_import_undo',
      'directory_import_records',
    ])
      await db.createCollection(name).catch(() => undefined);
    await db.collection('directory_imports').createIndex({ state: 1 });
    await db.collection('directory_import_undo').createIndex({ importId: 1 });
    await db.collection('agency_codes').createIndex({ canonical: 1 });
    const store = new MongoDirectoryStore(db, opts);
    await store.#migrate();
    return store;
  }

  async #migrate(): Promise<void> {
    const counter = await this.#counters.findOne({ _id: VERSION_COUNTER });
    if (counter) return;
    const agencies = await this.#agencies
      .find({}, { projection: { _id: 1, legacyCode: 1, version: 1 } })
      .toArray();
    if (agencies.length > 0) {
      const reservations: CodeReservation[] = [];
      for (const a of agencies) {
        reservations.push({ code: a._id, canonical: a._id, kind: 'canonical' });
        if (a.legacyCode) reservations.push({ code: a.legacyCode, canonical: a._id, kind: 'legacy' });
      }
      await this.reserveCodes(reservations, 'migration');
    }
    const max = agencies.reduce((m, a) => Math.max(m, typeof a.version === 'number' ? a.version : 0), 0);
    await this.#counters.insertOne({ _id: VERSION_COUNTER, seq: max }).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }

  // ---- lookups -------------------------------------------------------------------------------

  async #byId(code: string): Promise<AgencyDoc | null> {
    return this.#agencies.findOne({ _id: code });
  }

  async findByCode(code: string): Promise<Agency | null> {
    // A 13-character legacy code is never a canonical code: straight to the register.
    const direct = isLegacyCode(code) ? null : await this.#byId(code);
    if (direct) return toAgency(direct);
    // Not a canonical code: maybe a legacy alias. Both steps are _id lookups.
    const reg = await this.#codes.findOne({ _id: code });
    if (!reg || reg.canonical === code) return null;
    const d = await this.#byId(reg.canonical);
    return d ? toAgency(d) : null;
  }

  async findMany(codes: readonly string[]): Promise<Map<string, Agency>> {
    const unique = [...new Set(codes)];
    // Individual _id lookups rather than one $in: FerretDB pushes down only `_id` equality, and on
    // MongoDB both are index lookups.
    const found = await mapLimit(unique, LOOKUP_CONCURRENCY, (c) => this.findByCode(c));
    const out = new Map<string, Agency>();
    unique.forEach((c, i) => {
      const a = found[i];
      if (a) out.set(c, a);
    });
    return out;
  }

  count(): Promise<number> {
    return this.#agencies.estimatedDocumentCount();
  }

  async search(q: AgencySearch): Promise<Agency[]> {
    const and: Filter<AgencyDoc>[] = [];
    if (q.codePrefix) {
      // Canonical codes use A-Z, 0-9 and '.': '~' sorts after all of them.
      and.push({ _id: { $gte: q.codePrefix, $lt: `${q.codePrefix}~` } });
    }
    if (q.after) and.push({ _id: { $gt: q.after } });
    for (const w of q.nameWords ?? []) and.push({ nameFolded: { $regex: escapeRegex(w) } });
    if (q.block) and.push({ block: q.block });
    if (q.province) and.push({ province: q.province });
    if (q.status) and.push({ status: q.status });
    if (q.parentCode) and.push({ parentCode: q.parentCode });
    if (q.topLevel) and.push({ parentCode: null });
    const filter: Filter<AgencyDoc> = and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
    const docs = await this.#agencies.find(filter).sort({ _id: 1 }).limit(q.limit).toArray();
    return docs.map(toAgency);
  }

  async changes(since: number, limit: number) {
    const { watermark, stalled } = await this.watermark();
    if (watermark <= since) return { items: [], watermark, stalled };
    const docs = await this.#agencies
      .find({ version: { $gt: since, $lte: watermark } })
      .sort({ version: 1 })
      .limit(limit)
      .toArray();
    return { items: docs.map(toAgency), watermark, stalled };
  }

  async *exportAll(): AsyncIterable<Agency> {
    const cursor = this.#agencies.find({}).sort({ _id: 1 }).batchSize(1000);
    try {
      for await (const d of cursor) yield toAgency(d);
    } finally {
      await cursor.close();
    }
  }

  // ---- the single writer and the version counter ----------------------------------------------

  /**
   * Every directory change runs under one writer lock. FerretDB 1.x has no atomic
   * read-modify-write (its update and findAndModify read the document, change it in Go and write it
   * back without a lock: concurrent `$inc` lose increments, compare-and-set filters are not
   * re-checked), and an insert against a unique `_id` is the only atomic step it offers. So:
   *
   * - The lock is a chain of documents `lock:1`, `lock:2`, …: taking it is inserting the next one,
   *   which exactly one contender wins. It is held until `releasedAt` is set; a holder that stops
   *   renewing it for `versionLeaseMs` is dead and the next `lock:n+1` takes over (no delete races).
   * - Change-feed versions come from one counter document, never from clocks, so they are monotonic
   *   across processes; only the holder moves it. Before moving it the holder records on its lock
   *   the first version it takes: readers of the feed stop below it (the watermark) until the lock
   *   is released, so a version is never shown before every lower version is written and a DMS
   *   that syncs with `since=<last version seen>` misses nothing.
   */
  async withWriter<T>(label: string, fn: (w: DirectoryWriter) => Promise<T>, timeoutMs = 30_000): Promise<T> {
    // Writers of this process queue here first, so only one of them polls the shared lock.
    const previous = this.#localQueue;
    let done!: () => void;
    this.#localQueue = new Promise<void>((r) => (done = r));
    try {
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        previous.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
      if (!waited) throw new HubError('UNAVAILABLE', `the directory is busy; try again later`);
      return await this.#withSharedLock(label, fn, timeoutMs);
    } finally {
      done();
    }
  }

  async #withSharedLock<T>(
    label: string,
    fn: (w: DirectoryWriter) => Promise<T>,
    timeoutMs: number,
  ): Promise<T> {
    const owner = randomUUID();
    const deadline = Date.now() + timeoutMs;
    let n: number;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.#latestLock();
      if (cur.doc && !cur.doc.releasedAt && this.#fresh(cur.doc)) {
        if (Date.now() > deadline)
          throw new HubError('UNAVAILABLE', `the directory is busy (${cur.doc.label}); try again later`);
        await sleep(5 + Math.random() * Math.min(50, 5 * attempt));
        continue;
      }
      n = cur.n + 1;
      const now = new Date();
      try {
        await this.#locks.insertOne({ _id: `lock:${n}`, n, owner, label, acquiredAt: now, heartbeatAt: now });
        break;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    await this.#counters.updateOne({ _id: LOCK_HINT }, { $set: { seq: n } }, { upsert: true });
    const lockId = `lock:${n}`;
    let from: number | undefined;
    const writer: DirectoryWriter = {
      versions: async (k: number) => {
        if (!Number.isInteger(k) || k < 1) throw new Error(`cannot take ${k} versions`);
        const seq = (await this.#counters.findOne({ _id: VERSION_COUNTER }))?.seq ?? 0;
        if (from === undefined) {
          from = seq + 1;
          await this.#locks.updateOne({ _id: lockId }, { $set: { from } });
        }
        await this.#counters.updateOne(
          { _id: VERSION_COUNTER },
          { $set: { seq: seq + k } },
          { upsert: true },
        );
        return seq + 1;
      },
      renew: async () => {
        if (await this.#locks.findOne({ _id: `lock:${n + 1}` }, { projection: { _id: 1 } }))
          throw new Error(`lost the directory lock (${label}): another writer took it over`);
        await this.#locks.updateOne({ _id: lockId }, { $set: { heartbeatAt: new Date() } });
      },
    };
    try {
      return await fn(writer);
    } finally {
      await this.#locks.updateOne({ _id: lockId }, { $set: { releasedAt: new Date() } });
    }
  }

  #fresh(lock: LockDoc): boolean {
    return Date.now() - new Date(lock.heartbeatAt).getTime() <= this.#leaseMs;
  }

  /** The last lock of the chain (`n` = 0 and no document when none was ever taken). */
  async #latestLock(): Promise<{ n: number; doc: LockDoc | null }> {
    let n = (await this.#counters.findOne({ _id: LOCK_HINT }))?.seq ?? 0;
    let doc = n > 0 ? await this.#locks.findOne({ _id: `lock:${n}` }) : null;
    for (;;) {
      const next = await this.#locks.findOne({ _id: `lock:${n + 1}` });
      if (!next) return { n, doc };
      n++;
      doc = next;
    }
  }

  /** The highest version below which every write is finished; `stalled` when a dead writer holds it. */
  async watermark(): Promise<{ watermark: number; stalled: boolean }> {
    // The counter first, then the lock: a holder records `from` on its lock before moving the counter.
    const seq = (await this.#counters.findOne({ _id: VERSION_COUNTER }))?.seq ?? 0;
    const { doc } = await this.#latestLock();
    if (doc && !doc.releasedAt && doc.from !== undefined)
      return { watermark: Math.min(seq, doc.from - 1), stalled: !this.#fresh(doc) };
    return { watermark: seq, stalled: false };
  }

  // ---- codes ---------------------------------------------------------------------------------

  async takeOrdinals(parent: string, n: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const d = await this.#counters.findOneAndUpdate(
          { _id: `code:${parent}` },
          { $inc: { seq: n } },
          { upsert: true, returnDocument: 'after' },
        );
        if (!d) throw new Error(`code counter of ${parent} not returned`);
        return d.seq - n + 1;
      } catch (err) {
        // Two first-ever upserts race: one wins the insert, the other retries as an update.
        if (!isDuplicateKey(err) || attempt > 5) throw err;
      }
    }
  }

  /** The last ordinal handed out under `parent` (0 when none). */
  async lastOrdinal(parent: string): Promise<number> {
    return (await this.#counters.findOne({ _id: `code:${parent}` }))?.seq ?? 0;
  }

  async returnOrdinals(parent: string, first: number, last: number): Promise<boolean> {
    // Read-modify-write under the writer lock (FerretDB 1.x re-checks no filter at write time).
    if ((await this.lastOrdinal(parent)) !== last) return false;
    await this.#counters.updateOne({ _id: `code:${parent}` }, { $set: { seq: first - 1 } });
    return true;
  }

  async reserveCodes(entries: readonly CodeReservation[], by: string): Promise<Set<string>> {
    const taken = new Set<string>();
    const issuedAt = new Date();
    for (let i = 0; i < entries.length; i += 1000) {
      const batch = entries.slice(i, i + 1000);
      try {
        await this.#codes.insertMany(
          batch.map((e) => ({
            _id: e.code,
            canonical: e.canonical,
            kind: e.kind,
            issuedAt,
            by,
            ...(e.given ? { given: true } : {}),
          })),
          { ordered: false },
        );
      } catch (err) {
        for (const idx of duplicateIndexes(err, batch.length)) taken.add(batch[idx]!.code);
      }
    }
    return taken;
  }

  async dropReservations(codes: readonly string[], by: string): Promise<void> {
    for (const code of codes) {
      // Only a reservation this writer made, and only while no agency carries the code.
      if (await this.#byId(code)) continue;
      const reg = await this.#codes.findOne({ _id: code });
      if (reg?.by === by) await this.#codes.deleteOne({ _id: code });
    }
  }

  async issued(codes: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(codes)];
    if (unique.length <= 64) {
      const hits = await mapLimit(unique, LOOKUP_CONCURRENCY, (c) =>
        this.#codes.findOne({ _id: c }, { projection: { _id: 1 } }),
      );
      return new Set(unique.filter((_, i) => hits[i]));
    }
    // Many codes (a bulk import): a few $in queries rather than one lookup each.
    const out = new Set<string>();
    for (let i = 0; i < unique.length; i += 10_000) {
      const docs = await this.#codes
        .find({ _id: { $in: unique.slice(i, i + 10_000) } }, { projection: { _id: 1 } })
        .toArray();
      for (const d of docs) out.add(d._id);
    }
    return out;
  }

  // ---- writes --------------------------------------------------------------------------------

  async insertAgencies(agencies: readonly Agency[], importId?: string): Promise<void> {
    for (let i = 0; i < agencies.length; i += 1000) {
      const batch = agencies.slice(i, i + 1000).map((a) => toDoc(a, importId));
      if (batch.length) await this.#agencies.insertMany(batch, { ordered: true });
    }
  }

  async update(
    code: string,
    expectedVersion: number,
    version: number,
    patch: AgencyPatch,
  ): Promise<Agency | null> {
    const current = await this.#byId(code);
    if (!current || current.version !== expectedVersion) return null;
    const set: Record<string, unknown> = { version, updatedAt: new Date() };
    const unset: Record<string, ''> = {};
    for (const [k, v] of Object.entries(patch.set)) {
      if (v === undefined) unset[k] = '';
      else set[k] = v;
    }
    const name = patch.set.name ?? current.name;
    const shortName = 'shortName' in patch.set ? patch.set.shortName : current.shortName;
    set.nameFolded = searchText(name, shortName);
    const successors = [...current.successors];
    for (const s of patch.addSuccessors ?? []) if (!successors.includes(s)) successors.push(s);
    if (patch.addSuccessors) set.successors = successors;
    if (patch.replaceSuccessors) set.successors = [...patch.replaceSuccessors];
    const update: UpdateFilter<AgencyDoc> = { $set: set as Partial<AgencyDoc> };
    if (Object.keys(unset).length) update.$unset = unset;
    // Filter on `_id` alone: the only filter FerretDB serves from an index (a second condition makes
    // it scan the collection). The version was checked on the document just read, under the lock.
    const r = await this.#agencies.updateOne({ _id: code }, update);
    if (r.matchedCount !== 1) return null;
    const after = await this.#byId(code);
    return after ? toAgency(after) : null;
  }

  /**
   * Development seed: agencies not in the directory yet are registered (codes first, then the
   * agency, with counter versions); existing ones are left as they are.
   */
  async upsertSeed(agencies: readonly Omit<Agency, 'version' | 'updatedAt'>[]): Promise<number> {
    const missing: Omit<Agency, 'version' | 'updatedAt'>[] = [];
    for (const a of agencies) if (!(await this.#byId(a.code))) missing.push(a);
    if (missing.length === 0) return 0;
    return this.withWriter('development seed', async (w) => {
      const todo: Omit<Agency, 'version' | 'updatedAt'>[] = [];
      for (const a of missing) if (!(await this.#byId(a.code))) todo.push(a); // another process seeded
      if (todo.length === 0) return 0;
      // Codes already registered are those of an earlier, interrupted seed: the same agencies.
      await this.reserveCodes(
        todo.flatMap((a) => [
          { code: a.code, canonical: a.code, kind: 'canonical' as const },
          ...(a.legacyCode ? [{ code: a.legacyCode, canonical: a.code, kind: 'legacy' as const }] : []),
        ]),
        'seed',
      );
      const from = await w.versions(todo.length);
      const now = new Date();
      await this.insertAgencies(todo.map((a, i) => ({ ...a, version: from + i, updatedAt: now })));
      return todo.length;
    });
  }

  // ---- import journal ------------------------------------------------------------------------

  async startImport(job: Omit<ImportJob, 'state' | 'heartbeatAt'>): Promise<void> {
    const { id, ...rest } = job;
    await this.#imports.insertOne({ _id: id, ...rest, state: 'applying', heartbeatAt: new Date() });
  }

  async heartbeatImport(id: string): Promise<void> {
    await this.#imports.updateOne({ _id: id }, { $set: { heartbeatAt: new Date() } });
  }

  async finishImport(
    id: string,
    state: 'done' | 'rolled-back',
    extra: { error?: string; created?: number } = {},
  ): Promise<void> {
    await this.#imports.updateOne({ _id: id }, { $set: { state, finishedAt: new Date(), ...extra } });
  }

  async getImport(id: string): Promise<ImportJob | null> {
    const d = await this.#imports.findOne({ _id: id });
    if (!d) return null;
    const { _id, ...rest } = d;
    return { id: _id, ...rest };
  }

  /** Imports still `applying` whose heartbeat is older than `staleBefore`: their process died. */
  async staleImports(staleBefore: Date): Promise<ImportJob[]> {
    const ds = await this.#imports.find({ state: 'applying' }).toArray();
    return ds
      .filter((d) => new Date(d.heartbeatAt).getTime() < staleBefore.getTime())
      .map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }

  /** Saves the state of agencies before the import changes them (written before the change). */
  async saveUndo(importId: string, entries: readonly { before: Agency; appliedVersion: number }[]) {
    if (entries.length === 0) return;
    await this.#undo.insertMany(
      entries.map((e) => ({
        _id: `${importId}:${e.before.code}`,
        importId,
        code: e.before.code,
        before: toDoc(e.before),
        appliedVersion: e.appliedVersion,
      })),
      { ordered: false },
    );
  }

  /**
   * Rolls an import back: agencies it changed get their previous content back (with a new
   * version, only if nobody changed them after the import), agencies it created are removed. Its
   * code reservations stay: those codes are burnt, never reissued. Returns what was undone.
   */
  async rollbackImport(importId: string, w: DirectoryWriter) {
    let restored = 0;
    const undo = await this.#undo.find({ importId }).toArray();
    if (undo.length) {
      const from = await w.versions(undo.length);
      for (const [i, u] of undo.entries()) {
        // Only what the import changed (the writer lock keeps anyone else from changing it since).
        if ((await this.#byId(u.code))?.version !== u.appliedVersion) continue;
        const { _id, ...before } = u.before;
        const r = await this.#agencies.replaceOne(
          { _id: u.code },
          { ...before, version: from + i, updatedAt: new Date() },
        );
        restored += r.modifiedCount;
      }
    }
    const removed = await deleteAllMatching(this.#agencies, { importId });
    // Codes the file gave (existing agencies being registered) are freed for a corrected file;
    // codes the hub assigned stay burnt: they may have been seen while the import was applying.
    await deleteAllMatching(this.#codes, { by: importId, given: true });
    await deleteAllMatching(this.#records, { importId });
    return { restored, removed };
  }

  async clearUndo(importId: string): Promise<void> {
    await deleteAllMatching(this.#undo, { importId });
  }

  async saveImportRecords(importId: string, records: readonly Record<string, unknown>[]): Promise<void> {
    const docs: RecordsDoc[] = [];
    for (let i = 0, part = 1; i < records.length; i += 1000, part++)
      docs.push({ _id: `${importId}:${part}`, importId, part, records: records.slice(i, i + 1000) });
    for (let i = 0; i < docs.length; i += 20) await this.#records.insertMany(docs.slice(i, i + 20));
  }

  async importRecords(importId: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    // Parts by _id: `importId:1`, `importId:2`, … (lookups FerretDB serves from the index).
    for (let part = 1; ; part++) {
      const d = await this.#records.findOne({ _id: `${importId}:${part}` });
      if (!d) return out;
      out.push(...d.records);
    }
  }
}

/**
 * deleteMany in bounded steps: FerretDB's SQLite backend deletes the matched ids with one statement
 * and fails past SQLite's 32,766 variables ("too many SQL variables"), e.g. rolling back a
 * 120,000-row import.
 */
async function deleteAllMatching<T extends { _id: string }>(
  coll: mongo.Collection<T>,
  filter: mongo.Filter<T>,
): Promise<number> {
  let removed = 0;
  for (;;) {
    const ids = (
      await coll
        .find(filter, { projection: { _id: 1 } })
        .limit(10_000)
        .toArray()
    ).map((d) => d._id);
    if (ids.length === 0) return removed;
    removed += (await coll.deleteMany({ _id: { $in: ids } } as mongo.Filter<T>)).deletedCount;
  }
}
