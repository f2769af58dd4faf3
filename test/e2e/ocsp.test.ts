/**
 * OCSP: a certificate naming a responder (Authority Information Access) is checked with it first;
 * a "revoked" answer refuses the message even though the CRL does not list the certificate.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { issueCertificate, loadIssued, privateKeyPem, type Issued } from '../../src/crypto/dev-pki.ts';
import { buildOcspResponse } from '../../src/crypto/ocsp.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { verifyEdxml, signEdxml } from '../../src/crypto/signature.ts';
import { buildEdxml } from '../../src/domain/edxml/index.ts';
import { HubError } from '../../src/domain/errors.ts';
import { documentMessage } from '../support/messages.ts';

describe('OCSP checking', function () {
  this.timeout(30_000);
  let server: http.Server;
  let revoked = false;
  let asked = 0;
  let stateCa: Issued;
  let leaf: Issued;
  const dir = path.join(PROJECT_ROOT, 'certs-dev');

  before(async () => {
    stateCa = await loadIssued(
      readFileSync(path.join(dir, 'state-ca.pem'), 'utf8'),
      readFileSync(path.join(dir, 'state-ca.key.pem'), 'utf8'),
    );
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        asked++;
        void buildOcspResponse(
          new Uint8Array(Buffer.concat(chunks)),
          { cert: stateCa.cert, privateKey: stateCa.keys.privateKey },
          () => (revoked ? { status: 'revoked', at: new Date(Date.now() - 60_000) } : { status: 'good' }),
        ).then((der) =>
          res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from(der)),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const ocspUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocsp`;
    leaf = await issueCertificate({
      subject: 'CN=UBND phường Sài Gòn (OCSP), O=H29.001, C=VN',
      issuer: stateCa,
      ocspUrl,
    });
  });
  after(() => {
    server?.close();
  });
  // The responder's answer and count are each test's own (a revoked answer left on failed the other).
  beforeEach(() => {
    revoked = false;
    asked = 0;
  });

  const message = async () =>
    Buffer.from(
      signEdxml(buildEdxml(documentMessage('H29.001', ['H41.001'])), {
        certificatePem: leaf.cert.toString('pem'),
        privateKeyPem: await privateKeyPem(leaf.keys.privateKey),
      }),
    );

  it('accepts when the responder says good, and records that OCSP was used', async () => {
    const trust = await TrustStore.fromDirectory(dir, { ocsp: true });
    const v = await verifyEdxml(await message(), trust);
    expect(v.signer.revocation.ocsp).to.match(/\/ocsp$/);
    expect(asked).to.equal(1);
  });

  it('refuses with CERT_REVOKED when the responder says revoked, although the CRL does not list it', async () => {
    revoked = true;
    const trust = await TrustStore.fromDirectory(dir, { ocsp: true });
    try {
      await verifyEdxml(await message(), trust);
      expect.fail('accepted');
    } catch (err) {
      expect(err).to.be.instanceOf(HubError);
      expect((err as HubError).code).to.equal('CERT_REVOKED');
      expect((err as HubError).message).to.contain('OCSP');
    }
    const withoutOcsp = await TrustStore.fromDirectory(dir, { ocsp: false });
    expect((await verifyEdxml(await message(), withoutOcsp)).signer.revocation.checked).to.equal(true);
  });
});
