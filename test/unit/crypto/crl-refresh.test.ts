/**
 * Issue 23, the pure parts: when a CRL URL is fetched sooner than the period (retry with backoff after
 * a failure, early refresh before nextUpdate), HUB_CRL_URLS, the report of hubctl crl, and evidence
 * CRL file names that two `C=VN, …` CAs cannot share. Time is pinned (T0).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../../../src/config.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { urgentFetchAt, type CrlRefreshPolicy } from '../../../src/crypto/revocation.ts';
import { createRootCa, issueCertificate } from '../../../src/crypto/dev-pki.ts';
import type { RevocationSource } from '../../../src/crypto/trust.ts';
import { crlReport } from '../../../src/cli/commands/crl.ts';
import { crlFileName } from '../../../src/evidence/bundle.ts';

const T0 = Date.parse('2027-06-01T02:00:00.000Z');
const S = 1000;
const H = 3_600_000;
const policy: CrlRefreshPolicy = { periodMs: 300 * S, earlyFraction: 0.8, retryMinMs: 5 * S };

describe('CRL refresh: sooner than the period when it matters', () => {
  const fresh = { thisUpdate: T0, nextUpdate: T0 + 24 * H, stale: false };

  it('leaves a URL never fetched, or whose CRL is fresh without nextUpdate, to the period', () => {
    expect(urgentFetchAt({ failures: 0, unchanged: 0 }, undefined, policy)).to.equal(null);
    expect(
      urgentFetchAt(
        { failures: 0, unchanged: 0, lastAttemptAt: T0 },
        { thisUpdate: T0, stale: false },
        policy,
      ),
    ).to.equal(null);
  });

  it('retries a failed fetch after 5 s, doubling, never later than the period', () => {
    const at = (failures: number) =>
      urgentFetchAt({ failures, unchanged: 0, lastAttemptAt: T0 }, fresh, policy)! - T0;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(at)).to.deep.equal(
      [5, 10, 20, 40, 80, 160, 300, 300].map((s) => s * S),
    );
  });

  it('fetches again at 80 % of the thisUpdate → nextUpdate window', () => {
    expect(urgentFetchAt({ failures: 0, unchanged: 0, lastAttemptAt: T0 + H }, fresh, policy)).to.equal(
      T0 + 0.8 * 24 * H,
    );
    // never fetched by this process, the window already reached: now
    expect(
      urgentFetchAt(
        { failures: 0, unchanged: 0 },
        { ...fresh, thisUpdate: T0 - 20 * H, nextUpdate: T0 + 4 * H },
        policy,
      ),
    ).to.equal(T0 - 20 * H + 0.8 * 24 * H);
  });

  it('inside the window, fetches with the same backoff until a newer CRL comes', () => {
    const inWindow = T0 + 20 * H;
    const at = (unchanged: number) =>
      urgentFetchAt({ failures: 0, unchanged, lastAttemptAt: inWindow }, fresh, policy)! - inWindow;
    expect([1, 2, 3, 9].map(at)).to.deep.equal([5, 10, 20, 300].map((s) => s * S));
  });

  it('a stale CRL, even without nextUpdate, is fetched with the backoff', () => {
    expect(
      urgentFetchAt(
        { failures: 0, unchanged: 2, lastAttemptAt: T0 },
        { thisUpdate: T0 - 30 * H, stale: true },
        policy,
      ),
    ).to.equal(T0 + 10 * S);
  });
});

describe('HUB_CRL_URLS', () => {
  it('sets pki.crlUrls, comma- or space-separated', () => {
    const c = loadConfig({
      HUB_CRL_URLS: 'http://ca.example/a.crl, https://ca.example/b.crl http://c/d.crl',
    });
    expect(c.pki.crlUrls).to.deep.equal([
      'http://ca.example/a.crl',
      'https://ca.example/b.crl',
      'http://c/d.crl',
    ]);
  });

  it('refuses what is not an http(s) URL, naming the key', () => {
    expect(() => loadConfig({ HUB_CRL_URLS: 'ldap://ca.example/cn=CA' })).to.throw(
      /pki\.crlUrls\.0: must be an http:\/\/ or https:\/\/ URL \(environment HUB_CRL_URLS\)/,
    );
    expect(() => loadConfig({ HUB_CRL_URLS: 'http://ok.example/a.crl,not a url' })).to.throw(
      /pki\.crlUrls\.1/,
    );
  });
});

describe('hubctl crl report', () => {
  const source = (issuer: string, stale: boolean): RevocationSource => ({
    source: `crl:${issuer}`,
    kind: 'crl',
    ageSeconds: 3600,
    stale,
    ...(stale ? { reason: 'no CRL' } : {}),
    thisUpdate: new Date(T0),
    nextUpdate: new Date(T0 + 24 * H),
  });
  const ok = { url: 'http://ca/root.crl', ok: true, updated: true, issuer: 'CN=Root' };
  const failed = { url: 'http://ca/sub.crl', ok: false, updated: false, error: 'HTTP 503' };

  it('is ok only when every CRL is fresh and every fetch succeeded', () => {
    const stored = [{ issuer: 'CN=Root', url: ok.url, fetchedAt: new Date(T0) }];
    const good = crlReport([source('CN=Root', false)], stored, [ok], 'require');
    expect(good.ok).to.equal(true);
    expect(good.sources[0]).to.deep.include({
      source: 'crl:CN=Root',
      thisUpdate: new Date(T0).toISOString(),
      storedFrom: { url: ok.url, fetchedAt: new Date(T0).toISOString() },
      fetches: [ok],
    });
    const withFailure = crlReport([source('CN=Root', false)], stored, [ok, failed], 'require');
    expect(withFailure.ok).to.equal(false);
    expect(withFailure.unattributed).to.deep.equal([failed]);
    expect(crlReport([source('CN=Root', true)], [], [], 'require').ok).to.equal(false);
  });

  it('with revocation off, stale CRLs do not fail it, failed fetches still do', () => {
    expect(crlReport([source('CN=Root', true)], [], [], 'off').ok).to.equal(true);
    expect(crlReport([source('CN=Root', true)], [], [failed], 'off').ok).to.equal(false);
  });
});

describe('evidence CRL file names', () => {
  it('differ for two CAs whose names begin alike (C=VN, …), and carry the CN', async () => {
    const root = await createRootCa('C=VN, O=Ban Cơ yếu Chính phủ, CN=Root CA G3');
    const sub = await issueCertificate({
      subject: 'C=VN, O=Ban Cơ yếu Chính phủ, CN=Sub CA G3',
      issuer: root,
      ca: true,
      pathLen: 0,
    });
    const names = [crlFileName(root.cert), crlFileName(sub.cert)];
    expect(names[0]).to.match(/^crl\/Root_CA_G3-[0-9a-f]{16}\.crl$/);
    expect(names[1]).to.match(/^crl\/Sub_CA_G3-[0-9a-f]{16}\.crl$/);
    const sameCn = await createRootCa('C=VN, O=Another, CN=Root CA G3');
    expect(new Set([...names, crlFileName(sameCn.cert)]).size).to.equal(3);
  });
});

describe('the example revocation alerts', () => {
  it('in docs/deployment.md are deploy/prometheus/revocation-alerts.yml, on metrics the hub exports', async () => {
    const doc = readFileSync(path.join(PROJECT_ROOT, 'docs/deployment.md'), 'utf8');
    const block = /```yaml\n(groups:\n {2}- name: vn-dochub-revocation[\s\S]*?)```/.exec(doc)?.[1];
    const file = readFileSync(path.join(PROJECT_ROOT, 'deploy/prometheus/revocation-alerts.yml'), 'utf8');
    expect(block, 'the yaml block in docs/deployment.md').to.be.a('string');
    expect(file.replace(/^#.*\n/gm, '')).to.equal(block);
    const exported = (await createMetrics(false).registry.getMetricsAsJSON()).map((m) => m.name);
    for (const [, name] of block!.matchAll(/\b(hub_[a-z_]+)\b/g)) expect(exported).to.include(name);
  });
});
