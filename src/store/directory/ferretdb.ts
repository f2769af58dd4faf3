/**
 * The directory on FerretDB 1.x (SQLite backend): its limits handled here, nowhere else.
 *
 * - No atomic read-modify-write: its update and findAndModify read the document, change it in Go and
 *   write it back without a lock (concurrent `$inc` lose increments, compare-and-set filters are not
 *   re-checked). An insert against a unique `_id` is the only atomic step it offers, so the writer
 *   lock is a chain of inserted documents, and every conditional update is a read by `_id`, a check,
 *   and an update by `_id`, made safe by that lock.
 * - Only a lone `_id` equality filter is pushed down to SQLite; anything else scans the collection.
 *   So lookups go through `_id` (legacy codes through the register of issued codes), a few codes
 *   are looked up one by one rather than with `$in`, and filters on other fields run here.
 * - A delete of many ids is one statement that fails past SQLite's 32,766 variables: deletes go in
 *   bounded steps.
 */
import { randomUUID } from 'node:crypto';
import type { mongo } from 'mongoose';
import { isLegacyCode } from '../../domain/codes.ts';
import { HubError } from '../../domain/errors.ts';
import type { AgencyPatch } from '../../domain/ports.ts';
import { LOOKUP_CONCURRENCY, mapLimit } from '../../domain/concurrency.ts';
import {
  VERSION_COUNTER,
  DialectBase,
  agencyUpdate,
  lockBackoff,
  isDuplicateKey,
  patchFields,
  registeredAmong,
  searchText,
  type AgencyDoc,
  type Collection,
  type DirectoryDialect,
  type HeldLock,
  type ImportDoc,
  type LockDoc,
  type RecordsDoc,
} from './records.ts';

/** `directory_counters` entry pointing at (or below) the last link of the lock chain. */
const LOCK_HINT = 'lock';

export class FerretDirectoryDialect extends DialectBase implements DirectoryDialect {
  #byId(code: string): Promise<AgencyDoc | null> {
    return this.c.agencies.findOne({ _id: code });
  }

  async findByCode(code: string): Promise<AgencyDoc | null> {
    // A 13-character legacy code is never a canonical code: straight to the register.
    const direct = isLegacyCode(code) ? null : await this.#byId(code);
    if (direct) return direct;
    // Not a canonical code: maybe a legacy alias. Both steps are _id lookups.
    const reg = await this.c.codes.findOne({ _id: code });
    if (!reg || reg.canonical === code) return null;
    return this.#byId(reg.canonical);
  }

  async findMany(codes: readonly string[]): Promise<Map<string, AgencyDoc>> {
    // Individual _id lookups rather than one $in: FerretDB pushes down only `_id` equality.
    const found = await mapLimit(codes, LOOKUP_CONCURRENCY, (c) => this.findByCode(c));
    const out = new Map<string, AgencyDoc>();
    codes.forEach((c, i) => {
      const a = found[i];
      if (a) out.set(c, a);
    });
    return out;
  }

  async issued(codes: readonly string[]): Promise<Set<string>> {
    if (codes.length <= 64) {
      const hits = await mapLimit(codes, LOOKUP_CONCURRENCY, (c) =>
        this.c.codes.findOne({ _id: c }, { projection: { _id: 1 } }),
      );
      return new Set(codes.filter((_, i) => hits[i]));
    }
    // Many codes (a bulk import): a few $in queries (each a scan) rather than one lookup each.
    return registeredAmong(this.c.codes, codes);
  }

  /**
   * The lock is a chain of documents `lock:1`, `lock:2`, …: taking it is inserting the next one,
   * which exactly one contender wins. It is held until `releasedAt` is set; a holder that stops
   * renewing it for the lease is dead and the next `lock:n+1` takes over (no delete races). Before
   * moving the version counter the holder records on its lock the first version it takes.
   */
  async lock(label: string, deadline: number): Promise<HeldLock> {
    const owner = randomUUID();
    let n: number;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.#latestLock();
      if (cur.doc && !cur.doc.releasedAt && this.fresh(cur.doc)) {
        if (Date.now() > deadline)
          throw new HubError('UNAVAILABLE', `the directory is busy (${cur.doc.label}); try again later`);
        await lockBackoff(attempt);
        continue;
      }
      n = cur.n + 1;
      const now = this.t.now();
      try {
        await this.c.locks.insertOne({
          _id: `lock:${n}`,
          n,
          owner,
          label,
          acquiredAt: now,
          heartbeatAt: now,
        });
        break;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    await this.c.counters.updateOne({ _id: LOCK_HINT }, { $set: { seq: n } }, { upsert: true });
    const lockId = `lock:${n}`;
    let from: number | undefined;
    return {
      versions: async (k: number) => {
        const seq = (await this.c.counters.findOne({ _id: VERSION_COUNTER }))?.seq ?? 0;
        if (from === undefined) {
          from = seq + 1;
          await this.c.locks.updateOne({ _id: lockId }, { $set: { from } });
        }
        await this.c.counters.updateOne(
          { _id: VERSION_COUNTER },
          { $set: { seq: seq + k } },
          { upsert: true },
        );
        return seq + 1;
      },
      renew: async () => {
        if (await this.c.locks.findOne({ _id: `lock:${n + 1}` }, { projection: { _id: 1 } }))
          throw new Error(`lost the directory lock (${label}): another writer took it over`);
        await this.c.locks.updateOne({ _id: lockId }, { $set: { heartbeatAt: this.t.now() } });
      },
      release: async () => {
        await this.c.locks.updateOne({ _id: lockId }, { $set: { releasedAt: this.t.now() } });
      },
    };
  }

  /** The last lock of the chain (`n` = 0 and no document when none was ever taken). */
  async #latestLock(): Promise<{ n: number; doc: LockDoc | null }> {
    let n = (await this.c.counters.findOne({ _id: LOCK_HINT }))?.seq ?? 0;
    let doc = n > 0 ? await this.c.locks.findOne({ _id: `lock:${n}` }) : null;
    for (;;) {
      const next = await this.c.locks.findOne({ _id: `lock:${n + 1}` });
      if (!next) return { n, doc };
      n++;
      doc = next;
    }
  }

  async watermark(): Promise<{ watermark: number; stalled: boolean }> {
    // The counter first, then the lock: a holder records `from` on its lock before moving the counter.
    const seq = (await this.c.counters.findOne({ _id: VERSION_COUNTER }))?.seq ?? 0;
    const { doc } = await this.#latestLock();
    return this.watermarkOf(seq, doc?.releasedAt ? null : doc);
  }

  async update(
    code: string,
    expectedVersion: number,
    version: number,
    patch: AgencyPatch,
  ): Promise<AgencyDoc | null> {
    const current = await this.#byId(code);
    if (!current || current.version !== expectedVersion) return null;
    const { set, unset } = patchFields(patch, version, this.t.now());
    const name = patch.set.name ?? current.name;
    const shortName = 'shortName' in patch.set ? patch.set.shortName : current.shortName;
    set.nameFolded = searchText(name, shortName);
    const successors = [...current.successors];
    for (const s of patch.addSuccessors ?? []) if (!successors.includes(s)) successors.push(s);
    if (patch.addSuccessors) set.successors = successors;
    if (patch.replaceSuccessors) set.successors = [...patch.replaceSuccessors];
    // Filter on `_id` alone (a second condition makes FerretDB scan the collection). The version
    // was checked on the document just read, under the writer lock.
    const r = await this.c.agencies.updateOne({ _id: code }, agencyUpdate(set, unset));
    if (r.matchedCount !== 1) return null;
    return this.#byId(code);
  }

  async restore(code: string, appliedVersion: number, doc: Omit<AgencyDoc, '_id'>): Promise<boolean> {
    // Read, check, replace by `_id` (the writer lock keeps anyone else from changing it meanwhile).
    if ((await this.#byId(code))?.version !== appliedVersion) return false;
    return (await this.c.agencies.replaceOne({ _id: code }, doc)).modifiedCount === 1;
  }

  async takeOrdinals(parent: string, n: number): Promise<number> {
    // Under the writer lock: read and set by `_id` (findAndModify scans the collection here).
    const last = await this.#lastOrdinal(parent);
    await this.c.counters.updateOne({ _id: `code:${parent}` }, { $set: { seq: last + n } }, { upsert: true });
    return last + 1;
  }

  async #lastOrdinal(parent: string): Promise<number> {
    return (await this.c.counters.findOne({ _id: `code:${parent}` }))?.seq ?? 0;
  }

  async returnOrdinals(parent: string, first: number, last: number): Promise<boolean> {
    // Read-modify-write under the writer lock (FerretDB 1.x re-checks no filter at write time).
    if ((await this.#lastOrdinal(parent)) !== last) return false;
    await this.c.counters.updateOne({ _id: `code:${parent}` }, { $set: { seq: first - 1 } });
    return true;
  }

  async staleImports(staleBefore: Date): Promise<ImportDoc[]> {
    const ds = await this.c.imports.find({ state: 'applying' }).toArray();
    return ds.filter((d) => new Date(d.heartbeatAt).getTime() < staleBefore.getTime());
  }

  async importRecords(importId: string): Promise<RecordsDoc[]> {
    const out: RecordsDoc[] = [];
    // Parts by _id: `importId:1`, `importId:2`, … (lookups FerretDB serves from the index).
    for (let part = 1; ; part++) {
      const d = await this.c.records.findOne({ _id: `${importId}:${part}` });
      if (!d) return out;
      out.push(d);
    }
  }

  /** deleteMany in bounded steps (SQLite's limit on the variables of one statement). */
  async deleteAll<T extends { _id: string }>(coll: Collection<T>, filter: mongo.Filter<T>): Promise<number> {
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
}
