/**
 * Directory test harness: the real store on FerretDB (or MONGODB_URI), in a database unique to the
 * test file and dropped after, with the development seed loaded. No broker, no HTTP.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { loadConfig } from '../../src/config.ts';
import { seedDirectory } from '../../src/directory/seed.ts';
import { DirectoryService } from '../../src/directory/service.ts';
import { DEFAULT_DIRECTORY_SETTINGS, type DirectorySettings } from '../../src/directory/settings.ts';
import type { AuditLog } from '../../src/domain/ports.ts';
import type { Agency } from '../../src/domain/types.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { createMongoStores, type MongoStores } from '../../src/store/stores.ts';

export interface TestDirectory {
  readonly dbName: string;
  readonly mongo: Connection;
  readonly stores: MongoStores;
  readonly settings: DirectorySettings;
  /** A service on the same store; `overrides` replace its settings or audit log. */
  service(overrides?: {
    settings?: Partial<DirectorySettings>;
    audit?: Pick<AuditLog, 'append'>;
  }): DirectoryService;
  /** Another connection and store on the same database: a second hub process. */
  attach(): Promise<{ stores: MongoStores; service: DirectoryService; close(): Promise<void> }>;
  close(): Promise<void>;
}

export async function openTestDirectory(
  name: string,
  opts: { seed?: boolean; settings?: Partial<DirectorySettings> } = {},
): Promise<TestDirectory> {
  const config = loadConfig();
  const dbName = `t_${name.replace(/[^a-z0-9]/gi, '').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const settings: DirectorySettings = { ...DEFAULT_DIRECTORY_SETTINGS, ...opts.settings };
  const mongo = await connectMongo(config.mongodb.uri, { dbName });
  const stores = await createMongoStores(mongo, config.credentials.key, {
    directory: { versionLeaseMs: settings.versionLeaseMs },
  });
  if (opts.seed !== false) await seedDirectory(stores, config.seed, settings);
  return {
    dbName,
    mongo,
    stores,
    settings,
    service: (o = {}) =>
      new DirectoryService({
        store: stores.agencies,
        audit: o.audit ?? stores.audit,
        settings: { ...settings, ...o.settings },
      }),
    async attach() {
      const conn = await connectMongo(config.mongodb.uri, { dbName });
      const other = await createMongoStores(conn, config.credentials.key, {
        directory: { versionLeaseMs: settings.versionLeaseMs },
      });
      return {
        stores: other,
        service: new DirectoryService({ store: other.agencies, audit: other.audit, settings }),
        close: () => conn.close(),
      };
    },
    async close() {
      await mongo.dropDatabase().catch(() => undefined);
      await mongo.close();
    },
  };
}

/** The refusal a promise ends with (fails the test when it resolves). */
export async function refusalOf(
  p: Promise<unknown>,
): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a refusal');
}

/** A valid commune record (H29.005 under H29) for the pure validation tests, with `extra` over it. */
export function sampleAgency(extra: Partial<Agency> = {}): Agency {
  return {
    code: 'H29.005',
    name: 'UBND phường Tân Định',
    block: 'state',
    kind: 'commune-people-committee',
    parentCode: 'H29',
    province: 'H29',
    status: 'active',
    successors: [],
    contact: {},
    delivery: { mode: 'pull' },
    certificates: [],
    version: 1,
    updatedAt: new Date(0),
    ...extra,
  };
}
