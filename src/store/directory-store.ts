/**
 * MongoDB persistence of the agency directory (issue 3), on MongoDB and on FerretDB 1.x:
 * single-document atomic writes only, no transactions.
 *
 * Collections:
 * - `agencies`: one document per agency, `_id` = canonical code. Never deleted (a closed agency
 *   stays, with its successors), except when an interrupted import is rolled back.
 * - `agency_codes`: the register of every code ever issued, canonical and legacy alike, `_id` = the
 *   code. A code is issued by inserting it here first; the unique `_id` makes issuing atomic and
 *   reuse impossible, even of closed codes. On FerretDB, lookups by legacy code go through it, so
 *   that every lookup is an `_id` lookup (the only filter its SQLite backend pushes down).
 * - `directory_counters`: `code:<parent>` ordinals (never down) and `version`, the change-feed
 *   counter (on MongoDB it also carries the writer lock).
 * - `directory_imports` and `directory_import_undo`: the journal of bulk imports, so that an import
 *   interrupted mid-way is rolled back (all-or-nothing per file); `directory_import_records`: the
 *   units each import created, as audited (their SHA-256 is chained in the audit log).
 * - `directory_locks`: the FerretDB dialect's single-writer lock chain (directory/ferretdb.ts).
 *
 * What FerretDB and MongoDB do differently is in the dialects (directory/ferretdb.ts,
 * directory/mongodb.ts, chosen by `createMongoStores`' `dialect`); the rest is here.
 */
import type { Connection, mongo } from 'mongoose';
import type {
  AgencyPatch,
  CodeReservation,
  AgencySearch,
  DirectoryStore,
  DirectoryWriter,
  ImportJob,
} from '../domain/ports.ts';
import { HubError } from '../domain/errors.ts';
import type { Agency } from '../domain/types.ts';
import type { UpdateDialect } from './stores.ts';
import { FerretDirectoryDialect } from './directory/ferretdb.ts';
import { MongoDirectoryDialect } from './directory/mongodb.ts';
import {
  VERSION_COUNTER,
  toAgency,
  toDoc,
  type AgencyDoc,
  type DirectoryCollections,
  type DirectoryDialect,
  type ImportDoc,
} from './directory/records.ts';
import { duplicateIndexes, isDuplicateKey } from './errors.ts';

export { searchText } from './directory/records.ts';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const toJob = ({ _id, ...rest }: ImportDoc): ImportJob => ({ id: _id, ...rest });

export interface DirectoryStoreOptions {
  /** A version lease not renewed for this long belongs to a crashed writer and no longer holds the feed. */
  readonly versionLeaseMs: number;
  /** The clock leases are measured with (tests move it to expire a lease without waiting). */
  readonly now?: () => Date;
}

export class MongoDirectoryStore implements DirectoryStore {
  readonly #c: DirectoryCollections;
  readonly #d: DirectoryDialect;
  readonly #now: () => Date;
  #localQueue: Promise<void> = Promise.resolve();

  private constructor(db: mongo.Db, opts: DirectoryStoreOptions, dialect: UpdateDialect) {
    // The driver's collections (mongoose's `Collection` is the same object with the driver's API).
    this.#c = {
      agencies: db.collection('agencies'),
      codes: db.collection('agency_codes'),
      counters: db.collection('directory_counters'),
      imports: db.collection('directory_imports'),
      undo: db.collection('directory_import_undo'),
      locks: db.collection('directory_locks'),
      records: db.collection('directory_import_records'),
    };
    this.#now = opts.now ?? (() => new Date());
    const timing = { leaseMs: opts.versionLeaseMs, now: this.#now };
    this.#d =
      dialect === 'mongodb'
        ? new MongoDirectoryDialect(this.#c, timing)
        : new FerretDirectoryDialect(this.#c, timing);
  }

  /**
   * Opens the store on a connection whose `agencies` collection and indexes exist (models.ts), in
   * the dialect of the server (stores.ts `detectDialect`; FerretDB's unless told otherwise).
   * Data migrations are not run here: databases written before the code register existed are
   * migrated by `hubctl migrate` (migrateDirectoryCodes, registered in src/store/migrations.ts).
   */
  static async open(
    conn: Connection,
    opts: DirectoryStoreOptions = { versionLeaseMs: 60_000 },
    dialect: UpdateDialect = 'id-only',
  ) {
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
    await db.collection('directory_import_records').createIndex({ importId: 1, part: 1 });
    await db.collection('agency_codes').createIndex({ canonical: 1 });
    return new MongoDirectoryStore(db, opts, dialect);
  }

  /** What migrateDirectoryCodes needs: whether the counter exists, the agencies' codes. */
  async migrationState() {
    const counter = await this.#c.counters.findOne({ _id: VERSION_COUNTER });
    if (counter) return null;
    return this.#c.agencies.find({}, { projection: { _id: 1, legacyCode: 1, version: 1 } }).toArray();
  }

  /** Starts the version counter at `seq` unless it exists (concurrent starts: the first wins). */
  async startVersionCounter(seq: number): Promise<void> {
    await this.#c.counters.insertOne({ _id: VERSION_COUNTER, seq }).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }

  // ---- lookups -------------------------------------------------------------------------------

  async findByCode(code: string): Promise<Agency | null> {
    const d = await this.#d.findByCode(code);
    return d ? toAgency(d) : null;
  }

  async findMany(codes: readonly string[]): Promise<Map<string, Agency>> {
    const found = await this.#d.findMany([...new Set(codes)]);
    return new Map([...found].map(([c, d]) => [c, toAgency(d)]));
  }

  count(): Promise<number> {
    return this.#c.agencies.estimatedDocumentCount();
  }

  async search(q: AgencySearch): Promise<Agency[]> {
    const and: mongo.Filter<AgencyDoc>[] = [];
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
    const filter: mongo.Filter<AgencyDoc> =
      and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
    const docs = await this.#c.agencies.find(filter).sort({ _id: 1 }).limit(q.limit).toArray();
    return docs.map(toAgency);
  }

  async changes(since: number, limit: number) {
    const { watermark, stalled } = await this.watermark();
    if (watermark <= since) return { items: [], watermark, stalled };
    const docs = await this.#c.agencies
      .find({ version: { $gt: since, $lte: watermark } })
      .sort({ version: 1 })
      .limit(limit)
      .toArray();
    return { items: docs.map(toAgency), watermark, stalled };
  }

  async *exportAll(): AsyncIterable<Agency> {
    const cursor = this.#c.agencies.find({}).sort({ _id: 1 }).batchSize(1000);
    try {
      for await (const d of cursor) yield toAgency(d);
    } finally {
      await cursor.close();
    }
  }

  // ---- the single writer and the version counter ----------------------------------------------

  /**
   * Every directory change runs under one writer lock, shared by all processes (the dialects say
   * how it is taken). Change-feed versions come from one counter document, never from clocks, so
   * they are monotonic across processes; only the holder moves it. Before moving it the holder
   * records on its lock the first version it takes: readers of the feed stop below it (the
   * watermark) until the lock is released, so a version is never shown before every lower version
   * is written and a DMS that syncs with `since=<last version seen>` misses nothing. A holder that
   * stops renewing the lock for `versionLeaseMs` is dead: the next writer takes over.
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
      const held = await this.#d.lock(label, Date.now() + timeoutMs);
      try {
        return await fn({
          versions: (k: number) => {
            if (!Number.isInteger(k) || k < 1) throw new Error(`cannot take ${k} versions`);
            return held.versions(k);
          },
          renew: () => held.renew(),
        });
      } finally {
        await held.release();
      }
    } finally {
      done();
    }
  }

  /** The highest version below which every write is finished; `stalled` when a dead writer holds it. */
  watermark(): Promise<{ watermark: number; stalled: boolean }> {
    return this.#d.watermark();
  }

  // ---- codes ---------------------------------------------------------------------------------

  takeOrdinals(parent: string, n: number): Promise<number> {
    return this.#d.takeOrdinals(parent, n);
  }

  /** The last ordinal handed out under `parent` (0 when none). */
  async lastOrdinal(parent: string): Promise<number> {
    return (await this.#c.counters.findOne({ _id: `code:${parent}` }))?.seq ?? 0;
  }

  returnOrdinals(parent: string, first: number, last: number): Promise<boolean> {
    return this.#d.returnOrdinals(parent, first, last);
  }

  async reserveCodes(entries: readonly CodeReservation[], by: string): Promise<Set<string>> {
    const taken = new Set<string>();
    const issuedAt = new Date();
    for (let i = 0; i < entries.length; i += 1000) {
      const batch = entries.slice(i, i + 1000);
      try {
        await this.#c.codes.insertMany(
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
      if (await this.#c.agencies.findOne({ _id: code }, { projection: { _id: 1 } })) continue;
      const reg = await this.#c.codes.findOne({ _id: code });
      if (reg?.by === by) await this.#c.codes.deleteOne({ _id: code });
    }
  }

  issued(codes: readonly string[]): Promise<Set<string>> {
    return this.#d.issued([...new Set(codes)]);
  }

  // ---- writes --------------------------------------------------------------------------------

  async insertAgencies(agencies: readonly Agency[], importId?: string): Promise<void> {
    for (let i = 0; i < agencies.length; i += 1000) {
      const batch = agencies.slice(i, i + 1000).map((a) => toDoc(a, importId));
      if (batch.length) await this.#c.agencies.insertMany(batch, { ordered: true });
    }
  }

  async update(
    code: string,
    expectedVersion: number,
    version: number,
    patch: AgencyPatch,
  ): Promise<Agency | null> {
    const after = await this.#d.update(code, expectedVersion, version, patch);
    return after ? toAgency(after) : null;
  }

  /**
   * Development seed: agencies not in the directory yet are registered (codes first, then the
   * agency, with counter versions); existing ones are left as they are.
   */
  async upsertSeed(agencies: readonly Omit<Agency, 'version' | 'updatedAt'>[]): Promise<number> {
    const absent = async (list: readonly Omit<Agency, 'version' | 'updatedAt'>[]) => {
      const found = await this.#d.findMany(list.map((a) => a.code));
      return list.filter((a) => found.get(a.code)?._id !== a.code);
    };
    const missing = await absent(agencies);
    if (missing.length === 0) return 0;
    return this.withWriter('development seed', async (w) => {
      const todo = await absent(missing); // another process may have seeded meanwhile
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
    await this.#c.imports.insertOne({ _id: id, ...rest, state: 'applying', heartbeatAt: this.#now() });
  }

  async heartbeatImport(id: string): Promise<void> {
    await this.#c.imports.updateOne({ _id: id }, { $set: { heartbeatAt: this.#now() } });
  }

  async finishImport(
    id: string,
    state: 'done' | 'rolled-back',
    extra: { error?: string; created?: number } = {},
  ): Promise<void> {
    await this.#c.imports.updateOne({ _id: id }, { $set: { state, finishedAt: new Date(), ...extra } });
  }

  async getImport(id: string): Promise<ImportJob | null> {
    const d = await this.#c.imports.findOne({ _id: id });
    return d ? toJob(d) : null;
  }

  /** Imports still `applying` whose heartbeat is older than `staleBefore`: their process died. */
  async staleImports(staleBefore: Date): Promise<ImportJob[]> {
    return (await this.#d.staleImports(staleBefore)).map(toJob);
  }

  /** Saves the state of agencies before the import changes them (written before the change). */
  async saveUndo(importId: string, entries: readonly { before: Agency; appliedVersion: number }[]) {
    if (entries.length === 0) return;
    await this.#c.undo.insertMany(
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
    const undo = await this.#c.undo.find({ importId }).toArray();
    if (undo.length) {
      const from = await w.versions(undo.length);
      for (const [i, u] of undo.entries()) {
        // Only what the import changed (its version is still the one the import gave).
        const { _id, ...before } = u.before;
        if (
          await this.#d.restore(u.code, u.appliedVersion, {
            ...before,
            version: from + i,
            updatedAt: new Date(),
          })
        )
          restored++;
      }
    }
    const removed = await this.#d.deleteAll(this.#c.agencies, { importId });
    // Codes the file gave (existing agencies being registered) are freed for a corrected file;
    // codes the hub assigned stay burnt: they may have been seen while the import was applying.
    await this.#d.deleteAll(this.#c.codes, { by: importId, given: true });
    await this.#d.deleteAll(this.#c.records, { importId });
    return { restored, removed };
  }

  async clearUndo(importId: string): Promise<void> {
    await this.#d.deleteAll(this.#c.undo, { importId });
  }

  async saveImportRecords(importId: string, records: readonly Record<string, unknown>[]): Promise<void> {
    const docs = [];
    for (let i = 0, part = 1; i < records.length; i += 1000, part++)
      docs.push({ _id: `${importId}:${part}`, importId, part, records: records.slice(i, i + 1000) });
    for (let i = 0; i < docs.length; i += 20) await this.#c.records.insertMany(docs.slice(i, i + 20));
  }

  async importRecords(importId: string): Promise<Record<string, unknown>[]> {
    return (await this.#d.importRecords(importId)).flatMap((d) => d.records);
  }
}

/**
 * Databases written before the code register existed: every agency's codes are registered, and
 * the version counter starts above the highest version already used. Runs once per database (the
 * counter's existence is the marker); concurrent runs register the same codes.
 */
export async function migrateDirectoryCodes(store: MongoDirectoryStore): Promise<void> {
  const agencies = await store.migrationState();
  if (!agencies) return;
  if (agencies.length > 0) {
    const reservations: CodeReservation[] = [];
    for (const a of agencies) {
      reservations.push({ code: a._id, canonical: a._id, kind: 'canonical' });
      if (a.legacyCode) reservations.push({ code: a.legacyCode, canonical: a._id, kind: 'legacy' });
    }
    await store.reserveCodes(reservations, 'migration');
  }
  await store.startVersionCounter(
    agencies.reduce((m, a) => Math.max(m, typeof a.version === 'number' ? a.version : 0), 0),
  );
}
