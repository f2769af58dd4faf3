/**
 * Period leases for cluster-wide periodic jobs (src/ops/periodic.ts): "run job J once in period P,
 * whichever process gets there first". A lease is one document whose `_id` is `J@P`; taking it is a
 * plain insert, and the unique `_id` lets exactly one contender win. This is deliberately not a
 * compare-and-set update: FerretDB 1.24 loses concurrent compare-and-set updates, while unique
 * inserts stay atomic on both FerretDB and MongoDB.
 *
 * A lease is never released: the period it names ends by itself. A holder that dies mid-run loses
 * that period's run (the job runs again in the next period). Old leases are pruned by the winners.
 */
import { hostname } from 'node:os';
import type { Connection, mongo } from 'mongoose';
import type { PeriodLease } from '../domain/ports/leases.ts';
import { isDuplicateKey } from './errors.ts';

interface LeaseDoc {
  _id: string;
  job: string;
  periodStart: Date;
  holder: string;
  at: Date;
}

export const LEASE_COLLECTION = 'job_leases';

export class MongoPeriodLeases implements PeriodLease {
  readonly #leases: mongo.Collection<LeaseDoc>;
  readonly #retainMs: number;

  /** `retainMs`: leases older than this are deleted by the next winner of the same job. */
  constructor(conn: Connection, opts: { retainMs?: number } = {}) {
    this.#leases = conn.db!.collection<LeaseDoc>(LEASE_COLLECTION);
    this.#retainMs = opts.retainMs ?? 86_400_000;
  }

  /** Who this process is, as recorded on the leases it wins (diagnostics only). */
  static defaultHolder(role = ''): string {
    return `${hostname()}:${process.pid}${role ? `:${role}` : ''}`;
  }

  async acquire(job: string, periodStart: Date, holder: string): Promise<boolean> {
    const now = new Date();
    try {
      await this.#leases.insertOne({
        _id: `${job}@${periodStart.toISOString()}`,
        job,
        periodStart,
        holder,
        at: now,
      });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    await this.#leases
      // Never this period's own lease: a late run for a period older than the retention would
      // delete the lease it just won and let the next contender win it again.
      .deleteMany({
        job,
        periodStart: { $lt: new Date(Math.min(now.getTime() - this.#retainMs, periodStart.getTime())) },
      })
      .catch(() => undefined); // pruning is housekeeping; the next winner tries again
    return true;
  }

  /** The leases of a job, oldest first (tests and diagnostics). */
  async list(job: string): Promise<{ periodStart: Date; holder: string; at: Date }[]> {
    const docs = await this.#leases.find({ job }).sort({ periodStart: 1 }).toArray();
    return docs.map((d) => ({ periodStart: d.periodStart, holder: d.holder, at: d.at }));
  }
}
