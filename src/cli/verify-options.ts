/**
 * What every verifier in hubctl (receipt verify, evidence verify, the agency commands that check
 * receipts and messages) is given: trust anchors, the revocation mode — `require` by default, like the
 * hub (issue 18 §6), relaxed only by an explicit --revocation — and the pinned hub signing certificates
 * for hub-signed artefacts (--hub-pin, else HUB_PINS / pki.hubPins of the configuration). With no pin a
 * receipt is refused (HUB_PINS_MISSING), never accepted on its chain alone.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { loadConfig, PROJECT_ROOT } from '../config.ts';
import { HUB_SIGNING_EKU, type HubTrust } from '../crypto/hub-signed.ts';
import { TrustStore, type RevocationMode } from '../crypto/trust.ts';

export interface VerifyOpts {
  trust?: string;
  revocation?: RevocationMode;
  hubPin?: string[];
}

export const DEFAULT_TRUST_DIR = path.join(PROJECT_ROOT, 'certs-dev');

export function withVerifyOptions(cmd: Command, o: { trust?: boolean } = {}): Command {
  if (o.trust !== false)
    cmd.option('--trust <dir>', 'trust anchors directory, CRLs in crl/ (TRUST_DIR, default certs-dev)');
  return cmd
    .addOption(
      new Option('--revocation <mode>', 'revocation checking of certificates')
        .choices(['require', 'prefer', 'off'])
        .default('require'),
    )
    .option(
      '--hub-pin <sha256>',
      'SHA-256 fingerprint of an accepted hub signing certificate (repeatable; default HUB_PINS / pki.hubPins)',
      (v: string, prev: string[] = []) => [...prev, v],
    );
}

export function trustDir(o: VerifyOpts): string {
  return o.trust ?? process.env.TRUST_DIR ?? DEFAULT_TRUST_DIR;
}

export function verifierTrust(o: VerifyOpts): Promise<TrustStore> {
  return TrustStore.fromDirectory(trustDir(o), { revocation: o.revocation ?? 'require' });
}

/** Pins and EKU: the options, else the configuration (HUB_PINS included), else none (refuse). */
export function hubPins(o: VerifyOpts): { pins: string[]; eku: string } {
  let config: ReturnType<typeof loadConfig> | undefined;
  try {
    config = loadConfig();
  } catch {
    config = undefined; // e.g. production config without its secrets: only explicit pins then
  }
  const env = (process.env.HUB_PINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    pins: o.hubPin?.length ? o.hubPin : (config?.pki.hubPins.slice() ?? env),
    eku: config?.pki.hubSigningEku ?? HUB_SIGNING_EKU,
  };
}

export async function hubTrust(o: VerifyOpts): Promise<HubTrust> {
  return { trust: await verifierTrust(o), ...hubPins(o) };
}
