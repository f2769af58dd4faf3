/**
 * MongoDB implementations of the store ports (domain/ports.ts), put together. Each port's adapter is
 * in its own file: documents, deliveries (and the inbox), outbox, dead letters, credentials, the audit
 * log, certificates, revocation data, the directory; dialect.ts holds what differs per engine.
 */
import type { Connection } from 'mongoose';
import type { Stores } from '../domain/ports.ts';
import type { CertificateStore, RevocationDataStore } from '../domain/ports/certificates.ts';
import { ensureIndexes, registerModels, type Models } from './models.ts';
import { SecretBox, type CredentialKeys } from './secret-box.ts';
import { MongoDirectoryStore, type DirectoryStoreOptions } from './directory-store.ts';
import { insertAbsent, type Doc } from './records.ts';
import { MongoCredentialStore } from './credential-store.ts';
import { MongoAuditLog } from './audit-log.ts';
import { MongoCertificateStore } from './certificate-store.ts';
import { MongoRevocationDataStore } from './revocation-store.ts';
import { dialectOf, type UpdateDialect } from './dialect.ts';
import { MongoDocumentStore } from './document-store.ts';
import { inboxEntryOf, MongoDeliveryStore, toDelivery } from './delivery-store.ts';
import { MongoOutboxStore } from './outbox-store.ts';
import { MongoDeadLetterStore } from './dead-letter-store.ts';

export type { UpdateDialect } from './dialect.ts';

/**
 * The dialect the server speaks: FerretDB answers `buildInfo` with its own version. Tests and the
 * conformance suite force `mongodb` on FerretDB so that the production path runs in CI (FerretDB 1.24
 * runs a conditional update as a read then a write: correct for one writer at a time, not atomic under
 * racing writers — test/conformance/harness.ts).
 */
export async function detectDialect(conn: Connection): Promise<UpdateDialect> {
  const build = (await conn.db!.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: string };
  return build.ferretdbVersion ? 'id-only' : 'mongodb';
}

export interface MongoStores extends Stores {
  readonly models: Models;
  /** The agency directory (directory-store.ts): agencies, issued codes, counters, import journal. */
  readonly agencies: MongoDirectoryStore;
  readonly certificates: CertificateStore;
  readonly revocationData: RevocationDataStore;
}

export async function createMongoStores(
  conn: Connection,
  credentialsKey: CredentialKeys,
  opts: { directory?: DirectoryStoreOptions; dialect?: UpdateDialect } = {},
): Promise<MongoStores> {
  const models = registerModels(conn);
  await ensureIndexes(models);
  const dialect = opts.dialect ?? (await detectDialect(conn));
  // Data migrations run explicitly (src/store/migrations.ts), not here.
  const agencies = await MongoDirectoryStore.open(conn, opts.directory, dialect);
  return {
    models,
    agencies,
    certificates: new MongoCertificateStore(conn, agencies),
    revocationData: new MongoRevocationDataStore(conn, { dialect }),
    credentials: new MongoCredentialStore(conn, new SecretBox(credentialsKey)),
    documents: new MongoDocumentStore(models),
    deliveries: new MongoDeliveryStore(models, dialectOf(dialect)),
    outbox: new MongoOutboxStore(models),
    deadLetters: new MongoDeadLetterStore(models),
    audit: new MongoAuditLog(conn),
  };
}

/**
 * Deliveries made available before the inbox entries existed get their entry, once per database
 * (idempotent: concurrent starts insert the same entries; a stale one is removed by the listing).
 */
export async function backfillInboxEntries(models: Models): Promise<void> {
  const name = 'inbox-entries-1';
  if (await models.Migration.findById(name).lean()) return;
  const cursor = models.Delivery.find({ transport: 'available' }, { timeline: 0 })
    .lean<Doc[]>()
    .cursor({ batchSize: 1000 });
  let batch: Record<string, unknown>[] = [];
  for await (const d of cursor) {
    const r = toDelivery(d);
    batch.push(inboxEntryOf({ ...r, availableAt: r.availableAt ?? r.queuedAt }));
    if (batch.length === 1000) {
      await insertAbsent(models.InboxEntry, batch);
      batch = [];
    }
  }
  await insertAbsent(models.InboxEntry, batch);
  // Two processes starting together both get here: the second finds the marker there (no error).
  await insertAbsent(models.Migration, [{ _id: name, at: new Date() }]);
}

export { GENESIS_HASH, auditHash } from './audit-log.ts';
