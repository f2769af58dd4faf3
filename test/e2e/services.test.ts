/**
 * The service graph (src/services.ts) on the real store: each part built once and shared, the parts
 * that do I/O only on first use (hubctl's graph reads no hub key and opens no broker), and stop()
 * closing what was opened, safe to call twice.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createServices, type Services } from '../../src/services.ts';

describe('service graph (createServices)', function () {
  this.timeout(60_000);
  const dbName = `t_services_${randomBytes(4).toString('hex')}`;
  let s: Services | undefined;

  afterEach(async () => {
    if (s) {
      await s.mongo.dropDatabase().catch(() => undefined);
      await s.stop();
    }
    s = undefined;
  });

  it('builds each part once; what does I/O only when used; stop() closes the store, twice is once', async () => {
    // A hub key that cannot be read: hubctl's graph never needs it.
    const config = loadConfig(process.env, { pki: { hubKey: '/nonexistent/hub.key.pem' } });
    s = await createServices(config, { dbName, log: createLogger('silent') });
    const [t1, t2] = await Promise.all([s.trust(), s.trust()]);
    expect(t1).to.equal(t2);
    expect(await s.revocation()).to.equal(await s.revocation());
    expect(await s.certificates()).to.equal(await s.certificates());
    expect(await s.accounts()).to.equal(await s.accounts());
    expect(s.hubCertificatePem()).to.match(/BEGIN CERTIFICATE/);
    // The key is read on first use only, and its problem is the start check's (a ConfigError).
    const err = await s.hubKey().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/^START_REFUSED: [\s\S]*pki\.hubKey/);
    expect(s.mongo.readyState).to.equal(1);
    await Promise.all([s.stop(), s.stop()]);
    expect(s.mongo.readyState).to.equal(0);
    await s.stop();
    s = undefined;
  });

  it('refuses before connecting when the hub must load its key and cannot', async () => {
    const config = loadConfig(process.env, { pki: { hubKey: '/nonexistent/hub.key.pem' } });
    const err = await createServices(config, { dbName, log: createLogger('silent'), loadHubKey: true }).then(
      (made) => {
        s = made;
        return null;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/^START_REFUSED: [\s\S]*pki\.hubKey/);
  });
});
