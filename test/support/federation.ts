/**
 * What a federation test sends and checks at the far end (test/e2e/federation.test.ts in one
 * process, test/fault/federation-processes.test.ts across processes): a document encrypted for its
 * recipient, with an attachment, signed by its sender; and the recipient's checks of what it
 * downloaded — the exact signed bytes, the original sender's signature, the attachment decrypted.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { buildEdxml, parseEdxml, type EdocMessage } from '../../src/domain/edxml/index.ts';
import { decryptEdxml, encryptEdxml } from '../../src/crypto/encryption.ts';
import { signEdxml, verifyEdxml } from '../../src/crypto/signature.ts';
import type { TrustStore } from '../../src/crypto/trust.ts';
import { devSigningKey } from './hub.ts';
import { documentMessage } from './messages.ts';

export const certOf = (code: string): string =>
  readFileSync(path.join(PROJECT_ROOT, 'certs-dev/agencies', `${code}.pem`), 'utf8');

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** A document `from` → `to`, encrypted for `to` (with its attachment), signed by `from`. */
export function encryptedDocument(from: string, to: string): { msg: EdocMessage; wire: string } {
  const msg = documentMessage(from, [to]);
  const wire = signEdxml(
    encryptEdxml(buildEdxml(msg), [{ code: to, certificatePem: certOf(to) }]),
    devSigningKey(from),
  );
  return { msg, wire };
}

/**
 * The recipient's checks: `bytes` are the signed bytes unchanged, the original sender's signature
 * verifies, and `to` decrypts the attachment sent.
 */
export async function expectOriginal(
  bytes: Buffer,
  sent: { msg: EdocMessage; wire: string },
  to: string,
  trust: TrustStore,
): Promise<void> {
  expect(sha256(bytes), 'the signed bytes, unchanged').to.equal(sha256(sent.wire));
  const verified = await verifyEdxml(bytes, trust);
  expect(verified.signer.subject).to.contain(sent.msg.from.organId);
  const plain = parseEdxml(
    decryptEdxml(bytes.toString('utf8'), {
      certificatePem: certOf(to),
      privateKeyPem: devSigningKey(to).privateKeyPem,
    }),
  );
  expect(plain.kind === 'edoc' && plain.attachments).to.deep.equal(sent.msg.attachments);
}

/**
 * The files of a test federation in `dir`: one secret per direction (`<x>-<y>.secret`: X's outbound
 * credential at Y, which is Y's inbound credential for X) and, per hub, a directory seed with the
 * development agencies and systems it serves (`seed-<x>.json`).
 */
export function writeFederationFiles<H extends string>(
  dir: string,
  serves: Record<H, readonly string[]>,
): { secretFile(x: H, y: H): string; seedFile(x: H): string } {
  const seed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-directory.json'), 'utf8')) as {
    agencies: { code: string }[];
    systems: { agencyCodes: string[] }[];
  };
  const ids = Object.keys(serves) as H[];
  const secretFile = (x: H, y: H) => path.join(dir, `${x}-${y}.secret`);
  const seedFile = (x: H) => path.join(dir, `seed-${x}.json`);
  for (const x of ids) {
    for (const y of ids)
      if (x !== y) writeFileSync(secretFile(x, y), randomBytes(24).toString('hex'), { mode: 0o600 });
    writeFileSync(
      seedFile(x),
      JSON.stringify({
        agencies: seed.agencies.filter((a) => serves[x].includes(a.code)),
        systems: seed.systems.filter(
          (s) => s.agencyCodes.length && s.agencyCodes.every((c) => serves[x].includes(c)),
        ),
      }),
    );
  }
  return { secretFile, seedFile };
}
