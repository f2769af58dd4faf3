/**
 * Revocation for real: a new agency certificate is registered, used, then revoked; the CRL is
 * published over HTTP on loopback, the hub fetches it from the certificate's distribution point,
 * and the next message signed with that certificate is refused with CERT_REVOKED.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import {
  createCrl,
  issueCertificate,
  loadIssued,
  privateKeyPem,
  type Issued,
} from '../../src/crypto/dev-pki.ts';
import { CertificateService } from '../../src/certs/service.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { HubApiError } from '../../src/sdk/client.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('certificate revocation through CRLs fetched over HTTP', function () {
  this.timeout(60_000);
  let t: TestHub;
  let server: http.Server;
  let crl: Buffer | null = null;
  let stateCa: Issued;
  let fresh: Issued;
  let baseUrl: string;
  let trust: TrustStore;

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/crl/state-ca.crl' && crl)
        res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = path.join(PROJECT_ROOT, 'certs-dev');
    stateCa = await loadIssued(
      readFileSync(path.join(dir, 'state-ca.pem'), 'utf8'),
      readFileSync(path.join(dir, 'state-ca.key.pem'), 'utf8'),
    );
    fresh = await issueCertificate({
      subject: 'CN=UBND phường Sài Gòn (revocation test), O=H29.001, C=VN',
      issuer: stateCa,
      crlUrl: `${baseUrl}/crl/state-ca.crl`,
    });
    t = await startTestHub('revocation');
    trust = await TrustStore.fromDirectory(dir);
    await register(fresh);
  });
  const register = (c: Issued) =>
    new CertificateService(t.hub.stores, trust, t.hub.stores.audit).register(
      'test',
      'H29.001',
      c.cert.toString('pem'),
    );
  after(async () => {
    await t?.close();
    server?.close();
  });

  const key = async (c = fresh) => ({
    certificatePem: c.cert.toString('pem'),
    privateKeyPem: await privateKeyPem(c.keys.privateKey),
  });

  it('accepts messages signed with the newly registered certificate', async () => {
    const r = await t.client('H29.001').submit(signed(documentMessage('H29.001', ['H41.001']), await key()));
    expect(r.httpStatus).to.equal(202);
  });

  it('fetches the published CRL from the distribution point and refuses the revoked certificate', async () => {
    // A certificate of this test's own to revoke: the others keep signing with theirs.
    const doomed = await issueCertificate({
      subject: 'CN=UBND phường Sài Gòn (revoked), O=H29.001, C=VN',
      issuer: stateCa,
      crlUrl: `${baseUrl}/crl/state-ca.crl`,
    });
    await register(doomed);
    const base = await createCrl(
      stateCa,
      [{ serialNumber: doomed.cert.serialNumber, revocationDate: new Date(Date.now() - 1000) }],
      { thisUpdate: new Date(Date.now() + 1000) },
    );
    crl = Buffer.from(base.rawData);
    const urls = await t.hub.revocation.urls();
    expect(urls).to.include(`${baseUrl}/crl/state-ca.crl`);
    const r = await t.hub.revocation.fetchAll();
    expect(r.updated).to.be.greaterThanOrEqual(1);
    const stored = await t.hub.stores.models.Crl.countDocuments();
    expect(stored).to.equal(1);
    try {
      await t.client('H29.001').submit(signed(documentMessage('H29.001', ['H41.001']), await key(doomed)));
      expect.fail('the revoked certificate was accepted');
    } catch (err) {
      expect(err).to.be.instanceOf(HubApiError);
      expect((err as HubApiError).code).to.equal('CERT_REVOKED');
    }
  });

  it('refuses a CRL that no trusted CA signed', async () => {
    const stranger = await issueCertificate({
      subject: 'CN=DEV CA phục vụ các cơ quan Nhà nước G2, O=DEVELOPMENT ONLY, C=VN',
      issuer: fresh,
      ca: true,
    });
    const forged = await createCrl(stranger, [], { thisUpdate: new Date(Date.now() + 5000) });
    let error: unknown;
    try {
      await t.hub.revocation.store(Buffer.from(forged.rawData));
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.contain('not a trusted CA');
  });
});
