/**
 * Revocation data: CRLs fetched over HTTP from the distribution points named in registered agency
 * certificates (and any configured URLs), signature-checked against the trust store, kept in
 * MongoDB so every hub process uses the same data, and loaded into each process's trust store.
 * The worker role fetches; every role reloads. A CRL is replaced only by a newer one.
 */
import type { Models } from '../store/models.ts';
import type { Logger } from '../observability/logger.ts';
import { x509 } from './x509.ts';
import type { TrustStore } from './trust.ts';

type Crl = InstanceType<typeof x509.X509Crl>;

export function crlDistributionPoints(certPem: string): string[] {
  try {
    const c = new x509.X509Certificate(certPem);
    const ext = c.getExtension(x509.CRLDistributionPointsExtension);
    if (!ext) return [];
    const urls: string[] = [];
    for (const dp of ext.distributionPoints) {
      for (const n of dp.distributionPoint?.fullName ?? [])
        if (n.uniformResourceIdentifier) urls.push(n.uniformResourceIdentifier);
    }
    return urls;
  } catch {
    return [];
  }
}

export interface RevocationOptions {
  readonly crlUrls: readonly string[];
  readonly fetchTimeoutMs: number;
  readonly fetch?: typeof fetch;
}

export class RevocationService {
  readonly #trust: TrustStore;
  readonly #m: Pick<Models, 'Crl' | 'Agency'>;
  readonly #log: Logger;
  readonly #o: RevocationOptions;
  readonly #listeners: ((der: Uint8Array) => void)[] = [];

  constructor(trust: TrustStore, models: Pick<Models, 'Crl' | 'Agency'>, log: Logger, o: RevocationOptions) {
    this.#trust = trust;
    this.#m = models;
    this.#log = log;
    this.#o = o;
  }

  /** Called with every CRL added to this process (e.g. to update verifier worker threads). */
  onCrl(fn: (der: Uint8Array) => void): void {
    this.#listeners.push(fn);
  }

  /** Distribution points of every registered certificate, plus the configured URLs. */
  async urls(): Promise<string[]> {
    const set = new Set(this.#o.crlUrls);
    const agencies = await this.#m.Agency.find(
      { 'certificates.0': { $exists: true } },
      { certificates: 1 },
    ).lean<{ certificates: { pem?: string }[] }[]>();
    for (const a of agencies)
      for (const c of a.certificates) if (c.pem) for (const u of crlDistributionPoints(c.pem)) set.add(u);
    return [...set];
  }

  /** Fetches every CRL; returns how many were new and stored. Failures are logged, never fatal. */
  async fetchAll(): Promise<{ fetched: number; updated: number; failed: string[] }> {
    const f = this.#o.fetch ?? fetch;
    let fetched = 0;
    let updated = 0;
    const failed: string[] = [];
    for (const url of await this.urls()) {
      try {
        const res = await f(url, { signal: AbortSignal.timeout(this.#o.fetchTimeoutMs) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const der = Buffer.from(await res.arrayBuffer());
        fetched++;
        if (await this.store(der, url)) updated++;
      } catch (err) {
        failed.push(url);
        this.#log.warn({ url, err: (err as Error).message }, 'CRL fetch failed');
      }
    }
    return { fetched, updated, failed };
  }

  /** Verifies a CRL against the trust store's CAs and stores it if newer. */
  async store(der: Buffer, url?: string): Promise<boolean> {
    const crl: Crl = new x509.X509Crl(new Uint8Array(der));
    const issuer = await this.#trust.caFor(crl);
    if (!issuer)
      throw new Error(`CRL issuer ${crl.issuer} is not a trusted CA, or its signature does not verify`);
    const prev = await this.#m.Crl.findById(crl.issuer).lean<{ thisUpdate: Date }>();
    if (prev && prev.thisUpdate >= crl.thisUpdate) return false;
    await this.#m.Crl.updateOne(
      { _id: crl.issuer },
      { $set: { der, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, url, fetchedAt: new Date() } },
      { upsert: true },
    );
    this.#trust.addCrl(crl);
    for (const l of this.#listeners) l(new Uint8Array(der));
    return true;
  }

  /** Loads the stored CRLs into this process's trust store. */
  async load(): Promise<number> {
    const all = await this.#m.Crl.find().lean<{ der: Buffer | { buffer: Buffer } }[]>();
    for (const c of all) {
      const der = Buffer.isBuffer(c.der) ? c.der : Buffer.from(c.der.buffer);
      this.#trust.addCrl(der);
      for (const l of this.#listeners) l(new Uint8Array(der));
    }
    return all.length;
  }
}
