/**
 * How fresh the revocation data is (issue 18 §6): every CRL source (one per trusted CA) and every
 * OCSP responder the hub has asked, with its age, whether it is stale, and what follows:
 *
 *  - gauges hub_revocation_source_age_seconds{source} and hub_revocation_source_stale{source},
 *    computed at each scrape;
 *  - /readyz reports `revocation-stale` with the stale CRL sources (HTTP stays 200: see docs/deployment.md);
 *  - an alert in the log, as src/ops/cert-expiry.ts raises them, when a source becomes stale (error
 *    in 'require' mode: submissions that need that CA's CRL are refused) and when it recovers.
 *
 * Staleness of a CRL is TrustStore.crlFreshness, the rule verification itself applies. An OCSP
 * responder is stale when its last answer failed; CRLs then decide, so it does not degrade readiness.
 * Per process: every process holds its own copy of the CRLs (reloaded from MongoDB every minute).
 */
import type { Logger } from '../observability/logger.ts';
import type { HubMetrics } from '../observability/metrics.ts';
import type { OcspEvent, RevocationMode, RevocationSource, TrustStore } from '../crypto/trust.ts';

export interface RevocationHealth {
  /** `stale` when a CRL the hub needs is missing or stale (and revocation is not 'off'). */
  readonly status: 'fresh' | 'stale';
  readonly stale: readonly { source: string; reason: string }[];
  /** When stale: what it means, for a person reading the probe's answer. */
  readonly message?: string;
}

export const REVOCATION_STALE_MESSAGE =
  'revocation data stale: submissions whose certificate chain needs these CRLs are refused (CERT_REVOCATION_UNKNOWN); see hubctl crl status';

export class RevocationFreshness {
  readonly #trust: Pick<TrustStore, 'crlSources'>;
  readonly #metrics: Pick<HubMetrics, 'revocationSourceAge' | 'revocationSourceStale'>;
  readonly #log: Logger;
  readonly #mode: RevocationMode;
  readonly #now: () => Date;
  readonly #ocsp = new Map<string, OcspEvent & { lastGood?: OcspEvent }>();
  readonly #alerted = new Set<string>();

  constructor(
    trust: Pick<TrustStore, 'crlSources'>,
    metrics: Pick<HubMetrics, 'revocationSourceAge' | 'revocationSourceStale'>,
    log: Logger,
    o: { mode: RevocationMode; now?: () => Date },
  ) {
    this.#trust = trust;
    this.#metrics = metrics;
    this.#log = log;
    this.#mode = o.mode;
    this.#now = o.now ?? (() => new Date());
  }

  /** Records the outcome of a question to an OCSP responder (TrustStore / VerifierPool `onOcsp`). */
  recordOcsp(e: OcspEvent): void {
    const prev = this.#ocsp.get(e.url);
    const lastGood = e.ok ? e : prev?.lastGood;
    this.#ocsp.set(e.url, { ...e, ...(lastGood ? { lastGood } : {}) });
  }

  /** Every source now, CRLs first. */
  sources(now: Date = this.#now()): RevocationSource[] {
    const ocsp: RevocationSource[] = [...this.#ocsp.values()].map((e) => {
      const issued = e.lastGood?.thisUpdate ?? e.lastGood?.at;
      return {
        source: `ocsp:${e.url}`,
        kind: 'ocsp',
        ageSeconds: issued ? Math.max(0, Math.round((now.getTime() - issued.getTime()) / 1000)) : null,
        stale: !e.ok,
        ...(e.ok
          ? {}
          : { reason: `last answer failed at ${e.at.toISOString()}: ${e.error ?? 'unknown error'}` }),
      };
    });
    return [...this.#trust.crlSources(now), ...ocsp];
  }

  /** Sets the gauges from the sources now; called at every scrape. */
  updateGauges(now: Date = this.#now()): RevocationSource[] {
    const all = this.sources(now);
    this.#metrics.revocationSourceAge.reset();
    this.#metrics.revocationSourceStale.reset();
    for (const s of all) {
      if (s.ageSeconds !== null) this.#metrics.revocationSourceAge.set({ source: s.source }, s.ageSeconds);
      this.#metrics.revocationSourceStale.set({ source: s.source }, s.stale ? 1 : 0);
    }
    return all;
  }

  /** For /readyz: the stale CRL sources. */
  health(now: Date = this.#now()): RevocationHealth {
    if (this.#mode === 'off') return { status: 'fresh', stale: [] };
    const stale = this.#trust
      .crlSources(now)
      .filter((s) => s.stale)
      .map((s) => ({ source: s.source, reason: s.reason ?? 'stale' }));
    return stale.length
      ? { status: 'stale', stale, message: REVOCATION_STALE_MESSAGE }
      : { status: 'fresh', stale };
  }

  /**
   * The alert (periodic): logs each source that became stale — `error` for CRLs in 'require' mode,
   * where the hub now refuses what that CA issued; `warn` otherwise — and each that recovered.
   * Returns the number of stale sources.
   */
  alert(now: Date = this.#now()): number {
    const all = this.updateGauges(now);
    // With revocation 'off' CRLs are not used: nothing to alert about them.
    const stale = all.filter((s) => s.stale && !(s.kind === 'crl' && this.#mode === 'off'));
    for (const s of stale) {
      if (this.#alerted.has(s.source)) continue;
      this.#alerted.add(s.source);
      const refusing = s.kind === 'crl' && this.#mode === 'require';
      const fields = { source: s.source, reason: s.reason, ageSeconds: s.ageSeconds, mode: this.#mode };
      if (refusing)
        this.#log.error(fields, 'revocation data stale: messages whose chain needs this CRL are refused');
      else this.#log.warn(fields, 'revocation data stale');
    }
    const staleNames = new Set(stale.map((s) => s.source));
    for (const source of [...this.#alerted])
      if (!staleNames.has(source)) {
        this.#alerted.delete(source);
        this.#log.info({ source }, 'revocation data fresh again');
      }
    return stale.length;
  }
}
