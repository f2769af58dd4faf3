/**
 * Registration of agency certificates in the directory (docs/domain.md §5: a signature counts for
 * agency X only with a certificate registered to X). A certificate is registered only after it
 * validates against the trust store now; unregistering keeps the record (revokedAt) as evidence.
 */
import { currentToLegacy, legacyToCurrent, normalizeCode, validateAgencyCode } from '../domain/codes.ts';
import { HubError } from '../domain/errors.ts';
import type { AuditLog, DirectoryStore } from '../domain/ports.ts';
import type { CertificateStore } from '../domain/ports/certificates.ts';
import { x509 } from '../crypto/x509.ts';
import { certificateFingerprint, type TrustStore } from '../crypto/trust.ts';
import type { RevocationService } from '../crypto/revocation.ts';

export interface RegisteredCertificateView {
  readonly agency: string;
  readonly fingerprintSha256: string;
  readonly subject?: string;
  readonly notAfter?: Date;
  readonly registeredAt: Date;
  readonly revokedAt?: Date;
}

/** Subject attributes that carry an organisation's name or identifier. */
const NAMING_ATTRIBUTES = new Set(['CN', 'O', 'OU', '2.5.4.97', 'UID', '0.9.2342.19200300.100.1.1']);

/**
 * The agency codes a certificate subject names (issue 18 §6): in CN, O, OU, UID and
 * organizationIdentifier (2.5.4.97, with or without an ETSI EN 319 412-1 prefix such as `NTRVN-`);
 * the development PKI puts the agency code in O. A whole value that is a valid code counts, and so
 * do code-shaped words inside a value that a name would not contain (`000.00.00.H29`, `H29.001`).
 */
export function agencyCodesInSubject(cert: InstanceType<typeof x509.X509Certificate>): string[] {
  const codes = new Set<string>();
  for (const rdn of cert.subjectName.toJSON())
    for (const [type, values] of Object.entries(rdn)) {
      if (!NAMING_ATTRIBUTES.has(type)) continue;
      for (const raw of values) {
        const value = normalizeCode(raw).replace(/^[A-Z]{3}[A-Z]{2}[-:]/, '');
        if (validateAgencyCode(value).ok) codes.add(value);
        for (const word of value.split(/[\s,;:()/]+/)) {
          const c = validateAgencyCode(word);
          if (c.ok && c.parsed.kind === 'agency' && word.includes('.')) codes.add(word);
        }
      }
    }
  return [...codes].sort();
}

/** An administrator's explicit decision to register a certificate whose subject names another agency. */
export interface SubjectOverride {
  readonly reason: string;
}

export class CertificateService {
  readonly #directory: Pick<DirectoryStore, 'findByCode'>;
  readonly #certs: CertificateStore;
  readonly #trust: TrustStore;
  readonly #audit: AuditLog;
  readonly #crls: Pick<RevocationService, 'ensureCrlsFor'> | undefined;

  /** With `crls`, the CRLs the certificate's chain lacks are fetched before it is validated (issue 23). */
  constructor(
    stores: { agencies: Pick<DirectoryStore, 'findByCode'>; certificates: CertificateStore },
    trust: TrustStore,
    audit: AuditLog,
    crls?: Pick<RevocationService, 'ensureCrlsFor'>,
  ) {
    this.#directory = stores.agencies;
    this.#certs = stores.certificates;
    this.#trust = trust;
    this.#audit = audit;
    this.#crls = crls;
  }

  /**
   * Registers `pem` to the agency. A certificate whose subject names another agency's code is
   * refused (CERT_SUBJECT_MISMATCH) unless `o.overrideSubject` gives the reason, which is audited.
   */
  async register(
    actor: string,
    agencyCode: string,
    pem: string,
    o: { overrideSubject?: SubjectOverride } = {},
  ): Promise<RegisteredCertificateView> {
    let cert;
    try {
      cert = new x509.X509Certificate(pem);
    } catch {
      throw new HubError('VALIDATION_FAILED', 'not a PEM or DER X.509 certificate');
    }
    const reason = o.overrideSubject?.reason.trim();
    if (o.overrideSubject && (!reason || reason.length < 10))
      throw new HubError(
        'VALIDATION_FAILED',
        'an override of the subject check needs a reason (10 characters or more)',
      );
    const agency = await this.#directory.findByCode(agencyCode);
    if (!agency) throw new HubError('NOT_FOUND', `no agency ${agencyCode}`);
    if (agency.status !== 'active') throw new HubError('CONFLICT', `agency ${agency.code} is closed`);
    if (this.#trust.revocation !== 'off') await this.#crls?.ensureCrlsFor(pem);
    await this.#trust.validate(cert, [], new Date()); // chain, validity, key usage, revocation
    const fingerprintSha256 = certificateFingerprint(cert);
    const other = await this.#certs.holderOf(fingerprintSha256, agency.code);
    if (other) throw new HubError('CONFLICT', `this certificate is already registered to ${other}`);
    if (agency.certificates.some((c) => c.fingerprintSha256 === fingerprintSha256 && !c.revokedAt)) {
      throw new HubError('CONFLICT', `this certificate is already registered to ${agency.code}`);
    }
    const own = new Set(
      [
        agency.code,
        agency.legacyCode,
        currentToLegacy(agency.code),
        agency.legacyCode && legacyToCurrent(agency.legacyCode),
      ].filter((c): c is string => Boolean(c)),
    );
    const others = agencyCodesInSubject(cert).filter((c) => !own.has(c));
    if (others.length && !reason)
      throw new HubError(
        'CERT_SUBJECT_MISMATCH',
        `the subject (${cert.subject}) names ${others.join(', ')}, not ${agency.code}; register it with an explicit override and a reason if this is intended`,
        { agency: agency.code, named: others },
      );
    const entry = {
      fingerprintSha256,
      pem: cert.toString('pem'),
      subject: cert.subject,
      notAfter: cert.notAfter,
      registeredAt: new Date(),
    };
    // A directory change: the agency gets a new version, and the change feed shows the certificate.
    if (!(await this.#certs.add(agency.code, entry)))
      throw new HubError('NOT_FOUND', `no agency ${agencyCode}`);
    await this.#audit.append({
      actor,
      action: 'certificate.registered',
      subject: agency.code,
      data: {
        fingerprintSha256,
        subject: cert.subject,
        notAfter: cert.notAfter.toISOString(),
        ...(others.length ? { subjectOverride: { named: others, reason } } : {}),
      },
    });
    return {
      agency: agency.code,
      fingerprintSha256,
      subject: cert.subject,
      notAfter: cert.notAfter,
      registeredAt: entry.registeredAt,
    };
  }

  async unregister(actor: string, agencyCode: string, fingerprintSha256: string): Promise<void> {
    const revoked = await this.#certs.revoke(agencyCode, fingerprintSha256, new Date());
    if (!revoked)
      throw new HubError(
        'NOT_FOUND',
        `no active certificate ${fingerprintSha256.slice(0, 16)}… registered to ${agencyCode}`,
      );
    await this.#audit.append({
      actor,
      action: 'certificate.unregistered',
      subject: agencyCode,
      data: { fingerprintSha256 },
    });
  }

  async list(agencyCode?: string): Promise<RegisteredCertificateView[]> {
    const rows = await this.#certs.list(agencyCode);
    return rows.map(({ pem: _pem, ...view }) => view);
  }
}
