/**
 * Alerts on registered agency certificates that expire soon (30 days by default): a warning in the
 * log per certificate and the gauge hub_certificates_expiring_soon for monitoring.
 */
import type { CertificateStore } from '../domain/ports/certificates.ts';
import type { Logger } from '../observability/logger.ts';
import type { HubMetrics } from '../observability/metrics.ts';

export interface ExpiringCertificate {
  readonly agency: string;
  readonly fingerprintSha256: string;
  readonly notAfter: Date;
}

export async function findExpiringCertificates(
  certificates: Pick<CertificateStore, 'expiring'>,
  withinDays: number,
  now = new Date(),
): Promise<ExpiringCertificate[]> {
  const rows = await certificates.expiring(new Date(now.getTime() + withinDays * 86_400_000));
  return rows.flatMap((c) =>
    c.notAfter ? [{ agency: c.agency, fingerprintSha256: c.fingerprintSha256, notAfter: c.notAfter }] : [],
  );
}

export async function alertExpiringCertificates(
  certificates: Pick<CertificateStore, 'expiring'>,
  metrics: HubMetrics,
  log: Logger,
  withinDays = 30,
): Promise<number> {
  const expiring = await findExpiringCertificates(certificates, withinDays);
  for (const e of expiring)
    log.warn(
      { agency: e.agency, fingerprint: e.fingerprintSha256, notAfter: e.notAfter },
      'agency certificate expires soon',
    );
  metrics.certificatesExpiring.set(expiring.length);
  return expiring.length;
}
