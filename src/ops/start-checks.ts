/**
 * What the hub checks before it connects to anything (issue 23): the hub certificate and key can be
 * read, belong together, and are a signer verifiers accept; the trust directory exists; in production
 * mode neither the hub key nor the trust anchors come from the development PKI, wherever the files
 * were copied to. And, once the store is open but before listening: the credentials key opens the
 * stored secrets. Each problem names the setting and the file (ConfigError: the process exits).
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, devPkiDir, settingName, type Config } from '../config.ts';
import { hubSignerProblem } from '../crypto/hub-signed.ts';
import type { SigningKey } from '../crypto/signature.ts';
import { x509 } from '../crypto/x509.ts';

const spki = (k: KeyObject): string => k.export({ type: 'spki', format: 'der' }).toString('base64');

/** Whether a private (or public) key is the one of this certificate. */
export const sameKey = (cert: X509Certificate, key: KeyObject): boolean => spki(cert.publicKey) === spki(key);

/** Certificates (*.pem that are not keys) under a directory, recursively. */
function certificatesUnder(dir: string): { file: string; cert: X509Certificate }[] {
  const out: { file: string; cert: X509Certificate }[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) out.push(...certificatesUnder(file));
    else if (name.endsWith('.pem') && !name.endsWith('.key.pem'))
      try {
        out.push({ file, cert: new X509Certificate(readFileSync(file)) });
      } catch {
        // not a certificate: nothing to compare
      }
  }
  return out;
}

function readSetting(keys: string[], file: string, problems: string[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(
      `${settingName(keys)}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`,
    );
    return null;
  }
}

/** The hub's signing key, checked; throws ConfigError naming every problem found. */
export function checkStartFiles(config: Config): SigningKey {
  const { pki } = config;
  const problems: string[] = [];
  const certPem = readSetting(['pki', 'hubCert'], pki.hubCert, problems);
  const keyPem = readSetting(['pki', 'hubKey'], pki.hubKey, problems);
  let cert: X509Certificate | null = null;
  let key: KeyObject | null = null;
  if (certPem !== null)
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      problems.push(
        `${settingName(['pki', 'hubCert'])}: ${pki.hubCert} is not a PEM certificate (${(err as Error).message})`,
      );
    }
  if (keyPem !== null)
    try {
      key = createPublicKey(createPrivateKey(keyPem));
    } catch (err) {
      problems.push(
        `${settingName(['pki', 'hubKey'])}: ${pki.hubKey} is not a PEM private key (${(err as Error).message})`,
      );
    }
  if (cert && key && !sameKey(cert, key))
    problems.push(
      `${settingName(['pki', 'hubKey'])}: ${pki.hubKey} does not match ${settingName(['pki', 'hubCert'])} ${pki.hubCert}: every receipt would fail verification`,
    );
  if (cert) {
    const signer = hubSignerProblem(new x509.X509Certificate(certPem!), pki.hubPins, pki.hubSigningEku);
    if (signer) problems.push(`${settingName(['pki', 'hubCert'])}: ${pki.hubCert}: ${signer.message}`);
  }
  pki.previousHubCerts.forEach((f, i) => readSetting(['pki', `previousHubCerts.${i}`], f, problems));
  if (!existsSync(pki.trustDir) || !statSync(pki.trustDir).isDirectory())
    problems.push(`${settingName(['pki', 'trustDir'])}: ${pki.trustDir} is not a directory`);
  else if (config.mode === 'production') {
    const dev = devPkiDir();
    if (dev) {
      const devCerts = certificatesUnder(dev);
      const devKeys = new Map(devCerts.map((c) => [spki(c.cert.publicKey), c.file]));
      const devFingerprints = new Map(devCerts.map((c) => [c.cert.fingerprint256, c.file]));
      const reuse = key && devKeys.get(spki(key));
      if (reuse)
        problems.push(
          `${settingName(['pki', 'hubKey'])}: ${pki.hubKey} is a development key (that of ${reuse}); give the hub its own`,
        );
      for (const t of certificatesUnder(pki.trustDir)) {
        const same = devFingerprints.get(t.cert.fingerprint256);
        if (same)
          problems.push(
            `${settingName(['pki', 'trustDir'])}: ${t.file} is the development certificate ${same}; trust the production roots only`,
          );
      }
    }
  }
  if (problems.length) throw new ConfigError(problems, 'hub certificate, key and trust anchors');
  return { certificatePem: certPem!, privateKeyPem: keyPem! };
}

/** After connecting, before listening: a credentials key that cannot open the stored secrets. */
export function assertCredentialsKeyOpens(check: { systemId: string; error: string } | null): void {
  if (check)
    throw new ConfigError(
      [
        `${settingName(['credentials', 'key'])}: cannot open the stored secret of system ${check.systemId} (${check.error}): ` +
          'not the key they were sealed with; every authenticated call would fail',
      ],
      'stored credentials',
    );
}

/**
 * After connecting, before serving (production, store.migrateOnStart false): the database has data
 * migrations this version expects and nobody ran (`hubctl migrate` is a deployment step).
 */
export function assertNoPendingMigrations(pending: readonly string[]): void {
  if (pending.length)
    throw new ConfigError(
      [
        `the database has ${pending.length} pending migration(s): ${pending.join(', ')}; ` +
          `run \`hubctl migrate\` before starting this version (or set ${settingName(['store', 'migrateOnStart'])})`,
      ],
      'database migrations',
    );
}
