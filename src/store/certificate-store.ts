/**
 * Agency certificates (port: CertificateStore). They live in the agency's document (`agencies`,
 * field `certificates`), so every change is a directory change: made holding the directory's single
 * writer (directory-store.ts withWriter), with a new change-feed version for the agency.
 *
 * One path for every engine: the writer lock already serialises the read-then-write, and the
 * MongoDB-only alternatives (`$elemMatch` filters, the positional `$`, `arrayFilters`) would not run
 * on FerretDB 1.x, not even in the forced MongoDB dialect of the conformance suite.
 */
import type { Connection, mongo } from 'mongoose';
import type { DirectoryStore } from '../domain/ports.ts';
import type { AgencyCertificate, CertificateStore } from '../domain/ports/certificates.ts';
import type { Agency, RegisteredCertificate } from '../domain/types.ts';

export interface CertificateDoc {
  fingerprintSha256: string;
  pem?: string;
  subject?: string;
  notAfter?: Date;
  registeredAt: Date;
  revokedAt?: Date;
}

interface AgencyCertsDoc {
  _id: string;
  certificates?: CertificateDoc[];
  version?: number;
  updatedAt?: Date;
}

/** The one mapping from a stored certificate entry to the domain's RegisteredCertificate. */
export function toRegisteredCertificate(c: CertificateDoc): RegisteredCertificate {
  return {
    fingerprintSha256: c.fingerprintSha256,
    ...(c.pem ? { pem: c.pem } : {}),
    ...(c.subject ? { subject: c.subject } : {}),
    ...(c.notAfter ? { notAfter: new Date(c.notAfter) } : {}),
    registeredAt: new Date(c.registeredAt),
    ...(c.revokedAt ? { revokedAt: new Date(c.revokedAt) } : {}),
  };
}

function toAgencyCertificate(agency: string, c: CertificateDoc): AgencyCertificate {
  return { agency, ...toRegisteredCertificate(c) };
}

export class MongoCertificateStore implements CertificateStore {
  readonly #agencies: mongo.Collection<AgencyCertsDoc>;
  readonly #directory: Pick<DirectoryStore, 'withWriter' | 'findByCode'>;

  constructor(conn: Connection, directory: Pick<DirectoryStore, 'withWriter' | 'findByCode'>) {
    if (!conn.db) throw new Error('MongoDB connection not open');
    this.#agencies = conn.db.collection<AgencyCertsDoc>('agencies');
    this.#directory = directory;
  }

  async add(agency: string, cert: RegisteredCertificate & { readonly pem: string }): Promise<Agency | null> {
    const entry: CertificateDoc = {
      fingerprintSha256: cert.fingerprintSha256,
      pem: cert.pem,
      ...(cert.subject ? { subject: cert.subject } : {}),
      ...(cert.notAfter ? { notAfter: cert.notAfter } : {}),
      registeredAt: cert.registeredAt,
    };
    const done = await this.#directory.withWriter(`certificate of ${agency}`, async (w) => {
      // `_id` alone in the filter (the only one FerretDB serves from an index); under the lock.
      if (!(await this.#agencies.findOne({ _id: agency }, { projection: { _id: 1 } }))) return false;
      const version = await w.versions(1);
      const r = await this.#agencies.updateOne(
        { _id: agency },
        { $push: { certificates: entry }, $set: { version, updatedAt: new Date() } },
      );
      return r.matchedCount === 1;
    });
    return done ? this.#directory.findByCode(agency) : null;
  }

  async revoke(agency: string, fingerprintSha256: string, at: Date): Promise<Agency | null> {
    const done = await this.#directory.withWriter(`certificate of ${agency}`, async (w) => {
      // Read, then update the entry by its index with the fingerprint re-checked there: FerretDB 1.x
      // has neither `$elemMatch` filters nor the positional `$` operator nor `arrayFilters`, and the
      // writer lock makes the read-then-write safe on every engine, so there is one path.
      const a = await this.#agencies.findOne({ _id: agency }, { projection: { certificates: 1 } });
      const i =
        a?.certificates?.findIndex((c) => c.fingerprintSha256 === fingerprintSha256 && !c.revokedAt) ?? -1;
      if (i < 0) return false;
      const version = await w.versions(1);
      const r = await this.#agencies.updateOne(
        { _id: agency, [`certificates.${i}.fingerprintSha256`]: fingerprintSha256 },
        { $set: { [`certificates.${i}.revokedAt`]: at, version, updatedAt: at } },
      );
      return r.modifiedCount === 1;
    });
    return done ? this.#directory.findByCode(agency) : null;
  }

  async holderOf(fingerprintSha256: string, except?: string): Promise<string | null> {
    const d = await this.#agencies.findOne(
      {
        'certificates.fingerprintSha256': fingerprintSha256,
        ...(except === undefined ? {} : { _id: { $ne: except } }),
      },
      { projection: { _id: 1 } },
    );
    return d?._id ?? null;
  }

  async list(agency?: string): Promise<AgencyCertificate[]> {
    const rows = await this.#agencies
      .find(agency === undefined ? { 'certificates.0': { $exists: true } } : { _id: agency }, {
        projection: { certificates: 1 },
      })
      .sort({ _id: 1 })
      .toArray();
    return rows.flatMap((a) => (a.certificates ?? []).map((c) => toAgencyCertificate(a._id, c)));
  }

  async expiring(limit: Date): Promise<AgencyCertificate[]> {
    const rows = await this.#agencies
      .find({ 'certificates.notAfter': { $lte: limit } }, { projection: { certificates: 1 } })
      .sort({ _id: 1 })
      .toArray();
    return rows.flatMap((a) =>
      (a.certificates ?? [])
        .filter((c) => c.notAfter && !c.revokedAt && new Date(c.notAfter) <= limit)
        .map((c) => toAgencyCertificate(a._id, c)),
    );
  }
}
