/**
 * Rotating the hub signing certificate (issue 23, docs/deployment.md §11): `hubctl hubcert check`
 * accepts a new hub certificate with its key, says it is not pinned yet and gives the pins to roll
 * out (the current ones kept), and refuses a certificate verifiers would not take as the hub's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig, PROJECT_ROOT } from '../../src/config.ts';
import { normalisePin } from '../../src/crypto/hub-signed.ts';
import { hubctl } from '../support/hubctl.ts';

describe('hubctl hubcert check (hub signing certificate rotation)', function () {
  this.timeout(60_000);
  let dir: string;
  const dev = (f: string) => path.join(PROJECT_ROOT, 'certs-dev', f);
  const check = (args: string[]) => {
    const r = hubctl(['--json', 'hubcert', 'check', ...args]);
    return { code: r.code, out: JSON.parse(r.out) as Record<string, unknown>, err: r.err };
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hubcert-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('checks a new hub certificate and gives the pins to roll out before switching, the old ones kept', () => {
    const issued = hubctl(['--json', 'devpki', 'hub', '--out', dir]);
    expect(issued.code, issued.err).to.equal(0);
    const { fingerprintSha256 } = JSON.parse(issued.out) as { fingerprintSha256: string };
    const r = check([path.join(dir, 'hub.pem'), '--key', path.join(dir, 'hub.key.pem')]);
    expect(r.code, r.err).to.equal(0);
    const current = loadConfig().pki.hubPins.map(normalisePin);
    expect(r.out).to.deep.include({
      ok: true,
      fingerprintSha256,
      pinned: false,
      current: false,
      keyMatches: true,
      pinsToSet: [...current, fingerprintSha256],
    });
  });

  it('says the configured certificate is the one in use', () => {
    const r = check([dev('hub.pem'), '--key', dev('hub.key.pem')]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.deep.include({ ok: true, pinned: true, current: true, keyMatches: true });
  });

  it('refuses a certificate without the hub-signing EKU, and a key that is not the certificate’s', () => {
    // The development hub key: a key of this test's own (the first test's new key may not exist yet).
    const r = check([dev('agencies/H29.001.pem'), '--key', dev('hub.key.pem')]);
    expect(r.code).to.equal(1);
    const problems = r.out.problems as string[];
    expect(problems.join('\n'))
      .to.match(/does not carry the hub-signing EKU/)
      .and.match(/is not its private key/);
    expect(r.out).to.deep.include({ ok: false, keyMatches: false });
  });
});
