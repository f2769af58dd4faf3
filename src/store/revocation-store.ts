/**
 * Revocation data (port: RevocationDataStore): the latest CRL of each issuer, collection `crls`,
 * `_id` = the issuer's distinguished name.
 *
 * Dialects: on MongoDB `putIfNewer` is one conditional upsert (`{_id, thisUpdate < new}`): when a CRL
 * at least as recent is stored the filter misses, the upsert's insert hits the unique `_id` and the
 * answer is false. FerretDB 1.x runs that update as a read then a write without atomicity and scans
 * for the compound filter, so there it reads the stored head by `_id` first and writes by `_id`
 * (the first CRL of an issuer is inserted: of two first writers one wins, the other compares again).
 * Without an atomic conditional update, two processes storing CRLs of one issuer at the same moment
 * may leave the less recent stored until the next refresh; each process's trust store keeps the
 * most recent it has seen, so verification never goes back.
 */
import type { Connection, mongo } from 'mongoose';
import type { RevocationDataStore, StoredCrl, StoredCrlHead } from '../domain/ports/certificates.ts';
import { isDuplicateKey } from './errors.ts';
import type { UpdateDialect } from './stores.ts';

interface CrlDoc {
  _id: string;
  der: mongo.Binary | Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  url?: string;
  fetchedAt: Date;
}

function bytesOf(b: mongo.Binary | Buffer | Uint8Array): Uint8Array {
  if (b instanceof Uint8Array) return new Uint8Array(b);
  return new Uint8Array(b.buffer);
}

/** The one mapping from a stored CRL record to the port's StoredCrl (its head without `der`). */
export function toStoredCrl(d: CrlDoc): StoredCrl;
export function toStoredCrl(d: Omit<CrlDoc, 'der'>): StoredCrlHead;
export function toStoredCrl(d: Omit<CrlDoc, 'der'> & { der?: CrlDoc['der'] }): StoredCrlHead | StoredCrl {
  return {
    issuer: d._id,
    ...(d.der ? { der: bytesOf(d.der) } : {}),
    thisUpdate: new Date(d.thisUpdate),
    ...(d.nextUpdate ? { nextUpdate: new Date(d.nextUpdate) } : {}),
    ...(d.url ? { url: d.url } : {}),
    fetchedAt: new Date(d.fetchedAt),
  };
}

export const CRL_COLLECTION = 'crls';

export class MongoRevocationDataStore implements RevocationDataStore {
  readonly #crls: mongo.Collection<CrlDoc>;
  readonly #dialect: UpdateDialect;

  constructor(conn: Connection, opts: { dialect: UpdateDialect }) {
    if (!conn.db) throw new Error('MongoDB connection not open');
    this.#crls = conn.db.collection<CrlDoc>(CRL_COLLECTION);
    this.#dialect = opts.dialect;
  }

  async putIfNewer(crl: StoredCrl): Promise<boolean> {
    const set = {
      der: Buffer.from(crl.der),
      thisUpdate: crl.thisUpdate,
      fetchedAt: crl.fetchedAt,
      ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
      ...(crl.url ? { url: crl.url } : {}),
    };
    const unset = {
      ...(crl.nextUpdate ? {} : { nextUpdate: '' as const }),
      ...(crl.url ? {} : { url: '' as const }),
    };
    const update = { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
    if (this.#dialect === 'mongodb') {
      try {
        const r = await this.#crls.updateOne(
          { _id: crl.issuer, thisUpdate: { $lt: crl.thisUpdate } },
          update,
          {
            upsert: true,
          },
        );
        return r.matchedCount + r.upsertedCount === 1;
      } catch (err) {
        if (isDuplicateKey(err)) return false; // one at least as recent is stored
        throw err;
      }
    }
    const prev = await this.#crls.findOne({ _id: crl.issuer }, { projection: { thisUpdate: 1 } });
    if (prev && new Date(prev.thisUpdate) >= crl.thisUpdate) return false;
    if (prev) {
      await this.#crls.updateOne({ _id: crl.issuer }, update);
      return true;
    }
    try {
      await this.#crls.insertOne({ _id: crl.issuer, ...set });
      return true;
    } catch (err) {
      // Another process stored this issuer's first CRL meanwhile: compare with that one.
      if (!isDuplicateKey(err)) throw err;
      return this.putIfNewer(crl);
    }
  }

  async heads(): Promise<StoredCrlHead[]> {
    const rows = await this.#crls
      .find({}, { projection: { der: 0 } })
      .sort({ _id: 1 })
      .toArray();
    return rows.map((r) => toStoredCrl(r));
  }

  async get(issuer: string): Promise<StoredCrl | null> {
    const d = await this.#crls.findOne({ _id: issuer });
    return d ? toStoredCrl(d) : null;
  }
}
