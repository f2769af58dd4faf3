/**
 * The directory on MongoDB: conditional updates are single atomic statements (`findOneAndUpdate`,
 * or `updateOne` with the condition in its filter), served by the `_id` index.
 *
 * - The writer lock lives on the version counter itself (`directory_counters` `version`, field
 *   `lock`): taking it is one `findOneAndUpdate` whose filter says "free, or its holder stopped
 *   renewing it", renewing and releasing are one update each filtered on the owner, and taking
 *   versions moves the counter and records the lock's first version in the same statement. The
 *   watermark is one read. No chain to walk, no hint to maintain.
 * - No TTL index on the lock: expiry is a condition of the atomic takeover, exact to the lease
 *   rather than to the TTL monitor's minute, and a dead writer's lock must stay until the feed's
 *   reader has seen it stalled and rolled its import back (a TTL deletion would free the feed with
 *   the half-written import in it).
 * - Lookups by legacy code use the `legacyCode` index; many codes are one `$in` query; filters are
 *   served by the indexes (models.ts), so they run on the server.
 */
import { randomUUID } from 'node:crypto';
import type { mongo } from 'mongoose';
import { isLegacyCode } from '../../domain/codes.ts';
import { HubError } from '../../domain/errors.ts';
import type { AgencyPatch } from '../../domain/ports.ts';
import {
  VERSION_COUNTER,
  DialectBase,
  agencyUpdate,
  isDuplicateKey,
  lockBackoff,
  patchFields,
  registeredAmong,
  searchText,
  type AgencyDoc,
  type Collection,
  type CounterDoc,
  type DirectoryDialect,
  type HeldLock,
  type ImportDoc,
  type RecordsDoc,
} from './records.ts';

const IN_BATCH = 10_000;

export class MongoDirectoryDialect extends DialectBase implements DirectoryDialect {
  async findByCode(code: string): Promise<AgencyDoc | null> {
    // One lookup, by the index of the kind of code it is.
    return this.c.agencies.findOne(isLegacyCode(code) ? { legacyCode: code } : { _id: code });
  }

  async findMany(codes: readonly string[]): Promise<Map<string, AgencyDoc>> {
    const legacy = codes.filter(isLegacyCode);
    const canonical = codes.filter((c) => !isLegacyCode(c));
    const out = new Map<string, AgencyDoc>();
    for (let i = 0; i < canonical.length; i += IN_BATCH)
      for (const d of await this.c.agencies
        .find({ _id: { $in: canonical.slice(i, i + IN_BATCH) } })
        .toArray())
        out.set(d._id, d);
    for (let i = 0; i < legacy.length; i += IN_BATCH)
      for (const d of await this.c.agencies
        .find({ legacyCode: { $in: legacy.slice(i, i + IN_BATCH) } })
        .toArray())
        out.set(d.legacyCode!, d);
    return out;
  }

  issued(codes: readonly string[]): Promise<Set<string>> {
    return registeredAmong(this.c.codes, codes);
  }

  async lock(label: string, deadline: number): Promise<HeldLock> {
    const owner = randomUUID();
    let seq: number;
    for (let attempt = 0; ; attempt++) {
      const now = this.t.now();
      try {
        // Free, or abandoned: its holder has not renewed it within the lease. On a database that
        // has no counter yet, the upsert creates it; a held lock makes the upsert a duplicate.
        const d = await this.c.counters.findOneAndUpdate(
          {
            _id: VERSION_COUNTER,
            $or: [
              { lock: { $exists: false } },
              { 'lock.heartbeatAt': { $lt: new Date(now.getTime() - this.t.leaseMs) } },
            ],
          },
          {
            $set: { lock: { owner, label, acquiredAt: now, heartbeatAt: now } },
            $setOnInsert: { seq: 0 },
          },
          { upsert: true, returnDocument: 'after' },
        );
        if (d?.lock?.owner === owner) {
          seq = d.seq;
          break;
        }
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      if (Date.now() > deadline) {
        const holder = (await this.c.counters.findOne({ _id: VERSION_COUNTER }))?.lock?.label;
        throw new HubError('UNAVAILABLE', `the directory is busy (${holder ?? '?'}); try again later`);
      }
      await lockBackoff(attempt);
    }
    const mine = { _id: VERSION_COUNTER, 'lock.owner': owner };
    const lost = () => new Error(`lost the directory lock (${label}): another writer took it over`);
    let first = true;
    return {
      versions: async (k: number) => {
        // The counter moves and (the first time) the lock records its first version, at once.
        const update: mongo.UpdateFilter<CounterDoc> = {
          $inc: { seq: k },
          ...(first ? { $set: { 'lock.from': seq + 1 } } : {}),
        };
        const d = await this.c.counters.findOneAndUpdate(mine, update, { returnDocument: 'after' });
        if (!d) throw lost();
        if (d.seq !== seq + k) throw new Error(`the version counter moved under the lock (${label})`);
        first = false;
        seq = d.seq;
        return seq - k + 1;
      },
      renew: async () => {
        const r = await this.c.counters.updateOne(mine, { $set: { 'lock.heartbeatAt': this.t.now() } });
        if (r.matchedCount !== 1) throw lost();
      },
      release: async () => {
        await this.c.counters.updateOne(mine, { $unset: { lock: '' } });
      },
    };
  }

  async watermark(): Promise<{ watermark: number; stalled: boolean }> {
    const d = await this.c.counters.findOne({ _id: VERSION_COUNTER });
    return this.watermarkOf(d?.seq ?? 0, d?.lock);
  }

  async update(
    code: string,
    expectedVersion: number,
    version: number,
    patch: AgencyPatch,
  ): Promise<AgencyDoc | null> {
    const { set, unset } = patchFields(patch, version, this.t.now());
    if ('name' in patch.set || 'shortName' in patch.set) {
      // The folded name needs both names: the other one is read (a rename is rare).
      const current = await this.c.agencies.findOne({ _id: code, version: expectedVersion });
      if (!current) return null;
      const name = patch.set.name ?? current.name;
      const shortName = 'shortName' in patch.set ? patch.set.shortName : current.shortName;
      set.nameFolded = searchText(name, shortName);
    }
    if (patch.replaceSuccessors) set.successors = [...patch.replaceSuccessors];
    const more: mongo.UpdateFilter<AgencyDoc> = patch.addSuccessors
      ? { $addToSet: { successors: { $each: [...patch.addSuccessors] } } }
      : {};
    // Applied only if the agency is still at the version the caller read: one atomic statement.
    return this.c.agencies.findOneAndUpdate(
      { _id: code, version: expectedVersion },
      agencyUpdate(set, unset, more),
      { returnDocument: 'after' },
    );
  }

  async restore(code: string, appliedVersion: number, doc: Omit<AgencyDoc, '_id'>): Promise<boolean> {
    const r = await this.c.agencies.replaceOne({ _id: code, version: appliedVersion }, doc);
    return r.modifiedCount === 1;
  }

  async takeOrdinals(parent: string, n: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const d = await this.c.counters.findOneAndUpdate(
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

  async returnOrdinals(parent: string, first: number, last: number): Promise<boolean> {
    const r = await this.c.counters.updateOne(
      { _id: `code:${parent}`, seq: last },
      { $set: { seq: first - 1 } },
    );
    return r.matchedCount === 1;
  }

  staleImports(staleBefore: Date): Promise<ImportDoc[]> {
    return this.c.imports.find({ state: 'applying', heartbeatAt: { $lt: staleBefore } }).toArray();
  }

  importRecords(importId: string): Promise<RecordsDoc[]> {
    return this.c.records.find({ importId }).sort({ part: 1 }).toArray();
  }

  async deleteAll<T extends { _id: string }>(coll: Collection<T>, filter: mongo.Filter<T>): Promise<number> {
    return (await coll.deleteMany(filter)).deletedCount;
  }
}
