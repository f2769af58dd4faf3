/**
 * hubctl hubcert check <cert.pem> [--key key.pem] — the first steps of rotating the hub signing
 * certificate (docs/deployment.md §11): is the new certificate one verifiers will accept as the
 * hub's (hub-signing EKU, valid now, its key the one given), is it pinned yet, and the HUB_PINS
 * value to roll out before the hub signs with it (the current pins kept: old receipts stay verifiable).
 * Reads files and the configuration only; changes nothing.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { hasExtendedKeyUsage, normalisePin } from '../../crypto/hub-signed.ts';
import { certificateFingerprint } from '../../crypto/trust.ts';
import { x509 } from '../../crypto/x509.ts';
import { sameKey } from '../../ops/start-checks.ts';
import { EXIT } from '../context.ts';

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  program
    .command('hubcert')
    .description('hub signing certificate rotation (docs/deployment.md §11)')
    .command('check <cert>')
    .description(
      'check a new hub signing certificate (EKU, validity, key) and print the pins to roll out before switching',
    )
    .option('--key <file>', 'its private key (PEM): checked to be the certificate’s')
    .action((file: string, o: { key?: string }) => {
      const config = loadConfig();
      const pem = readFileSync(file, 'utf8');
      const cert = new x509.X509Certificate(pem);
      const fingerprint = certificateFingerprint(cert);
      const pins = config.pki.hubPins.map(normalisePin);
      const now = new Date();
      const problems: string[] = [];
      if (!hasExtendedKeyUsage(cert, config.pki.hubSigningEku))
        problems.push(`it does not carry the hub-signing EKU ${config.pki.hubSigningEku}`);
      if (now < cert.notBefore || now > cert.notAfter)
        problems.push(
          `it is not valid now (${cert.notBefore.toISOString()} – ${cert.notAfter.toISOString()})`,
        );
      let keyMatches: boolean | undefined;
      if (o.key) {
        const keyPem = readFileSync(o.key, 'utf8');
        keyMatches = sameKey(new X509Certificate(pem), createPublicKey(createPrivateKey(keyPem)));
        if (!keyMatches)
          problems.push(`${o.key} is not its private key: every receipt would fail verification`);
      }
      const pinned = pins.includes(fingerprint);
      const current =
        certificateFingerprint(new x509.X509Certificate(readFileSync(config.pki.hubCert, 'utf8'))) ===
        fingerprint;
      const pinsToSet = pinned ? pins : [...pins, fingerprint];
      const out = {
        ok: problems.length === 0,
        subject: cert.subject,
        notAfter: cert.notAfter.toISOString(),
        fingerprintSha256: fingerprint,
        pinned,
        current,
        ...(keyMatches === undefined ? {} : { keyMatches }),
        problems,
        pinsToSet,
      };
      if (json()) console.log(JSON.stringify(out));
      else {
        console.log(`${cert.subject}\n  SHA-256 ${fingerprint}\n  valid until ${out.notAfter}`);
        for (const p of problems) console.log(`  PROBLEM: ${p}`);
        if (out.ok)
          console.log(
            current
              ? '  the certificate the hub signs with now (pki.hubCert)'
              : pinned
                ? '  already pinned: switch pki.hubCert/pki.hubKey to it (step 3)'
                : `  not pinned yet: roll out, before switching (step 2),\n  HUB_PINS=${pinsToSet.join(',')}`,
          );
      }
      process.exitCode = out.ok ? EXIT.OK : EXIT.FAILURE;
    });
}
