/**
 * The web UI's dependencies, from the hub's service graph (src/services.ts): accounts, sessions and
 * throttling (src/users), read queries (src/store/web-store.ts), the import jobs; and the development
 * accounts when the development seed runs (config.seed.usersFile).
 */
import { existsSync, readFileSync } from 'node:fs';
import { HubError } from '../domain/errors.ts';
import { Originals } from '../documents/originals.ts';
import type { Services } from '../services.ts';
import type { NewUser, UserService } from '../users/service.ts';
import { ImportJobs } from './imports.ts';
import { WebQueries } from './queries.ts';
import type { WebUiDeps } from './router.ts';

export interface WebUiOptions {
  readonly publicUrl: string;
  readonly secureCookies: boolean;
  readonly certExpiryWarnDays: number;
  readonly maxImportBytes: number;
}

export async function createWebUi(
  s: Pick<Services, 'stores' | 'directory' | 'log' | 'webStore' | 'accounts'>,
  o: WebUiOptions,
): Promise<{ deps: WebUiDeps; stop(): Promise<void> }> {
  const accounts = await s.accounts();
  const { stores, webStore: store } = s;
  const imports = new ImportJobs(s.directory, accounts.stores.jobs, s.log);
  // Documents accepted before the folded search keys were stored get them from the `search-keys-1`
  // migration (src/store/migrations.ts); until then the lists match them on the text as written.
  return {
    deps: {
      users: accounts.users,
      sessions: accounts.sessions,
      queries: new WebQueries({
        store,
        documents: stores.documents,
        deliveries: stores.deliveries,
        agencies: stores.agencies,
        originals: new Originals({ documents: stores.documents, agencies: stores.agencies }),
      }),
      store,
      imports,
      documents: stores.documents,
      audit: stores.audit,
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
  try {
    return await users.seed(seed.users);
  } catch (err) {
    // A development seed that does not fit this hub's directory (e.g. a narrowed seed.directoryFile)
    // stops the start: say which file, so the operator can fix it or set seed.usersFile to "".
    if (err instanceof HubError)
      throw new HubError(err.code, `seed.usersFile ${file}: ${err.reason ?? err.message}`, err.details);
    throw err;
  }
}
