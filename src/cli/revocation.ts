/**
 * The trust store hubctl's administrative commands use: the trust directory of the configuration,
 * its revocation settings, and the CRLs the hub keeps in MongoDB (certs, evidence, crl).
 */
import { RevocationService } from '../crypto/revocation.ts';
import { TrustStore } from '../crypto/trust.ts';
import { createLogger } from '../observability/logger.ts';
import type { CliContext } from './context.ts';

export async function storedTrust(
  ctx: CliContext,
): Promise<{ trust: TrustStore; revocation: RevocationService }> {
  const p = ctx.config.pki;
  const trust = await TrustStore.fromDirectory(p.trustDir, {
    revocation: p.revocation,
    maxCrlAgeSeconds: p.maxCrlStalenessSeconds,
    maxAgeWithoutNextUpdateSeconds: p.crlMaxAgeWithoutNextUpdateHours * 3600,
  });
  const revocation = new RevocationService(trust, ctx.stores, createLogger('silent'), {
    crlUrls: p.crlUrls,
    fetchTimeoutMs: p.crlFetchTimeoutMs,
  });
  await revocation.load();
  return { trust, revocation };
}
