/**
 * The data migrations of the hub's database, by name (docs/deployment.md ## Migrations). They run
 * explicitly: `hubctl migrate`, or at start when `store.migrateOnStart` is set (development). Each is
 * idempotent (two processes running it at once, or a run stopped half-way and started again, leave
 * the same data) and is recorded in the `migrations` collection once it has finished; a production
 * hub refuses to start while one is pending (src/ops/start-checks.ts).
 *
 * Indexes are not migrations: models.ts and the stores create them when they open (cheap, idempotent).
 *
 * Adding one: write the function next to the data it changes, export it, and append an entry here
 * with a new name (never rename or reuse a name: the name is what a database records).
 */
import { splitPeerRecords } from './peer-store.ts';
import type { Models } from './models.ts';
import { migrateDirectoryCodes, type MongoDirectoryStore } from './directory-store.ts';
import { backfillInboxEntries } from './stores.ts';
import { MongoWebQueryStore } from './web-store.ts';

/** What a migration works on. */
export interface MigrationTarget {
  readonly models: Models;
  readonly agencies: MongoDirectoryStore;
}

export interface Migration {
  /** Recorded in the `migrations` collection; never renamed. */
  readonly name: string;
  readonly description: string;
  /** Idempotent; returns how many records it changed when it knows. */
  run(t: MigrationTarget): Promise<number | void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'inbox-entries-1',
    description: 'inbox entries for deliveries made available before inbox entries existed',
    run: (t) => backfillInboxEntries(t.models),
  },
  {
    name: 'directory-code-register-1',
    description: 'code register and version counter for directories written before they existed',
    run: (t) => migrateDirectoryCodes(t.agencies),
  },
  {
    name: 'search-keys-1',
    description: 'folded subject and number keys of documents accepted before they were stored',
    run: async (t) => {
      const store = new MongoWebQueryStore(t.models);
      return (
        (await store.backfillFoldedSubjects(Number.POSITIVE_INFINITY)) +
        (await store.backfillNumberKeys(Number.POSITIVE_INFINITY))
      );
    },
  },
  {
    name: 'federation-peer-records-1',
    description: "federation peers' units and state moved out of their definition's record",
    run: (t) => splitPeerRecords(t.models.Migration.db.db!),
  },
];

export interface MigrationRecord {
  readonly name: string;
  readonly at: Date;
}

/** The migrations this database has recorded, by name. */
export async function appliedMigrations(models: Models): Promise<Map<string, Date>> {
  const rows = await models.Migration.find({}).lean<{ _id: string; at: Date }[]>();
  return new Map(rows.map((r) => [r._id, r.at]));
}

/** The registered migrations this database has not recorded, in registry order. */
export async function pendingMigrations(
  models: Models,
  registry: readonly Migration[] = MIGRATIONS,
): Promise<Migration[]> {
  const applied = await appliedMigrations(models);
  return registry.filter((m) => !applied.has(m.name));
}

export type MigrationProgress =
  | { readonly event: 'start'; readonly name: string; readonly description: string }
  | { readonly event: 'done'; readonly name: string; readonly ms: number; readonly changed?: number };

/**
 * Runs the pending migrations in registry order, recording each once it has finished; a failure
 * stops the run (what ran before stays recorded, the failed one stays pending).
 */
export async function runMigrations(
  t: MigrationTarget,
  o: { readonly registry?: readonly Migration[]; readonly onProgress?: (p: MigrationProgress) => void } = {},
): Promise<string[]> {
  const ran: string[] = [];
  for (const m of await pendingMigrations(t.models, o.registry)) {
    o.onProgress?.({ event: 'start', name: m.name, description: m.description });
    const started = performance.now();
    const changed = await m.run(t);
    // A concurrent run may record the same name first (its upsert wins): recorded either way.
    await t.models.Migration.updateOne(
      { _id: m.name },
      { $setOnInsert: { at: new Date() } },
      { upsert: true },
    ).catch(async (err: unknown) => {
      if (!(await t.models.Migration.exists({ _id: m.name }))) throw err;
    });
    ran.push(m.name);
    o.onProgress?.({
      event: 'done',
      name: m.name,
      ms: Math.round(performance.now() - started),
      ...(typeof changed === 'number' ? { changed } : {}),
    });
  }
  return ran;
}
