/**
 * An in-process cache of agency-system credentials for request authentication (/v1 intake, /vdxp):
 * a signed request otherwise reads `systems` every time (issue 20, hot path).
 *
 * - An entry lives `ttlMs` (config `auth.credentialCacheMs`; 0 = no cache, every request reads).
 * - A refusal is never decided on a cached credential alone: when the cached one does not authenticate
 *   the request (wrong signature, disabled), the store is read once more and the request checked with
 *   what it holds — a secret just rotated or a system just re-enabled by another process works at once.
 * - Changes made in this process (SystemsService, `upsert`) invalidate the entry at once.
 * - The bound (docs/security.md): a credential disabled or rotated by *another* process (hubctl, another
 *   api process) may still be accepted here for up to `ttlMs`.
 * Unknown systems are not cached (a miss reads the store), so the cache holds registered systems only.
 */
import type { CredentialStore } from '../domain/ports.ts';
import type { SystemCredential } from '../domain/types.ts';

export type CredentialLookup = (systemId: string) => Promise<SystemCredential | null>;

interface Entry {
  readonly cred: SystemCredential;
  readonly until: number;
}

export class CredentialCache implements CredentialStore {
  readonly #store: CredentialStore;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #readThrough: (systemId: string) => boolean;
  readonly #entries = new Map<string, Entry>();
  /** Bumped by every invalidation: a read begun before it does not fill the cache. */
  #generation = 0;

  /**
   * `readThrough`: systems never kept (read from the store each time) — a federation peer's inbound
   * system, whose agencies change with each sync of the peer (src/federation/peers.ts).
   */
  constructor(
    store: CredentialStore,
    opts: { ttlMs: number; now?: () => number; readThrough?: (systemId: string) => boolean },
  ) {
    this.#store = store;
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now ?? Date.now;
    this.#readThrough = opts.readThrough ?? (() => false);
  }

  /** The credential, from the cache while fresh, else read (and kept). */
  async find(systemId: string): Promise<SystemCredential | null> {
    return (await this.#lookup(systemId)).cred;
  }

  /** Reads the store, bypassing the cache (and refreshing it). */
  async findFresh(systemId: string): Promise<SystemCredential | null> {
    const generation = this.#generation;
    const cred = await this.#store.find(systemId);
    if (generation === this.#generation) this.#keep(systemId, cred);
    return cred;
  }

  async upsert(cred: SystemCredential): Promise<void> {
    this.invalidate(cred.systemId);
    try {
      await this.#store.upsert(cred);
    } finally {
      this.invalidate(cred.systemId);
    }
  }

  /** Forgets one system's credential (or every one): the next request reads the store. */
  invalidate(systemId?: string): void {
    this.#generation++;
    if (systemId === undefined) this.#entries.clear();
    else this.#entries.delete(systemId);
  }

  /**
   * Runs `check` (which throws to refuse) with a lookup of the credential, cached when there is a
   * fresh entry; when it refuses what the cache gave, runs it once more with the store's credential.
   */
  async authenticate<T>(check: (lookup: CredentialLookup) => Promise<T>): Promise<T> {
    let cached = false;
    try {
      return await check(async (id) => {
        const r = await this.#lookup(id);
        cached = r.cached;
        return r.cred;
      });
    } catch (err) {
      if (!cached) throw err;
      return check((id) => this.findFresh(id));
    }
  }

  async #lookup(systemId: string): Promise<{ cred: SystemCredential | null; cached: boolean }> {
    const e = this.#entries.get(systemId);
    if (e && e.until > this.#now()) return { cred: e.cred, cached: true };
    return { cred: await this.findFresh(systemId), cached: false };
  }

  #keep(systemId: string, cred: SystemCredential | null): void {
    if (cred && this.#ttlMs > 0 && !this.#readThrough(systemId))
      this.#entries.set(systemId, { cred, until: this.#now() + this.#ttlMs });
    else this.#entries.delete(systemId);
  }
}

/**
 * `check` run against a credential source: through the cache's refusal-rereads when it is one, else
 * with plain reads.
 */
export function withCredentials<T>(
  source: Pick<CredentialStore, 'find'>,
  check: (lookup: CredentialLookup) => Promise<T>,
): Promise<T> {
  return source instanceof CredentialCache ? source.authenticate(check) : check((id) => source.find(id));
}
