/**
 * Trust anchors, intermediates and revocation data, and certificate path validation.
 * Checks: a path to a configured root (signature of every link), CA flag and pathLen of issuers,
 * validity of every certificate at the signing time, the leaf's key usage (digitalSignature or
 * nonRepudiation), and revocation from the issuer's CRL (signature-checked, within nextUpdate).
 * Missing or stale revocation data refuses by default ('require'), never passes silently.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { HubError } from '../domain/errors.ts';
import { x509 } from './x509.ts';
import { checkOcsp, ocspUrls, type OcspResult } from './ocsp.ts';

export type Certificate = InstanceType<typeof x509.X509Certificate>;
type Crl = InstanceType<typeof x509.X509Crl>;

export type RevocationMode = 'require' | 'prefer' | 'off';

export interface ValidatedChain {
  readonly leaf: Certificate;
  /** leaf … root */
  readonly chain: readonly Certificate[];
  readonly fingerprintSha256: string;
  /** The leaf's subject (distinguished name), as `leaf.subject` gives it. */
  readonly subject: string;
  readonly revocation: {
    readonly checked: boolean;
    readonly crlThisUpdate?: Date;
    readonly crlNextUpdate?: Date;
    readonly ocsp?: string;
  };
}

const fingerprints = new WeakMap<Certificate, string>();

export function certificateFingerprint(cert: Certificate): string {
  let f = fingerprints.get(cert);
  if (!f) fingerprints.set(cert, (f = createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex')));
  return f;
}

function isCa(c: Certificate): { ca: boolean; pathLen?: number } {
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  return bc
    ? { ca: bc.ca, ...(bc.pathLength !== undefined ? { pathLen: bc.pathLength } : {}) }
    : { ca: false };
}

export interface TrustOptions {
  readonly revocation?: RevocationMode;
  /** How long past its nextUpdate a CRL may still be used. */
  readonly maxCrlAgeSeconds?: number;
  /**
   * How long after its thisUpdate a CRL without nextUpdate may be used (RFC 5280 §5.1.2.5 makes
   * nextUpdate mandatory; a CRL without one must not count as fresh forever). Default 24 h.
   */
  readonly maxAgeWithoutNextUpdateSeconds?: number;
  /** The clock CRL freshness is judged by (offline verification of evidence uses the acceptance time). */
  readonly now?: () => Date;
  /** Ask the leaf's OCSP responder (Authority Information Access) first; CRLs remain the fallback. */
  readonly ocsp?: boolean;
}

/** One source of revocation data and how fresh it is (for /readyz, metrics and alerts). */
export interface RevocationSource {
  /** `crl:<issuer DN>` or `ocsp:<responder URL>`. */
  readonly source: string;
  readonly kind: 'crl' | 'ocsp';
  /** Seconds since the data was issued (CRL thisUpdate, OCSP thisUpdate); null when there is none. */
  readonly ageSeconds: number | null;
  /** The data can no longer be used (CRL), or the responder's last answer failed (OCSP). */
  readonly stale: boolean;
  readonly reason?: string;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
}

/** The outcome of one question to an OCSP responder. */
export interface OcspEvent {
  readonly url: string;
  readonly ok: boolean;
  readonly at: Date;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly error?: string;
}

const DEFAULT_MAX_AGE_WITHOUT_NEXT_UPDATE_S = 24 * 3600;

export class TrustStore {
  readonly #roots: Certificate[];
  readonly #intermediates: Certificate[];
  readonly #crls = new Map<string, Crl>(); // by issuer name
  readonly revocation: RevocationMode;
  readonly #staleness: number;
  readonly #maxAgeWithoutNextUpdate: number;
  readonly #ocspListeners: ((e: OcspEvent) => void)[] = [];
  readonly #now: () => Date;
  readonly #ocsp: boolean;
  readonly #ocspCache = new Map<string, { result: OcspResult; until: number }>();

  private constructor(roots: Certificate[], intermediates: Certificate[], crls: Crl[], o: TrustOptions) {
    this.#roots = roots;
    this.#intermediates = intermediates;
    this.revocation = o.revocation ?? 'require';
    this.#staleness = (o.maxCrlAgeSeconds ?? 0) * 1000;
    this.#maxAgeWithoutNextUpdate =
      (o.maxAgeWithoutNextUpdateSeconds ?? DEFAULT_MAX_AGE_WITHOUT_NEXT_UPDATE_S) * 1000;
    this.#now = o.now ?? (() => new Date());
    this.#ocsp = o.ocsp ?? false;
    for (const c of crls) this.addCrl(c);
  }

  static create(
    o: {
      roots: (string | Certificate)[];
      intermediates?: (string | Certificate)[];
      crls?: (Uint8Array | Crl)[];
    } & TrustOptions,
  ): TrustStore {
    const cert = (c: string | Certificate) => (typeof c === 'string' ? new x509.X509Certificate(c) : c);
    const crl = (c: Uint8Array | Crl) => (c instanceof x509.X509Crl ? c : new x509.X509Crl(Buffer.from(c)));
    return new TrustStore(o.roots.map(cert), (o.intermediates ?? []).map(cert), (o.crls ?? []).map(crl), o);
  }

  /** A directory laid out like certs-dev: CA certificates (*.pem) at the top level, CRLs in crl/. */
  static async fromDirectory(dir: string, o: TrustOptions = {}): Promise<TrustStore> {
    const roots: Certificate[] = [];
    const intermediates: Certificate[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.pem') && !n.endsWith('.key.pem'))) {
      const c = new x509.X509Certificate(readFileSync(path.join(dir, f), 'utf8'));
      if (!isCa(c).ca) continue;
      if (c.subject === c.issuer && (await c.verify({ signatureOnly: true }))) roots.push(c);
      else intermediates.push(c);
    }
    if (roots.length === 0) throw new Error(`no trust anchor (self-signed CA certificate) in ${dir}`);
    const crlDir = path.join(dir, 'crl');
    const crls = existsSync(crlDir)
      ? readdirSync(crlDir)
          .filter((n) => n.endsWith('.crl'))
          .map((n) => readFileSync(path.join(crlDir, n)))
      : [];
    return TrustStore.create({ roots, intermediates, crls, ...o });
  }

  get roots(): readonly Certificate[] {
    return this.#roots;
  }

  /** The trusted intermediate CAs (the CA certificates of the trust directory that are not roots). */
  get intermediates(): readonly Certificate[] {
    return this.#intermediates;
  }

  /**
   * The same anchors and CRLs under other options (e.g. revocation judged at a past instant: evidence
   * export); later CRLs added to either store are not shared.
   */
  withOptions(o: TrustOptions): TrustStore {
    return new TrustStore(this.#roots, this.#intermediates, [...this.#crls.values()], {
      revocation: this.revocation,
      maxCrlAgeSeconds: this.#staleness / 1000,
      maxAgeWithoutNextUpdateSeconds: this.#maxAgeWithoutNextUpdate / 1000,
      now: this.#now,
      ocsp: this.#ocsp,
      ...o,
    });
  }

  /** Adds or replaces the CRL of its issuer (newer thisUpdate wins). */
  addCrl(crl: Crl | Uint8Array): void {
    const c = crl instanceof x509.X509Crl ? crl : new x509.X509Crl(Buffer.from(crl));
    const prev = this.#crls.get(c.issuer);
    if (!prev || prev.thisUpdate <= c.thisUpdate) this.#crls.set(c.issuer, c);
  }

  /** The trusted CA (root or intermediate) that signed this CRL, if any. */
  async caFor(crl: Crl): Promise<Certificate | undefined> {
    for (const ca of [...this.#roots, ...this.#intermediates]) {
      if (ca.subject === crl.issuer && (await crl.verify({ publicKey: ca.publicKey }))) return ca;
    }
    return undefined;
  }

  /** The CRL of an issuer (certificate, or its distinguished name as `subject` gives it). */
  crlFor(issuer: Certificate | string): Crl | undefined {
    return this.#crls.get(typeof issuer === 'string' ? issuer : issuer.subject);
  }

  /**
   * Whether a CRL may still be used at `now` — the one rule, for verification and for monitoring:
   * until nextUpdate (+ pki.maxCrlStalenessSeconds); without nextUpdate, until thisUpdate +
   * pki.crlMaxAgeWithoutNextUpdateHours.
   */
  crlFreshness(crl: Crl, now: Date = this.#now()): { stale: boolean; reason?: string } {
    if (crl.nextUpdate) {
      const until = crl.nextUpdate.getTime() + this.#staleness;
      return until >= now.getTime()
        ? { stale: false }
        : { stale: true, reason: `nextUpdate ${crl.nextUpdate.toISOString()} has passed` };
    }
    const until = crl.thisUpdate.getTime() + this.#maxAgeWithoutNextUpdate;
    return until >= now.getTime()
      ? { stale: false }
      : {
          stale: true,
          reason: `no nextUpdate, and issued ${crl.thisUpdate.toISOString()}, more than ${this.#maxAgeWithoutNextUpdate / 3_600_000} h ago`,
        };
  }

  /**
   * Every CRL source: one per trusted CA (roots and intermediates of the trust directory; a CA without
   * a CRL is listed as stale, since in 'require' mode nothing it issued can be validated), plus CRLs
   * of other issuers that were loaded.
   */
  crlSources(now: Date = this.#now()): RevocationSource[] {
    const out: RevocationSource[] = [];
    const seen = new Set<string>();
    const describe = (issuer: string): RevocationSource => {
      seen.add(issuer);
      const crl = this.#crls.get(issuer);
      if (!crl)
        return { source: `crl:${issuer}`, kind: 'crl', ageSeconds: null, stale: true, reason: 'no CRL' };
      const f = this.crlFreshness(crl, now);
      return {
        source: `crl:${issuer}`,
        kind: 'crl',
        ageSeconds: Math.max(0, Math.round((now.getTime() - crl.thisUpdate.getTime()) / 1000)),
        stale: f.stale,
        ...(f.reason ? { reason: f.reason } : {}),
        thisUpdate: crl.thisUpdate,
        ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
      };
    };
    for (const ca of [...this.#roots, ...this.#intermediates])
      if (!seen.has(ca.subject)) out.push(describe(ca.subject));
    for (const issuer of this.#crls.keys()) if (!seen.has(issuer)) out.push(describe(issuer));
    return out;
  }

  /** Called with the outcome of every question to an OCSP responder (monitoring). */
  onOcsp(fn: (e: OcspEvent) => void): void {
    this.#ocspListeners.push(fn);
  }

  #ocspEvent(e: OcspEvent): void {
    for (const l of this.#ocspListeners) l(e);
  }

  // Signature checks of certificate links and CRLs are cached: they are pure functions of the bytes.
  readonly #verifiedLinks = new Set<string>();
  readonly #verifiedCrls = new WeakSet<Crl>();

  async #findIssuer(c: Certificate, pool: Certificate[]): Promise<Certificate | undefined> {
    const child = certificateFingerprint(c);
    for (const cand of pool) {
      if (cand.subject !== c.issuer) continue;
      const link = `${child}>${certificateFingerprint(cand)}`;
      if (this.#verifiedLinks.has(link)) return cand;
      if (await c.verify({ publicKey: cand.publicKey, signatureOnly: true })) {
        if (this.#verifiedLinks.size > 100_000) this.#verifiedLinks.clear();
        this.#verifiedLinks.add(link);
        return cand;
      }
    }
    return undefined;
  }

  async #crlSignedBy(crl: Crl, issuer: Certificate): Promise<boolean> {
    if (this.#verifiedCrls.has(crl)) return true;
    const ok = await crl.verify({ publicKey: issuer.publicKey });
    if (ok) this.#verifiedCrls.add(crl);
    return ok;
  }

  /**
   * The trusted intermediates between a certificate and a root (nearest first), for signers to send
   * along so that verifiers need only the roots (the hub's receipts: docs/integration.md). Empty when
   * a root issued it directly or no path is known.
   */
  async intermediatesOf(leaf: Certificate): Promise<Certificate[]> {
    const out: Certificate[] = [];
    for (let current = leaf; out.length <= 5;) {
      if (await this.#findIssuer(current, this.#roots)) return out;
      const next = await this.#findIssuer(current, this.#intermediates);
      if (!next || out.some((c) => c.equal(next))) return [];
      out.push(next);
      current = next;
    }
    return [];
  }

  async validate(
    leaf: Certificate,
    extraCerts: readonly Certificate[] = [],
    at: Date = new Date(),
  ): Promise<ValidatedChain> {
    const fingerprint = certificateFingerprint(leaf);
    const check = (c: Certificate, role: string) => {
      if (at < c.notBefore)
        throw new HubError(
          'CERT_NOT_YET_VALID',
          `${role} ${c.subject} is valid from ${c.notBefore.toISOString()}`,
        );
      if (at > c.notAfter)
        throw new HubError('CERT_EXPIRED', `${role} ${c.subject} expired on ${c.notAfter.toISOString()}`);
    };
    // Build the path: untrusted extra certificates may only serve as intermediates, never as anchors.
    const chain: Certificate[] = [leaf];
    const pool = [...this.#intermediates, ...extraCerts.filter((c) => isCa(c).ca && c.subject !== c.issuer)];
    let current = leaf;
    for (let depth = 0; ; depth++) {
      if (depth > 5) throw new HubError('CERT_UNTRUSTED', 'certificate path too long');
      const root = await this.#findIssuer(current, this.#roots);
      if (root) {
        chain.push(root);
        break;
      }
      const next = await this.#findIssuer(current, pool);
      if (!next || chain.some((c) => c.equal(next))) {
        throw new HubError(
          'CERT_UNTRUSTED',
          current.subject === current.issuer
            ? 'self-signed certificate'
            : `no trusted issuer for ${current.issuer}`,
        );
      }
      chain.push(next);
      current = next;
    }
    // Issuers must be CAs, within their pathLen.
    for (let i = 1; i < chain.length; i++) {
      const { ca, pathLen } = isCa(chain[i]!);
      if (!ca) throw new HubError('CERT_UNTRUSTED', `${chain[i]!.subject} is not a CA`);
      const below = i - 1; // intermediates below this issuer (excluding the leaf)
      if (pathLen !== undefined && below > pathLen)
        throw new HubError('CERT_UNTRUSTED', `path length constraint of ${chain[i]!.subject} exceeded`);
    }
    if (isCa(leaf).ca) throw new HubError('CERT_KEY_USAGE', 'a CA certificate cannot sign messages');
    const ku = leaf.getExtension(x509.KeyUsagesExtension);
    if (ku && !(ku.usages & (x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation))) {
      throw new HubError(
        'CERT_KEY_USAGE',
        'the certificate key usage allows neither digitalSignature nor nonRepudiation',
      );
    }
    chain.forEach((c, i) => check(c, i === 0 ? 'certificate' : 'issuer'));
    const revocation = await this.#checkRevocation(chain, at);
    return { leaf, chain, fingerprintSha256: fingerprint, subject: leaf.subject, revocation };
  }

  async #checkRevocation(chain: Certificate[], at: Date): Promise<ValidatedChain['revocation']> {
    if (this.revocation === 'off') return { checked: false };
    let leafInfo: ValidatedChain['revocation'] = { checked: false };
    const ocsp = this.#ocsp ? await this.#askOcsp(chain[0]!, chain.slice(1)) : null;
    if (ocsp?.status === 'revoked' && (!ocsp.revocationTime || ocsp.revocationTime <= at)) {
      throw new HubError(
        'CERT_REVOKED',
        `${chain[0]!.subject} is revoked (OCSP ${ocsp.url}${ocsp.revocationTime ? `, since ${ocsp.revocationTime.toISOString()}` : ''})`,
      );
    }
    // Every non-root certificate of the path is checked against its issuer's CRL (the leaf not when OCSP said good).
    for (let i = ocsp?.status === 'good' ? 1 : 0; i < chain.length - 1; i++) {
      const cert = chain[i]!;
      const issuer = chain[i + 1]!;
      const crl = this.crlFor(issuer);
      const usable = crl && (await this.#crlSignedBy(crl, issuer)) && !this.crlFreshness(crl).stale;
      if (!usable) {
        if (this.revocation === 'require') {
          throw new HubError(
            'CERT_REVOCATION_UNKNOWN',
            crl ? `the CRL of ${issuer.subject} is stale or invalid` : `no CRL for ${issuer.subject}`,
          );
        }
        continue;
      }
      const entry = crl.findRevoked(cert);
      if (entry && entry.revocationDate <= at) {
        throw new HubError(
          'CERT_REVOKED',
          `${cert.subject} (serial ${cert.serialNumber}) was revoked on ${entry.revocationDate.toISOString()}`,
        );
      }
      if (i === 0)
        leafInfo = {
          checked: true,
          crlThisUpdate: crl.thisUpdate,
          ...(crl.nextUpdate ? { crlNextUpdate: crl.nextUpdate } : {}),
        };
    }
    if (ocsp?.status === 'good') leafInfo = { checked: true, ocsp: ocsp.url };
    return leafInfo;
  }

  /** OCSP answer for the leaf, cached until its nextUpdate (at most 5 minutes); null on any failure. */
  async #askOcsp(leaf: Certificate, issuerPath: Certificate[]): Promise<OcspResult | null> {
    if (ocspUrls(leaf).length === 0) return null;
    const key = certificateFingerprint(leaf);
    const hit = this.#ocspCache.get(key);
    if (hit && hit.until > Date.now()) return hit.result;
    try {
      const result = await checkOcsp(leaf, issuerPath[0]!, { anchors: issuerPath });
      if (!result) return null;
      const until = Math.min(result.nextUpdate?.getTime() ?? Infinity, Date.now() + 300_000);
      if (this.#ocspCache.size > 10_000) this.#ocspCache.clear();
      this.#ocspCache.set(key, { result, until });
      this.#ocspEvent({
        url: result.url,
        ok: true,
        at: new Date(),
        ...(result.thisUpdate ? { thisUpdate: result.thisUpdate } : {}),
        ...(result.nextUpdate ? { nextUpdate: result.nextUpdate } : {}),
      });
      return result;
    } catch (err) {
      this.#ocspEvent({ url: ocspUrls(leaf)[0]!, ok: false, at: new Date(), error: (err as Error).message });
      return null; // the CRL decides
    }
  }
}
