/**
 * The directory cache of the hot path (src/directory/cache.ts) in a running hub, with entries kept far
 * longer than the test: changes made through this hub apply at once; a recipient the cache would refuse
 * is read again, so a unit reopened by another process is accepted at once; a change made
 * elsewhere to an agency the cache accepts is seen within directory.cacheRefreshMs (the documented bound).
 * The sender too: a certificate pinned elsewhere a moment ago is accepted at once; one revoked elsewhere
 * (or a sender closed elsewhere) is refused with the usual code once the bound has passed — here, once
 * the entry is gone (`invalidate()`: what its age does after cacheRefreshMs, test/unit/directory/cache).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CertificateService } from '../../src/certs/service.ts';
import { PROJECT_ROOT } from '../../src/config.ts';
import { issueCertificate, loadIssued, privateKeyPem } from '../../src/crypto/dev-pki.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import type { HubApiError } from '../../src/sdk/client.ts';
import { hubctl } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('directory cache on the hot path', function () {
  this.timeout(120_000);
  let t: TestHub;
  before(async () => {
    t = await startTestHub('dircache', { directory: { cacheRefreshMs: 600_000 } });
  });
  after(async () => {
    await t?.close();
  });

  const send = (to: string) =>
    t.client('H29.001').submit(signed(documentMessage('H29.001', [to]), t.signingKey('H29.001')));
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (err: unknown) => (err as HubApiError).code,
    );
  const ctl = (...args: string[]) => hubctl([...args, '--db', t.dbName]);

  it('a unit closed through this hub is routed as closed at once', async () => {
    expect((await send('M41.001')).recipients[0]).to.include({ outcome: 'accepted' }); // cached now
    await t.hub.directory.close('test', 'M41.001', { successors: ['H41.001'] });
    expect((await send('M41.001')).recipients[0]).to.include({ outcome: 'rerouted', deliveredTo: 'H41.001' });
  });

  it('a refusal is decided on the store: a unit reopened elsewhere is accepted at once', async () => {
    expect((await send('D41.001')).recipients[0]).to.include({ outcome: 'accepted' }); // cached now
    const split = ctl('directory', 'close', 'D41.001', '--successors', 'H41.001;M29.001');
    expect(split.code, split.err).to.equal(0);
    // Another process closed it: this hub may still accept it until the entry is refreshed (the bound).
    expect(await refusal(send('D41.001'))).to.equal('accepted');
    t.hub.services.directoryCache.invalidate();
    expect(await refusal(send('D41.001'))).to.equal('UNKNOWN_RECIPIENT'); // cached now: split, refused
    // Another process reopens it (a direct write: no command does): the cached refusal is read again.
    await t.hub.stores.models.Agency.updateOne(
      { _id: 'D41.001' },
      { $set: { status: 'active', successors: [] }, $unset: { closedAt: 1 } },
    );
    expect((await send('D41.001')).recipients[0]).to.include({ outcome: 'accepted' });
  });

  describe('the sender', () => {
    const dir = path.join(PROJECT_ROOT, 'certs-dev');
    /** A new certificate for H29.001, issued by the dev state CA (not pinned yet). */
    const newKey = async () => {
      const ca = await loadIssued(
        readFileSync(path.join(dir, 'state-ca.pem'), 'utf8'),
        readFileSync(path.join(dir, 'state-ca.key.pem'), 'utf8'),
      );
      const c = await issueCertificate({
        subject: 'CN=UBND phường Sài Gòn (cache test), O=H29.001, C=VN',
        issuer: ca,
      });
      return {
        certificatePem: c.cert.toString('pem'),
        privateKeyPem: await privateKeyPem(c.keys.privateKey),
      };
    };
    /** Certificates changed by another process: the store's own, not this hub's (no invalidation). */
    const elsewhere = async () =>
      new CertificateService(t.hub.stores, await TrustStore.fromDirectory(dir), t.hub.stores.audit);
    const sendAs = (key: { certificatePem: string; privateKeyPem: string }) =>
      refusal(t.client('H29.001').submit(signed(documentMessage('H29.001', ['H41.001']), key)));
    it('a certificate pinned elsewhere a moment ago is accepted at once', async () => {
      expect(await sendAs(t.signingKey('H29.001'))).to.equal('accepted'); // the sender is cached now
      const key = await newKey();
      const pinned = await (await elsewhere()).register('test', 'H29.001', key.certificatePem);
      expect(await sendAs(key)).to.equal('accepted');
      // Revoked elsewhere: accepted until the entry is refreshed (the bound), refused after it.
      expect(await sendAs(key)).to.equal('accepted');
      await (await elsewhere()).unregister('test', 'H29.001', pinned.fingerprintSha256);
      expect(await sendAs(key)).to.equal('accepted');
      t.hub.services.directoryCache.invalidate();
      expect(await sendAs(key)).to.equal('SENDER_MISMATCH');
      expect(await sendAs(t.signingKey('H29.001'))).to.equal('accepted');
    });

    it('a certificate revoked through this hub is refused at once', async () => {
      const key = await newKey();
      const certs = await t.hub.services.certificates();
      const pinned = await certs.register('test', 'H29.001', key.certificatePem);
      expect(await sendAs(key)).to.equal('accepted'); // cached with it
      await certs.unregister('test', 'H29.001', pinned.fingerprintSha256);
      expect(await sendAs(key)).to.equal('SENDER_MISMATCH');
    });

    it('a sender closed elsewhere is refused once the bound has passed', async () => {
      const sendFrom = () =>
        refusal(
          t
            .client('M29.001')
            .submit(signed(documentMessage('M29.001', ['H41.001']), t.signingKey('M29.001'))),
        );
      expect(await sendFrom()).to.equal('accepted'); // cached
      const closed = ctl('directory', 'close', 'M29.001', '--successors', 'H29.001');
      expect(closed.code, closed.err).to.equal(0);
      expect(await sendFrom()).to.equal('accepted'); // within the bound
      t.hub.services.directoryCache.invalidate();
      expect(await sendFrom()).to.equal('SENDER_MISMATCH');
    });
  });
});
