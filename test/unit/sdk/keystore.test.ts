/** The agency key store: PKCS#12 (ours and OpenSSL's) and PEM, wrong passwords and mismatched pairs. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { buildEdxml } from '../../../src/domain/edxml/index.ts';
import { signEdxml, verifyEdxml } from '../../../src/crypto/signature.ts';
import { TrustStore } from '../../../src/crypto/trust.ts';
import { SdkError } from '../../../src/sdk/errors.ts';
import { exportPkcs12, loadAgencyKey, readPassword } from '../../../src/sdk/keystore.ts';
import { newDocument } from '../../../src/sdk/messages.ts';

const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const cert = (c: string) => path.join(CERTS, 'agencies', `${c}.pem`);
const key = (c: string) => path.join(CERTS, 'agencies', `${c}.key.pem`);
const fp = (file: string) =>
  new X509Certificate(readFileSync(file)).fingerprint256.replace(/:/g, '').toLowerCase();

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(SdkError);
    return (err as SdkError).code;
  }
  throw new Error('no error');
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('agency key store (PKCS#12 and PEM)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keystore-'));

  it('loads PEM files, checks the pair and keeps the chain', () => {
    const k = loadAgencyKey({
      keyFile: key('D29.001'),
      certFile: cert('D29.001'),
      chainFiles: [path.join(CERTS, 'party-ca.pem')],
    });
    expect(k.fingerprintSha256).to.equal(fp(cert('D29.001')));
    expect(k.subject).to.contain('O=D29.001');
    expect(k.chainPem).to.have.length(1);
    expect(k.notAfter.getTime()).to.be.greaterThan(Date.now());
    expect(k.privateKeyPem).to.contain('BEGIN PRIVATE KEY');
  });

  it('refuses a key that does not belong to the certificate', () => {
    expect(codeOf(() => loadAgencyKey({ keyFile: key('D29.001'), certFile: cert('H29.001') }))).to.equal(
      'KEYSTORE_KEY_MISMATCH',
    );
    expect(
      codeOf(() => loadAgencyKey({ keyPem: 'not a key', certPem: readFileSync(cert('H29.001'), 'utf8') })),
    ).to.equal('KEYSTORE_INVALID');
  });

  it('exports and loads a PKCS#12 file with the right password; the key signs what the hub verifies', async () => {
    const pem = loadAgencyKey({
      keyFile: key('H29.001'),
      certFile: cert('H29.001'),
      chainFiles: [path.join(CERTS, 'state-ca.pem')],
    });
    const file = path.join(dir, 'H29.001.p12');
    writeFileSync(file, exportPkcs12(pem, 'Mật-khẩu 2026!'));
    const k = loadAgencyKey({ p12: file, password: 'Mật-khẩu 2026!' });
    expect(k.fingerprintSha256).to.equal(fp(cert('H29.001')));
    expect(k.chainPem).to.deep.equal(pem.chainPem);
    const fromBytes = loadAgencyKey({ p12: readFileSync(file), password: 'Mật-khẩu 2026!' });
    expect(fromBytes.fingerprintSha256).to.equal(k.fingerprintSha256);

    const xml = signEdxml(
      buildEdxml(newDocument({ from: 'H29.001', to: ['H41.001'], notation: 'VP', subject: 'p12' })),
      k,
    );
    const v = await verifyEdxml(Buffer.from(xml), await TrustStore.fromDirectory(CERTS));
    expect(v.signer.fingerprintSha256).to.equal(k.fingerprintSha256);
  });

  it('refuses a wrong password with KEYSTORE_PASSWORD_INVALID, and a non-PKCS#12 file with KEYSTORE_INVALID', () => {
    const file = path.join(dir, 'wrong.p12');
    writeFileSync(
      file,
      exportPkcs12(loadAgencyKey({ keyFile: key('H41.001'), certFile: cert('H41.001') }), 'right'),
    );
    expect(codeOf(() => loadAgencyKey({ p12: file, password: 'wrong' }))).to.equal(
      'KEYSTORE_PASSWORD_INVALID',
    );
    expect(codeOf(() => loadAgencyKey({ p12: file, password: '' }))).to.equal('KEYSTORE_PASSWORD_INVALID');
    expect(codeOf(() => loadAgencyKey({ p12: Buffer.from('garbage'), password: 'x' }))).to.equal(
      'KEYSTORE_INVALID',
    );
    expect(codeOf(() => loadAgencyKey({ p12: path.join(dir, 'missing.p12'), password: 'x' }))).to.equal(
      'KEYSTORE_INVALID',
    );
  });

  (hasOpenssl ? it : it.skip)(
    'reads PKCS#12 files written by OpenSSL (AES/PBKDF2, legacy 3DES, ECDSA) byte-exact',
    () => {
      const cases = [
        { name: 'aes', code: 'H29.001', k: key('H29.001'), c: cert('H29.001'), extra: [] as string[] },
        { name: 'legacy', code: 'H41.001', k: key('H41.001'), c: cert('H41.001'), extra: ['-legacy'] },
        {
          name: 'ec',
          code: 'H29.001',
          k: path.join(CERTS, 'test/ecdsa-H29.001.key.pem'),
          c: path.join(CERTS, 'test/ecdsa-H29.001.pem'),
          extra: [],
        },
      ];
      for (const t of cases) {
        const out = path.join(dir, `openssl-${t.name}.p12`);
        const r = spawnSync('openssl', [
          'pkcs12',
          '-export',
          ...t.extra,
          '-inkey',
          t.k,
          '-in',
          t.c,
          '-out',
          out,
          '-passout',
          'pass:s3cret',
        ]);
        if (r.status !== 0) {
          // some OpenSSL builds lack the legacy provider
          expect(t.name, r.stderr.toString()).to.equal('legacy');
          continue;
        }
        const k = loadAgencyKey({ p12: out, password: 's3cret' });
        expect(k.fingerprintSha256, t.name).to.equal(fp(t.c));
        expect(
          codeOf(() => loadAgencyKey({ p12: out, password: 'S3CRET' })),
          t.name,
        ).to.equal('KEYSTORE_PASSWORD_INVALID');
      }
    },
  );

  it('reads passwords from a file or an environment variable, never requiring argv', () => {
    const f = path.join(dir, 'pw.txt');
    writeFileSync(f, 'from-file\nignored\n');
    expect(readPassword({ file: f })).to.equal('from-file');
    expect(readPassword({ env: 'P12_PW' }, { P12_PW: 'from-env' })).to.equal('from-env');
    expect(codeOf(() => readPassword({ env: 'P12_PW' }, {}))).to.equal('USAGE');
    expect(codeOf(() => readPassword({}))).to.equal('USAGE');
  });
});
