/**
 * The outbox (OutboxStore, domain/ports.ts): delivery tasks written before a submission's commit
 * point, removed once the broker confirmed them, republished by the relay after a crash in between.
 * Inserts and removals of concurrent submissions are group-committed: the collection holds only
 * what is in flight and stays small (its scans on FerretDB are cheap).
 */
import type { OutboxStore } from '../domain/ports.ts';
import type { OutboxEntry } from '../domain/types.ts';
import type { Models } from './models.ts';
import { deleteGrouped, insertAbsent, strip, type Doc } from './records.ts';

export class MongoOutboxStore implements OutboxStore {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  async insertMany(entries: readonly OutboxEntry[]): Promise<string[]> {
    return (await insertAbsent(
      this.m.Outbox,
      entries.map(({ id, ...rest }) => ({ _id: id, ...rest })),
    )) as string[];
  }

  /** Published and confirmed: the entries have done their job and are removed. */
  async markSent(ids: readonly string[], _at: Date) {
    await deleteGrouped(this.m.Outbox.collection, ids);
  }

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
