/**
 * What the store adapters share: group-committed inserts and updates by
 * `_id`, and the mapping of a stored record to a domain record. Private to `src/store/`.
 */
import type { mongo } from 'mongoose';
import { GroupCommit } from './group-commit.ts';
import { duplicateIndexes } from './errors.ts';

export type Doc = Record<string, unknown> & { _id: unknown };

/** A stored record as a domain record: `_id` renamed, nulls dropped (except a top-level parent). */
export function strip<T>(d: Doc, idField: string): T {
  const { _id, ...rest } = d;
  for (const [k, v] of Object.entries(rest)) if (v === null && k !== 'parentCode') delete rest[k];
  return { [idField]: _id, ...rest } as T;
}

/**
 * Multi-document inserts of concurrent writers to one collection, grouped into one statement
 * (group-commit.ts). Each request learns which of its records were already there (`_id` taken).
 * Requests are weighed by their bytes (payloads) so that one statement stays well under the
 * 48 MB wire-message limit.
 */
const insertGroups = new WeakMap<object, GroupCommit<Record<string, unknown>[], boolean[]>>();
const GROUP_MAX_BYTES = 8 * 1024 * 1024;

function byteWeight(d: Record<string, unknown>): number {
  let n = 1024;
  for (const v of Object.values(d)) if (v instanceof Uint8Array) n += v.byteLength;
  return n;
}

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
      { maxSize: GROUP_MAX_BYTES, size: (docs) => docs.reduce((n, d) => n + byteWeight(d), 0) },
    );
    insertGroups.set(collection, g);
  }
  return g;
}

/**
 * Inserts records, concurrent callers' records in one multi-document insert (one transaction on
 * FerretDB's SQLite backend); answers, per record, whether its `_id` was already taken.
 */
export function insertGrouped(
  collection: mongo.Collection,
  docs: Record<string, unknown>[],
): Promise<boolean[]> {
  if (docs.length === 0) return Promise.resolve([]);
  return insertGroup(collection).run(docs);
}

/**
 * Inserts records whose `_id` is deterministic; records that already exist (a replay of the same
 * write after a crash) are left as they are, and checked to be really there. Answers the `_id`s this
 * call inserted.
 */
export async function insertAbsent(
  model: { collection: mongo.Collection },
  docs: Record<string, unknown>[],
): Promise<unknown[]> {
  if (docs.length === 0) return [];
  const taken = await insertGrouped(model.collection, docs);
  const fresh = docs.filter((_, i) => !taken[i]).map((d) => d._id);
  const replayed = docs.filter((_, i) => taken[i]).map((d) => d._id);
  if (replayed.length === 0) return fresh;
  // Replays only (rare): make sure every record is really there before going on.
  const found = await model.collection.countDocuments({
    _id: { $in: replayed },
  } as unknown as mongo.Filter<mongo.Document>);
  if (found !== replayed.length) throw new Error(`insert into ${model.collection.collectionName} incomplete`);
  return fresh;
}

/** One update by `_id` (a lone `_id` filter: FerretDB pushes it down to SQLite). */
export interface UpdateById {
  readonly id: unknown;
  readonly update: Record<string, unknown>;
}

const updateGroups = new WeakMap<object, GroupCommit<UpdateById, boolean>>();

/**
 * Updates by `_id` of concurrent writers to one collection in one `update` command (group-commit.ts);
 * answers whether the record was there. The command reports only the total matched: when it falls
 * short (a record vanished, rare), each update of the group is told by reading its record.
 */
export function updateGrouped(collection: mongo.Collection, u: UpdateById): Promise<boolean> {
  let g = updateGroups.get(collection);
  if (!g) {
    g = new GroupCommit<UpdateById, boolean>(
      async (requests) => {
        const r = await collection.bulkWrite(
          requests.map((q) => ({
            updateOne: { filter: { _id: q.id } as unknown as mongo.Filter<mongo.Document>, update: q.update },
          })),
          { ordered: false },
        );
        if (r.matchedCount === requests.length) return requests.map(() => true);
        return Promise.all(
          requests.map(
            async (q) =>
              (await collection.countDocuments({ _id: q.id } as unknown as mongo.Filter<mongo.Document>)) > 0,
          ),
        );
      },
      { maxSize: 500 },
    );
    updateGroups.set(collection, g);
  }
  return g.run(u);
}

const deleteGroups = new WeakMap<object, GroupCommit<readonly unknown[], void>>();

/** Removals by `_id` of concurrent writers to one collection in one statement (group-commit.ts). */
export function deleteGrouped(collection: mongo.Collection, ids: readonly unknown[]): Promise<void> {
  if (ids.length === 0) return Promise.resolve();
  let g = deleteGroups.get(collection);
  if (!g) {
    g = new GroupCommit<readonly unknown[], void>(
      async (requests) => {
        const all = requests.flat();
        await collection.deleteMany(
          (all.length === 1
            ? { _id: all[0] }
            : { _id: { $in: all } }) as unknown as mongo.Filter<mongo.Document>,
        );
        return requests.map(() => undefined);
      },
      { size: (ids) => ids.length, maxSize: 5000 },
    );
    deleteGroups.set(collection, g);
  }
  return g.run(ids);
}
