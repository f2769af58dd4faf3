/**
 * Alerts on registered agency certificates that expire soon (30 days by default): a warning in the
 * log per certificate and the gauge hub_certificates_expiring_soon for monitoring.
 */
import type { Models } from '../store/models.ts';
import type { Logger } from '../observability/logger.ts';
import type { HubMetrics } from '../observability/metrics.ts';

export interface ExpiringCertificate {
  readonly agency: string;
  readonly fingerprintSha256: string;
  readonly notAfter: Date;
}

export async function findExpiringCertificates(
  m: Pick<Models, 'Agency'>,
  withinDays: number,
  now = new Date(),
): Promise<ExpiringCertificate[]> {
  const limit = new Date(now.getTime() + withinDays * 86_400_000);
  const rows = await m.Agency.find({ 'certificates.notAfter': { $lte: limit } }, { certificates: 1 }).lean<
    { _id: string; certificates: { fingerprintSha256: string; notAfter?: Date; revokedAt?: Date }[] }[]
  >();
  const out: ExpiringCertificate[] = [];
  for (const a of rows) {
    for (const c of a.certificates) {
      if (c.notAfter && !c.revokedAt && c.notAfter <= limit)
        out.push({ agency: a._id, fingerprintSha256: c.fingerprintSha256, notAfter: new Date(c.notAfter) });
    }
  }
  return out;
}

export async function alertExpiringCertificates(
  m: Pick<Models, 'Agency'>,
  metrics: HubMetrics,
  log: Logger,
  withinDays = 30,
): Promise<number> {
  const expiring = await findExpiringCertificates(m, withinDays);
  for (const e of expiring)
    log.warn(
      { agency: e.agency, fingerprint: e.fingerprintSha256, notAfter: e.notAfter },
      'agency certificate expires soon',
    );
  metrics.certificatesExpiring.set(expiring.length);
  return expiring.length;
}
