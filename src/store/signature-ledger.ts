/**
 * The one-use ledger of signed /v1 requests (src/http/intake.ts): one document per accepted signature,
 * `_id` = `<systemId>:<signature hex>`. Recording is a plain insert, and the unique `_id` lets exactly
 * one of two identical requests through, on FerretDB and MongoDB alike (see lease-store.ts). Concurrent
 * requests' inserts are group-committed (group-commit.ts): one unordered multi-document insert, a
 * duplicate flag per entry (errors.ts `duplicateIndexes`); any other bulk error fails every request of
 * the group. One statement at a time (`inFlight: 1`), unlike the store's other pipelines: every /v1
 * request but a submission makes an entry, so the entries of concurrent requests are best carried
 * together (2.4 statements per document with four in flight, docs/benchmarks.md "Group commit lanes
 * and the request ledger").
 *
 * Entries only matter until their clock-skew window closes (a request that old is refused on its
 * timestamp anyway). FerretDB 1.24 has no TTL indexes ("expireAfterSeconds is not implemented yet"),
 * so expired entries are deleted here, at most once per `pruneEveryMs` per process.
 */
import type { Connection, mongo } from 'mongoose';
import type { SignatureLedger } from '../domain/ports.ts';
import { duplicateIndexes } from './errors.ts';
import { GroupCommit } from './group-commit.ts';

interface SignatureDoc {
  _id: string;
  expiresAt: Date;
}

export const SIGNATURE_COLLECTION = 'request_signatures';

export class MongoSignatureLedger implements SignatureLedger {
  readonly #col: mongo.Collection<SignatureDoc>;
  readonly #pruneEveryMs: number;
  #lastPrune = 0;
  /** Answers, per entry, whether it was the first (its `_id` was free). */
  readonly #inserts: GroupCommit<SignatureDoc, boolean>;

  constructor(conn: Connection, opts: { pruneEveryMs?: number } = {}) {
    this.#col = conn.db!.collection<SignatureDoc>(SIGNATURE_COLLECTION);
    this.#pruneEveryMs = opts.pruneEveryMs ?? 60_000;
    this.#inserts = new GroupCommit<SignatureDoc, boolean>(
      async (entries) => {
        let taken: number[] = [];
        await this.#col.insertMany([...entries], { ordered: false }).catch((err: unknown) => {
          taken = duplicateIndexes(err, entries.length);
        });
        return entries.map((_, i) => !taken.includes(i));
      },
      { inFlight: 1 },
    );
  }

  async ensureIndexes(): Promise<void> {
    await this.#col.createIndex({ expiresAt: 1 });
  }

  async firstUse(key: string, expiresAt: Date): Promise<boolean> {
    if (!(await this.#inserts.run({ _id: key, expiresAt }))) return false;
    const now = Date.now();
    if (now - this.#lastPrune >= this.#pruneEveryMs) {
      this.#lastPrune = now;
      // Housekeeping only: the next accepted request of this process tries again.
      void this.prune(new Date(now)).catch(() => undefined);
    }
    return true;
  }

  /** Deletes the entries expired at `now`; answers how many. */
  async prune(now: Date = new Date()): Promise<number> {
    return (await this.#col.deleteMany({ expiresAt: { $lt: now } })).deletedCount;
  }
}
