/**
 * Generates the DEVELOPMENT PKI into certs-dev/ (idempotent; --force regenerates everything).
 *   root-ca, state-ca, party-ca (+ keys), hub certificate, one certificate per seeded agency,
 *   CRLs (crl/*.crl, DER) and test certificates for the refusal cases (certs-dev/test/).
 * DEVELOPMENT ONLY. CRL distribution points: $DEV_PKI_CRL_BASE (default http://127.0.0.1:8089/crl).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { x509 } from '../src/crypto/x509.ts';
import {
  createCrl,
  createRootCa,
  issueCertificate,
  issueHubCertificate,
  privateKeyPem,
  type Issued,
} from '../src/crypto/dev-pki.ts';

const dir = path.join(PROJECT_ROOT, 'certs-dev');
const force = process.argv.includes('--force');
const crlBase = process.env.DEV_PKI_CRL_BASE ?? 'http://127.0.0.1:8089/crl';
const DAY = 86_400_000;

if (existsSync(path.join(dir, 'root-ca.pem')) && !force) {
  console.log('certs-dev/ already exists (use --force to regenerate)');
  process.exit(0);
}
if (force) rmSync(dir, { recursive: true, force: true });
for (const d of ['', 'agencies', 'crl', 'test']) mkdirSync(path.join(dir, d), { recursive: true });

async function save(rel: string, it: Issued): Promise<void> {
  writeFileSync(path.join(dir, `${rel}.pem`), it.cert.toString('pem') + '\n');
  writeFileSync(path.join(dir, `${rel}.key.pem`), (await privateKeyPem(it.keys.privateKey)) + '\n');
}
const fp = (c: InstanceType<typeof x509.X509Certificate>) =>
  createHash('sha256').update(Buffer.from(c.rawData)).digest('hex');

const root = await createRootCa('CN=DEV RootCA chuyên dùng Chính phủ G2, O=DEVELOPMENT ONLY, C=VN');
const state = await issueCertificate({
  subject: 'CN=DEV CA phục vụ các cơ quan Nhà nước G2, O=DEVELOPMENT ONLY, C=VN',
  issuer: root,
  ca: true,
  pathLen: 0,
  notAfter: new Date(Date.now() + 15 * 365 * DAY),
  crlUrl: `${crlBase}/root-ca.crl`,
});
const party = await issueCertificate({
  subject: 'CN=DEV CA phục vụ các cơ quan Đảng G2, O=DEVELOPMENT ONLY, C=VN',
  issuer: root,
  ca: true,
  pathLen: 0,
  notAfter: new Date(Date.now() + 15 * 365 * DAY),
  crlUrl: `${crlBase}/root-ca.crl`,
});
await save('root-ca', root);
await save('state-ca', state);
await save('party-ca', party);

// The hub signing certificate carries the hub-signing EKU: verifiers accept hub-signed artefacts only
// from such a certificate whose fingerprint they pin (config pki.hubPins).
const hub = await issueHubCertificate({ issuer: state, crlUrl: `${crlBase}/state-ca.crl` });
await save('hub', hub);

const seed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-directory.json'), 'utf8')) as {
  agencies: { code: string; name: string; block: string; status?: string }[];
};
const manifest: {
  code: string;
  name: string;
  block: string;
  cert: string;
  key: string;
  fingerprintSha256: string;
}[] = [];
for (const a of seed.agencies.filter((x) => x.status !== 'closed')) {
  const issuer = a.block === 'party' ? party : state;
  const it = await issueCertificate({
    subject: `CN=${a.name}, O=${a.code}, C=VN`,
    issuer,
    crlUrl: `${crlBase}/${a.block === 'party' ? 'party' : 'state'}-ca.crl`,
  });
  await save(`agencies/${a.code}`, it);
  manifest.push({
    code: a.code,
    name: a.name,
    block: a.block,
    cert: `agencies/${a.code}.pem`,
    key: `agencies/${a.code}.key.pem`,
    fingerprintSha256: fp(it.cert),
  });
}
writeFileSync(path.join(dir, 'agencies.json'), JSON.stringify(manifest, null, 2) + '\n');

// Certificates for the refusal cases, all for H29.001, each named by its expected outcome.
const subject = 'CN=UBND phường Sài Gòn (test), O=H29.001, C=VN';
const crlUrl = `${crlBase}/state-ca.crl`;
const now = Date.now();
const tests: Record<string, Issued> = {
  'expired-H29.001': await issueCertificate({
    subject,
    issuer: state,
    crlUrl,
    notBefore: new Date(now - 800 * DAY),
    notAfter: new Date(now - 400 * DAY),
  }),
  'not-yet-valid-H29.001': await issueCertificate({
    subject,
    issuer: state,
    crlUrl,
    notBefore: new Date(now + 20 * 365 * DAY),
    notAfter: new Date(now + 21 * 365 * DAY),
  }),
  'revoked-H29.001': await issueCertificate({ subject, issuer: state, crlUrl }),
  'wrong-key-usage-H29.001': await issueCertificate({
    subject,
    issuer: state,
    crlUrl,
    keyUsage: x509.KeyUsageFlags.keyEncipherment,
  }),
  'ecdsa-H29.001': await issueCertificate({ subject, issuer: state, crlUrl, keyKind: 'ec' }),
};
const stranger = await createRootCa('CN=Unknown CA (not trusted), O=DEVELOPMENT ONLY, C=VN');
tests['unknown-issuer-H29.001'] = await issueCertificate({ subject, issuer: stranger });
tests['self-signed-H29.001'] = await createRootCa(subject, 5);
for (const [name, it] of Object.entries(tests)) await save(`test/${name}`, it);

const revoked = tests['revoked-H29.001']!;
writeFileSync(path.join(dir, 'crl/root-ca.crl'), Buffer.from((await createCrl(root, [])).rawData));
writeFileSync(path.join(dir, 'crl/party-ca.crl'), Buffer.from((await createCrl(party, [])).rawData));
writeFileSync(
  path.join(dir, 'crl/state-ca.crl'),
  Buffer.from(
    (
      await createCrl(state, [
        { serialNumber: revoked.cert.serialNumber, revocationDate: new Date(now - DAY) },
      ])
    ).rawData,
  ),
);
console.log(
  `development PKI written to ${dir}: ${manifest.length} agency certificates, ${Object.keys(tests).length} test certificates`,
);
