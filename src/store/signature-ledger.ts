/**
 * The one-use ledger of signed /v1 requests (src/http/intake.ts): one document per accepted signature,
 * `_id` = `<systemId>:<signature hex>`. Recording is a plain insert, and the unique `_id` lets exactly
 * one of two identical requests through, on FerretDB and MongoDB alike (see lease-store.ts). Concurrent
 * requests' inserts are group-committed (records.ts `insertGrouped`): one unordered multi-document insert,
 * a duplicate flag per entry; any other bulk error fails every request of the group.
 *
 * Entries only matter until their clock-skew window closes (a request that old is refused on its
 * timestamp anyway). FerretDB 1.24 has no TTL indexes ("expireAfterSeconds is not implemented yet"),
 * so expired entries are deleted here, at most once per `pruneEveryMs` per process.
 */
import type { Connection, mongo } from 'mongoose';
import type { SignatureLedger } from '../domain/ports.ts';
import { insertGrouped } from './records.ts';

interface SignatureDoc {
  _id: string;
  expiresAt: Date;
}

export const SIGNATURE_COLLECTION = 'request_signatures';

export class MongoSignatureLedger implements SignatureLedger {
  readonly #col: mongo.Collection<SignatureDoc>;
  readonly #pruneEveryMs: number;
  #lastPrune = 0;

  constructor(conn: Connection, opts: { pruneEveryMs?: number } = {}) {
    this.#col = conn.db!.collection<SignatureDoc>(SIGNATURE_COLLECTION);
    this.#pruneEveryMs = opts.pruneEveryMs ?? 60_000;
  }

  async ensureIndexes(): Promise<void> {
    await this.#col.createIndex({ expiresAt: 1 });
  }

  async firstUse(key: string, expiresAt: Date): Promise<boolean> {
    const [taken] = await insertGrouped(this.#col as unknown as mongo.Collection, [{ _id: key, expiresAt }]);
    if (taken) return false;
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
