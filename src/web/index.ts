/**
 * Builds the web UI's services on the hub's MongoDB connection: accounts, sessions and throttling
 * (src/users, stored by src/store/user-store.ts), read queries (src/store/web-store.ts), and the
 * development accounts when the development seed runs (config.seed.usersFile).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Connection } from 'mongoose';
import type { DirectoryService } from '../directory/service.ts';
import { Originals } from '../documents/originals.ts';
import type { Logger } from '../observability/logger.ts';
import type { MongoStores } from '../store/stores.ts';
import { createWebQueryStore } from '../store/query-stores.ts';
import { createUserServices } from '../users/accounts.ts';
import type { NewUser, UserService } from '../users/service.ts';
import { ImportJobs } from './imports.ts';
import { WebQueries } from './queries.ts';
import type { WebUiDeps } from './router.ts';

export interface WebUiOptions {
  readonly mongo: Connection;
  readonly stores: MongoStores;
  readonly directory: DirectoryService;
  readonly log: Logger;
  readonly publicUrl: string;
  readonly secureCookies: boolean;
  readonly certExpiryWarnDays: number;
  readonly maxImportBytes: number;
}

export async function createWebUi(o: WebUiOptions): Promise<{ deps: WebUiDeps; stop(): Promise<void> }> {
  const accounts = await createUserServices(o.mongo, o.stores);
  const store = createWebQueryStore(o.stores);
  const imports = new ImportJobs(o.directory, accounts.stores.jobs, o.log);
  // Subject and number search need folded keys: documents accepted before they were stored get them
  // now (until then, the lists match those documents on the text as written).
  void store
    .backfillFoldedSubjects()
    .then(async (n) => n + (await store.backfillNumberKeys()))
    .then((n) => n && o.log.info({ documents: n }, 'search keys stored'))
    .catch((err: unknown) => o.log.warn({ err: (err as Error).message }, 'search-key backfill stopped'));
  return {
    deps: {
      users: accounts.users,
      sessions: accounts.sessions,
      queries: new WebQueries({
        store,
        documents: o.stores.documents,
        deliveries: o.stores.deliveries,
        agencies: o.stores.agencies,
        originals: new Originals({ documents: o.stores.documents, agencies: o.stores.agencies }),
      }),
      store,
      imports,
      documents: o.stores.documents,
      audit: o.stores.audit,
      publicUrl: o.publicUrl,
      secureCookies: o.secureCookies,
      certExpiryWarnDays: o.certExpiryWarnDays,
      maxImportBytes: o.maxImportBytes,
    },
    stop: () => imports.drain(),
  };
}

/**
 * DEVELOPMENT ONLY: the accounts of config/seed-users.json (admin / DEV-ONLY-admin-password, clerks
 * of the seeded agencies, an auditor), created when missing. Production configuration sets
 * seed.usersFile to "" so nothing is seeded there.
 */
export async function seedDevUsers(users: UserService, file: string): Promise<number> {
  if (!file || !existsSync(file)) return 0;
  const seed = JSON.parse(readFileSync(file, 'utf8')) as { users: NewUser[] };
  return users.seed(seed.users);
}
