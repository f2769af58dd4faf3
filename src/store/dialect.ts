/**
 * How a store adapter makes a conditional update of one record — the one place where the engines
 * differ for the write model (the rest of the adapters is the same MongoDB API):
 *
 * - `mongodb`: one atomic `findOneAndUpdate` whose filter is `_id` plus the condition (served by the
 *   `_id` index); the record's new state comes back with it.
 * - `ferretdb` (FerretDB 1.x, wire name `id-only`): a filter is pushed down to SQLite only when it is
 *   `_id` alone, so `{_id, state}` scans the whole collection, and FerretDB runs every update as
 *   "find, then update by `_id`" without atomicity anyway. The same check is made by reading the
 *   record by `_id` and updating it by `_id` (group-committed with concurrent updates: one `update`
 *   command) — the semantics FerretDB gives, without the scan. The new state is computed from what
 *   was read.
 */
import type { mongo } from 'mongoose';
import { updateGrouped, type Doc } from './records.ts';

export type UpdateDialect = 'mongodb' | 'id-only';

export interface ConditionalUpdate {
  /** The condition, as a filter (mongodb) and as a test of the record read (ferretdb). */
  readonly filter: Record<string, unknown>;
  holds(d: Doc): boolean;
  readonly update: Record<string, unknown>;
  /** The record after `update`, from the record before (ferretdb: saves reading it back). */
  after(d: Doc): Doc;
}

export interface UpdateOutcome {
  /** The record after the update; null when the condition did not hold (or no such record). */
  readonly after: Doc | null;
  /** When the update was not made: the record as it is (null when there is none). */
  readonly current?: Doc | null;
}

export interface Dialect {
  readonly name: UpdateDialect;
  updateIf(collection: mongo.Collection, id: string, u: ConditionalUpdate): Promise<UpdateOutcome>;
  /**
   * `updateIf` for a caller that has already won the right to make the update by another write (an
   * acknowledgement that removed the delivery's inbox entry), so the condition nearly always holds:
   * mongodb still states it in its one atomic statement; ferretdb writes by `_id` alone — one
   * statement, no read, no scan — and, in the rare case the record did not meet the condition, puts
   * it back as it was.
   */
  updateExpected(collection: mongo.Collection, id: string, u: ConditionalUpdate): Promise<UpdateOutcome>;
}

const byId = (id: string) => ({ _id: id }) as unknown as mongo.Filter<mongo.Document>;

export const MONGODB: Dialect = {
  name: 'mongodb',
  async updateIf(collection, id, u) {
    const after = await collection.findOneAndUpdate(
      { _id: id, ...u.filter } as unknown as mongo.Filter<mongo.Document>,
      u.update,
      {
        returnDocument: 'after',
      },
    );
    if (after) return { after: after };
    // Not made (rare: a replay or a race): what the record is now tells the caller why.
    return { after: null, current: (await collection.findOne(byId(id))) as Doc | null };
  },
  updateExpected(collection, id, u) {
    return this.updateIf(collection, id, u);
  },
};

export const FERRETDB: Dialect = {
  name: 'id-only',
  async updateIf(collection, id, u) {
    const current = (await collection.findOne(byId(id))) as Doc | null;
    if (!current || !u.holds(current)) return { after: null, current };
    if (!(await updateGrouped(collection, { id, update: u.update }))) return { after: null, current: null };
    return { after: u.after(current) };
  },
  async updateExpected(collection, id, u) {
    const before = (await collection.findOneAndUpdate(byId(id), u.update, {
      returnDocument: 'before',
    })) as Doc | null;
    if (!before) return { after: null, current: null };
    if (u.holds(before)) return { after: u.after(before) };
    await collection.replaceOne(byId(id), before);
    return { after: null, current: before };
  },
};

export function dialectOf(name: UpdateDialect): Dialect {
  return name === 'mongodb' ? MONGODB : FERRETDB;
}
