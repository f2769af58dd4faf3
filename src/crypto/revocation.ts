/**
 * Revocation data: CRLs fetched over HTTP, signature-checked against the trust store, kept in MongoDB
 * so every hub process uses the same data, and loaded into each process's trust store. The worker
 * role fetches; every role reloads. A CRL is replaced only by a newer one.
 *
 * Where from (issue 23): the distribution points of every CA certificate of the trust directory (an
 * intermediate names its root's CRL), of every registered agency certificate (its issuer's CRL), and
 * `pki.crlUrls`: so the CRL of every CA on each trusted chain is fetched. Only http(s) URLs.
 *
 * When: every `pki.crlRefreshMs` (one worker per period: src/ops/periodic.ts), and sooner when it is
 * urgent (`urgentFetchAt`): a URL whose last fetch failed is retried with a backoff (5 s, 10 s, 20 s …
 * up to the period), and a CRL past 80 % of its thisUpdate → nextUpdate window (or stale) is fetched
 * again with the same backoff until a newer one is published — so a CRL is renewed before it lapses
 * and a distribution point that comes back is read again within seconds, not a period.
 */
import type { CertificateStore, RevocationDataStore } from '../domain/ports/certificates.ts';
import type { Logger } from '../observability/logger.ts';
import type { HubMetrics } from '../observability/metrics.ts';
import { x509 } from './x509.ts';
import type { TrustStore } from './trust.ts';

type Crl = InstanceType<typeof x509.X509Crl>;

const HTTP_URL = /^https?:\/\//i;

/** The http(s) CRL distribution points a certificate names (LDAP ones are not fetched). */
export function crlDistributionPoints(cert: string | InstanceType<typeof x509.X509Certificate>): string[] {
  try {
    const c = typeof cert === 'string' ? new x509.X509Certificate(cert) : cert;
    const ext = c.getExtension(x509.CRLDistributionPointsExtension);
    if (!ext) return [];
    const urls: string[] = [];
    for (const dp of ext.distributionPoints) {
      for (const n of dp.distributionPoint?.fullName ?? [])
        if (n.uniformResourceIdentifier && HTTP_URL.test(n.uniformResourceIdentifier))
          urls.push(n.uniformResourceIdentifier);
    }
    return urls;
  } catch {
    return [];
  }
}

/** When to fetch sooner than the period (issue 23). */
export interface CrlRefreshPolicy {
  /** The regular period (pki.crlRefreshMs): the longest wait, backoff included. */
  readonly periodMs: number;
  /** Fetch again from this fraction of the thisUpdate → nextUpdate window on. */
  readonly earlyFraction: number;
  /** First retry after a failure (then doubling). */
  readonly retryMinMs: number;
}

export const DEFAULT_CRL_EARLY_FRACTION = 0.8;
export const DEFAULT_CRL_RETRY_MIN_MS = 5_000;

/** What this process knows of one URL's fetches. */
export interface CrlUrlState {
  /** The issuer of the CRL it served last (or of the stored CRL fetched from it). */
  readonly issuer?: string;
  readonly lastAttemptAt?: number;
  /** Consecutive failed fetches. */
  readonly failures: number;
  /** Consecutive successful fetches that brought no newer CRL. */
  readonly unchanged: number;
  readonly error?: string;
}

/**
 * When a URL must be fetched before the next regular period, or null when the period will do.
 * Pure: `crl` is the issuer's current CRL (times in ms), `now` the clock.
 */
export function urgentFetchAt(
  s: CrlUrlState,
  crl: { thisUpdate: number; nextUpdate?: number; stale: boolean } | undefined,
  p: CrlRefreshPolicy,
): number | null {
  const last = s.lastAttemptAt ?? -Infinity;
  const backoff = (n: number) => Math.min(p.periodMs, p.retryMinMs * 2 ** Math.max(0, n - 1));
  if (s.failures > 0) return last + backoff(s.failures);
  if (!crl) return null;
  const early = earlyRefreshAt(crl, p);
  if (crl.stale || (early !== null && last >= early)) return last + backoff(Math.max(1, s.unchanged));
  return early;
}

/** The early-refresh point of a CRL: earlyFraction of its thisUpdate → nextUpdate window; null without one. */
export function earlyRefreshAt(
  crl: { thisUpdate: number; nextUpdate?: number },
  p: Pick<CrlRefreshPolicy, 'earlyFraction'>,
): number | null {
  return crl.nextUpdate === undefined
    ? null
    : crl.thisUpdate + p.earlyFraction * (crl.nextUpdate - crl.thisUpdate);
}

/** The outcome of one fetch. */
export interface CrlFetchResult {
  readonly url: string;
  readonly ok: boolean;
  /** The CRL fetched was newer than the stored one and replaced it. */
  readonly updated: boolean;
  readonly issuer?: string;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly error?: string;
}

export interface RevocationOptions {
  readonly crlUrls: readonly string[];
  readonly fetchTimeoutMs: number;
  readonly fetch?: typeof fetch;
  /** Early refresh and retries (defaults: period 5 minutes, 80 %, 5 s). */
  readonly refresh?: Partial<CrlRefreshPolicy>;
  /** hub_crl_fetch_failures_total (processes that fetch). */
  readonly metrics?: Pick<HubMetrics, 'crlFetchFailures'>;
  /** Clock (tests). */
  readonly now?: () => Date;
}

export class RevocationService {
  readonly #trust: TrustStore;
  readonly #crls: RevocationDataStore;
  readonly #certificates: Pick<CertificateStore, 'list'>;
  readonly #log: Logger;
  readonly #o: RevocationOptions;
  readonly #policy: CrlRefreshPolicy;
  readonly #now: () => Date;
  readonly #listeners: ((der: Uint8Array) => void)[] = [];
  readonly #state = new Map<string, CrlUrlState>();
  #nextUrgentAt = Infinity;

  constructor(
    trust: TrustStore,
    stores: { revocationData: RevocationDataStore; certificates: Pick<CertificateStore, 'list'> },
    log: Logger,
    o: RevocationOptions,
  ) {
    this.#trust = trust;
    this.#crls = stores.revocationData;
    this.#certificates = stores.certificates;
    this.#log = log;
    this.#o = o;
    this.#policy = {
      periodMs: o.refresh?.periodMs ?? 300_000,
      earlyFraction: o.refresh?.earlyFraction ?? DEFAULT_CRL_EARLY_FRACTION,
      retryMinMs: o.refresh?.retryMinMs ?? DEFAULT_CRL_RETRY_MIN_MS,
    };
    this.#now = o.now ?? (() => new Date());
  }

  /** Called with every CRL added to this process (e.g. to update verifier worker threads). */
  onCrl(fn: (der: Uint8Array) => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Distribution points of every CA certificate of the trust directory and of every registered
   * certificate, plus the configured URLs.
   */
  async urls(): Promise<string[]> {
    const set = new Set(this.#o.crlUrls);
    for (const ca of this.#trust.intermediates) for (const u of crlDistributionPoints(ca)) set.add(u);
    for (const c of await this.#certificates.list())
      if (c.pem) for (const u of crlDistributionPoints(c.pem)) set.add(u);
    return [...set];
  }

  /** What this process knows of each URL it fetched (hubctl crl, tests). */
  urlState(url: string): CrlUrlState | undefined {
    return this.#state.get(url);
  }

  /** Fetches every CRL now. Failures are logged and counted, never thrown. */
  async fetchAll(): Promise<{
    fetched: number;
    updated: number;
    failed: string[];
    results: CrlFetchResult[];
  }> {
    const results = await this.fetchUrls(await this.urls());
    return {
      fetched: results.filter((r) => r.ok).length,
      updated: results.filter((r) => r.updated).length,
      failed: results.filter((r) => !r.ok).map((r) => r.url),
      results,
    };
  }

  /**
   * Fetches these URLs. A failure is counted (metric) and logged: `warn` by default (the regular fetch:
   * one line per URL and period, across the workers), `debug` for the retries in between.
   */
  async fetchUrls(
    urls: readonly string[],
    o: { failureLog?: 'warn' | 'debug' } = {},
  ): Promise<CrlFetchResult[]> {
    const f = this.#o.fetch ?? fetch;
    const out: CrlFetchResult[] = [];
    for (const url of urls) {
      const prev = this.#state.get(url) ?? { failures: 0, unchanged: 0 };
      const at = this.#now().getTime();
      try {
        const res = await f(url, { signal: AbortSignal.timeout(this.#o.fetchTimeoutMs) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const der = Buffer.from(await res.arrayBuffer());
        const crl = new x509.X509Crl(new Uint8Array(der));
        const updated = await this.#store(crl, der, url);
        this.#state.set(url, {
          issuer: crl.issuer,
          lastAttemptAt: at,
          failures: 0,
          // the backoff in the refresh window counts only the fetches made in it
          unchanged: updated || !this.#inRefreshWindow(crl.issuer, at) ? 0 : prev.unchanged + 1,
        });
        out.push({
          url,
          ok: true,
          updated,
          issuer: crl.issuer,
          thisUpdate: crl.thisUpdate,
          ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
        });
      } catch (err) {
        const error = (err as Error).message;
        this.#state.set(url, { ...prev, lastAttemptAt: at, failures: prev.failures + 1, error });
        this.#o.metrics?.crlFetchFailures.inc({ url });
        this.#log[o.failureLog ?? 'warn'](
          { url, err: error, failures: prev.failures + 1 },
          'CRL fetch failed',
        );
        out.push({ url, ok: false, updated: false, ...(prev.issuer ? { issuer: prev.issuer } : {}), error });
      }
    }
    return out;
  }

  /**
   * Fetches the URLs that are urgent now (`urgentFetchAt`); remembers when the next one is due
   * (`nextDelayMs`). Run in every worker, besides the periodic fetchAll of one of them.
   */
  async refreshUrgent(): Promise<CrlFetchResult[]> {
    const urls = await this.urls();
    const now = this.#now().getTime();
    const due = urls.filter((u) => (this.#urgentAt(u, now) ?? Infinity) <= now);
    const results = due.length ? await this.fetchUrls(due, { failureLog: 'debug' }) : [];
    this.#nextUrgentAt = Math.min(...urls.map((u) => this.#urgentAt(u, now) ?? Infinity), Infinity);
    return results;
  }

  /** Milliseconds until refreshUrgent has work again (at least 1 s, at most the period). */
  nextDelayMs(): number {
    const wait = this.#nextUrgentAt - this.#now().getTime();
    return Math.min(this.#policy.periodMs, Math.max(1_000, Number.isFinite(wait) ? wait : Infinity));
  }

  #urgentAt(url: string, now: number): number | null {
    const s = this.#state.get(url) ?? { failures: 0, unchanged: 0 };
    return urgentFetchAt(s, s.issuer ? this.#times(s.issuer, now) : undefined, this.#policy);
  }

  /** The issuer's current CRL as urgentFetchAt reads it. */
  #times(
    issuer: string,
    now: number,
  ): { thisUpdate: number; nextUpdate?: number; stale: boolean } | undefined {
    const crl = this.#trust.crlFor(issuer);
    return (
      crl && {
        thisUpdate: crl.thisUpdate.getTime(),
        ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.getTime() } : {}),
        stale: this.#trust.crlFreshness(crl, new Date(now)).stale,
      }
    );
  }

  /** Whether the issuer's CRL is stale or past the early-refresh point. */
  #inRefreshWindow(issuer: string, now: number): boolean {
    const c = this.#times(issuer, now);
    return !c || c.stale || now >= (earlyRefreshAt(c, this.#policy) ?? Infinity);
  }

  /**
   * Before a certificate is validated for registration: fetches the CRLs its chain needs that this
   * process lacks or holds stale — its issuer's from the certificate's distribution points, and the
   * CRLs named by the trusted intermediates — so registering the first certificate of a CA works
   * without waiting for a period (issue 23).
   */
  async ensureCrlsFor(pem: string): Promise<CrlFetchResult[]> {
    let cert;
    try {
      cert = new x509.X509Certificate(pem);
    } catch {
      return []; // the registration refuses it with its own reason
    }
    const lacking = (issuer: string) => {
      const crl = this.#trust.crlFor(issuer);
      return !crl || this.#trust.crlFreshness(crl).stale;
    };
    const urls = new Set<string>();
    for (const c of [cert, ...this.#trust.intermediates])
      if (c.subject !== c.issuer && lacking(c.issuer)) for (const u of crlDistributionPoints(c)) urls.add(u);
    return urls.size ? this.fetchUrls([...urls], { failureLog: 'debug' }) : [];
  }

  /** Verifies a CRL against the trust store's CAs and stores it if newer. */
  async store(der: Buffer, url?: string): Promise<boolean> {
    return this.#store(new x509.X509Crl(new Uint8Array(der)), der, url);
  }

  async #store(crl: Crl, der: Buffer, url?: string): Promise<boolean> {
    const issuer = await this.#trust.caFor(crl);
    if (!issuer)
      throw new Error(`CRL issuer ${crl.issuer} is not a trusted CA, or its signature does not verify`);
    const stored = await this.#crls.putIfNewer({
      issuer: crl.issuer,
      der,
      thisUpdate: crl.thisUpdate,
      ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
      ...(url ? { url } : {}),
      fetchedAt: new Date(),
    });
    if (!stored) return false;
    this.#add(crl, der);
    return true;
  }

  #add(crl: Crl, der: Uint8Array): void {
    this.#trust.addCrl(crl);
    for (const l of this.#listeners) l(new Uint8Array(der));
  }

  /**
   * Loads the stored CRLs that are newer than this process's into its trust store; returns how many.
   * Also learns which URL served each stored CRL (for the early refresh).
   */
  async load(): Promise<number> {
    let loaded = 0;
    for (const h of await this.#crls.heads()) {
      if (h.url && !this.#state.get(h.url)?.issuer)
        this.#state.set(h.url, {
          ...(this.#state.get(h.url) ?? { failures: 0, unchanged: 0 }),
          issuer: h.issuer,
        });
      const have = this.#trust.crlFor(h.issuer);
      if (have && have.thisUpdate >= h.thisUpdate) continue;
      const full = await this.#crls.get(h.issuer);
      if (!full) continue;
      this.#add(new x509.X509Crl(new Uint8Array(full.der)), full.der);
      loaded++;
    }
    return loaded;
  }

  /** The stored CRLs: issuer, times, the URL that served it and when (hubctl crl status). */
  async stored(): Promise<
    { issuer: string; thisUpdate: Date; nextUpdate?: Date; url?: string; fetchedAt: Date }[]
  > {
    return (await this.#crls.heads()).map(({ issuer, thisUpdate, nextUpdate, url, fetchedAt }) => ({
      issuer,
      thisUpdate,
      ...(nextUpdate ? { nextUpdate } : {}),
      ...(url ? { url } : {}),
      fetchedAt,
    }));
  }
}
