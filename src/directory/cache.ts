/**
 * A read-through cache of directory lookups on the hot path (issue 20): the recipients a submission
 * routes to and the recipient's delivery mode in the worker, which otherwise read `agencies` for every
 * document.
 *
 * - An entry is used for `refreshMs` after it was read (config `directory.cacheRefreshMs`; 0: no cache).
 *   A per-entry age, not the change feed: an import's rollback removes agencies without a new version,
 *   and certificate changes do not bump it here, so following the feed alone could keep a stale entry
 *   for ever; an age bounds every kind of change.
 * - Never used to refuse: callers re-read the store (`store`) before any refusal or failure decided on
 *   what the cache answered (submission routing, the worker's push endpoint). Only an acceptance can be
 *   stale, by at most `refreshMs` (docs/security.md, docs/architecture.md).
 * - Misses are not kept (an unknown code always reads the store).
 * - Directory writes made by this process (`invalidatingWrites`) empty the cache at once.
 * - The sender of a submission is read through it too (its status and pinned certificates): a sender
 *   the cache would refuse is read again, so a revoked/removed certificate or a closed sender may be
 *   accepted for at most `refreshMs` after another process changed it (an entry's age, in every
 *   process alike: no change feed needed). Certificate writes made by this process empty the cache
 *   (`invalidatingWrites(certificates, cache, CERTIFICATE_WRITES)`).
 */
import type { AgencyStore, DirectoryStore } from '../domain/ports.ts';
import type { Agency } from '../domain/types.ts';

type Lookups = Pick<AgencyStore, 'findByCode'> & Pick<DirectoryStore, 'findMany'>;

export class DirectoryCache implements Lookups {
  /** The store itself, for the re-read before a refusal. */
  readonly store: Lookups;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { agency: Agency; until: number }>();
  /** Bumped by every invalidation: a read begun before it does not fill the cache. */
  #generation = 0;

  constructor(store: Lookups, opts: { refreshMs: number; now?: () => number }) {
    this.store = store;
    this.#refreshMs = opts.refreshMs;
    this.#now = opts.now ?? Date.now;
  }

  async findByCode(code: string): Promise<Agency | null> {
    return (await this.findMany([code])).get(code) ?? null;
  }

  /** Keyed by the requested code, misses left out (as `DirectoryStore.findMany`). */
  async findMany(codes: readonly string[]): Promise<Map<string, Agency>> {
    const out = new Map<string, Agency>();
    const missing: string[] = [];
    const now = this.#now();
    for (const c of new Set(codes)) {
      const e = this.#entries.get(c);
      if (e && e.until > now) out.set(c, e.agency);
      else missing.push(c);
    }
    if (missing.length === 0) return out;
    const generation = this.#generation;
    const found = missing.length === 1 ? await this.#one(missing[0]!) : await this.store.findMany(missing);
    const keep = this.#refreshMs > 0 && generation === this.#generation;
    const until = this.#now() + this.#refreshMs;
    for (const c of missing) {
      const a = found.get(c);
      if (a) out.set(c, a);
      if (a && keep) this.#entries.set(c, { agency: a, until });
      else this.#entries.delete(c);
    }
    return out;
  }

  /**
   * `code` read from the store now, and kept (when found) for the next lookups: the re-read before a
   * refusal, so that what was just found (a certificate pinned elsewhere) serves what follows.
   */
  async refresh(code: string): Promise<Agency | null> {
    this.#generation++; // a read begun before this one does not overwrite it
    this.#entries.delete(code);
    return this.findByCode(code);
  }

  /** Forgets every entry: the next lookups read the store. */
  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
  }

  async #one(code: string): Promise<Map<string, Agency>> {
    const a = await this.store.findByCode(code);
    return new Map(a ? [[code, a]] : []);
  }
}

/** The directory store's writing methods: after each (done or failed) the cache is emptied. */
const WRITES = new Set<PropertyKey>([
  'withWriter',
  'insertAgencies',
  'update',
  'rollbackImport',
  'upsertSeed',
]);

/** The certificate store's writing methods (pin, revoke): they change an agency's certificates. */
export const CERTIFICATE_WRITES: ReadonlySet<PropertyKey> = new Set<PropertyKey>(['add', 'revoke']);

/**
 * `store` whose writes (`writes`: the directory store's by default) empty `cache`, for the services of
 * the process that owns the cache (DirectoryService, CertificateService).
 */
export function invalidatingWrites<S extends object>(
  store: S,
  cache: DirectoryCache,
  writes: ReadonlySet<PropertyKey> = WRITES,
): S {
  return new Proxy(store, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const f = v as (...args: unknown[]) => unknown;
      if (!writes.has(prop)) return f.bind(target);
      return async (...args: unknown[]) => {
        try {
          return await f.apply(target, args);
        } finally {
          cache.invalidate();
        }
      };
    },
  });
}
