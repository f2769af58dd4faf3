/**
 * Pinned time and the development State CA, for tests of certificates issued around a fixed instant
 * (hub-signed receipts and evidence), and the refusal helper of the signature tests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { loadIssued, privateKeyPem, type Issued } from '../../src/crypto/dev-pki.ts';
import type { SigningKey } from '../../src/crypto/signature.ts';

export const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const DAY = 86_400_000;
/** Inside the validity of the development CAs and agency certificates, independent of the wall clock. */
export const T0 = new Date('2027-06-01T02:00:00.000Z');
export const days = (n: number): Date => new Date(T0.getTime() + n * DAY);

/** The development State CA (certs-dev/state-ca.pem), to issue genuine certificates in memory. */
export function devStateCa(): Promise<Issued> {
  return loadIssued(
    readFileSync(path.join(CERTS, 'state-ca.pem'), 'utf8'),
    readFileSync(path.join(CERTS, 'state-ca.key.pem'), 'utf8'),
  );
}

export async function signingKeyOf(it: Issued): Promise<SigningKey> {
  return { certificatePem: it.cert.toString('pem'), privateKeyPem: await privateKeyPem(it.keys.privateKey) };
}

export { refusal } from './refusal.ts';
