/**
 * Freshness of revocation data (issue 18 §6): a CRL without nextUpdate stops counting after
 * pki.crlMaxAgeWithoutNextUpdateHours, for verification and for monitoring alike; each source's age
 * and staleness reach the gauges, /readyz's report and the alert log. Time is pinned (T0).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { HubError } from '../../../src/domain/errors.ts';
import { createCrl, loadIssued, type Issued } from '../../../src/crypto/dev-pki.ts';
import { TrustStore, type Certificate } from '../../../src/crypto/trust.ts';
import { x509 } from '../../../src/crypto/x509.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import type { Logger } from '../../../src/observability/logger.ts';
import { RevocationFreshness } from '../../../src/ops/revocation-freshness.ts';

const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const HOUR = 3_600_000;
// After the development CRLs' thisUpdate (so a test CRL replaces them) and within every dev certificate's validity.
const T0 = new Date('2026-12-01T00:00:00Z');

function captureLog() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, fields, msg });
    };
  const log = {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
  } as unknown as Logger;
  return { log, lines };
}

async function gaugeValues(g: {
  get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }>;
}) {
  return Object.fromEntries((await g.get()).values.map((v) => [String(v.labels.source), v.value]));
}

describe('revocation data freshness', () => {
  let stateCa: Issued;
  let leaf: Certificate;
  let now: Date;

  before(async () => {
    stateCa = await loadIssued(
      readFileSync(path.join(CERTS, 'state-ca.pem'), 'utf8'),
      readFileSync(path.join(CERTS, 'state-ca.key.pem'), 'utf8'),
    );
    leaf = new x509.X509Certificate(readFileSync(path.join(CERTS, 'agencies/H29.001.pem'), 'utf8'));
  });

  async function trustWithCrl(nextUpdate: Date | null, o: { maxAgeWithoutNextUpdateSeconds?: number } = {}) {
    const trust = await TrustStore.fromDirectory(CERTS, { now: () => now, ...o });
    trust.addCrl(await createCrl(stateCa, [], { thisUpdate: T0, nextUpdate }));
    return trust;
  }

  async function refusalCode(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (err) {
      expect(err).to.be.instanceOf(HubError);
      return (err as HubError).code;
    }
    return 'accepted';
  }

  describe('a CRL without nextUpdate', () => {
    it('is used for 24 hours after its thisUpdate by default', async () => {
      now = new Date(T0.getTime() + 23 * HOUR);
      const trust = await trustWithCrl(null);
      const v = await trust.validate(leaf, [], now);
      expect(v.revocation).to.deep.include({ checked: true, crlThisUpdate: T0 });
    });

    it('is stale after 24 hours: refused with CERT_REVOCATION_UNKNOWN in require mode', async () => {
      now = new Date(T0.getTime() + 25 * HOUR);
      const trust = await trustWithCrl(null);
      expect(await refusalCode(trust.validate(leaf, [], now))).to.equal('CERT_REVOCATION_UNKNOWN');
    });

    it('follows the configured bound (pki.crlMaxAgeWithoutNextUpdateHours)', async () => {
      now = new Date(T0.getTime() + 3 * HOUR);
      const trust = await trustWithCrl(null, { maxAgeWithoutNextUpdateSeconds: 2 * 3600 });
      expect(await refusalCode(trust.validate(leaf, [], now))).to.equal('CERT_REVOCATION_UNKNOWN');
    });

    it('a CRL with nextUpdate is used until then, whatever its age', async () => {
      now = new Date(T0.getTime() + 40 * 24 * HOUR);
      const fresh = await trustWithCrl(new Date(T0.getTime() + 60 * 24 * HOUR));
      expect(await refusalCode(fresh.validate(leaf, [], now))).to.equal('accepted');
      const stale = await trustWithCrl(new Date(T0.getTime() + 30 * 24 * HOUR));
      expect(await refusalCode(stale.validate(leaf, [], now))).to.equal('CERT_REVOCATION_UNKNOWN');
    });
  });

  describe('monitoring', () => {
    const stateSource = () => `crl:${stateCa.cert.subject}`;

    it('lists every trusted CA with its CRL age, and the stale ones with the reason', async () => {
      now = new Date(T0.getTime() + 25 * HOUR);
      const trust = await trustWithCrl(null);
      const sources = trust.crlSources(now);
      expect(sources.map((s) => s.source)).to.have.length(3); // root, State and Party CAs
      const state = sources.find((s) => s.source === stateSource())!;
      expect(state).to.deep.include({ kind: 'crl', ageSeconds: 25 * 3600, stale: true });
      expect(state.reason).to.match(/no nextUpdate/);
      expect(sources.filter((s) => s.stale)).to.have.length(1);
    });

    it('lists a trusted CA without any CRL as stale', () => {
      now = T0;
      const trust = TrustStore.create({ roots: [readFileSync(path.join(CERTS, 'root-ca.pem'), 'utf8')] });
      const [root] = trust.crlSources(now);
      expect(root).to.deep.include({ ageSeconds: null, stale: true, reason: 'no CRL' });
    });

    it('sets the gauges, reports the stale CRLs for /readyz, and alerts once per change', async () => {
      now = new Date(T0.getTime() + 25 * HOUR);
      const trust = await trustWithCrl(null);
      const metrics = createMetrics(false);
      const { log, lines } = captureLog();
      const f = new RevocationFreshness(trust, metrics, log, { mode: 'require', now: () => now });
      metrics.onRevocationScrape(() => f.updateGauges());

      const text = await metrics.registry.metrics();
      expect(text).to.contain('hub_revocation_source_stale{source="crl:');
      const stale = await gaugeValues(metrics.revocationSourceStale);
      expect(stale[stateSource()]).to.equal(1);
      expect(Object.values(stale).filter((v) => v === 1)).to.have.length(1);
      expect((await gaugeValues(metrics.revocationSourceAge))[stateSource()]).to.equal(25 * 3600);

      expect(f.health()).to.deep.include({ status: 'stale' });
      expect(f.health().stale.map((s) => s.source)).to.deep.equal([stateSource()]);

      expect(f.alert()).to.equal(1);
      expect(f.alert()).to.equal(1); // no second alert while it stays stale
      expect(lines.filter((l) => l.level === 'error').map((l) => l.fields.source)).to.deep.equal([
        stateSource(),
      ]);

      trust.addCrl(await createCrl(stateCa, [], { thisUpdate: new Date(now.getTime() - HOUR) }));
      expect(f.alert()).to.equal(0);
      expect(f.health()).to.deep.equal({ status: 'fresh', stale: [] });
      expect(lines.at(-1)).to.deep.include({ level: 'info', msg: 'revocation data fresh again' });
      expect((await gaugeValues(metrics.revocationSourceStale))[stateSource()]).to.equal(0);
    });

    it('reports stale CRLs in prefer mode with a warning, and not at all in off mode', async () => {
      now = new Date(T0.getTime() + 25 * HOUR);
      const trust = await trustWithCrl(null);
      const { log, lines } = captureLog();
      const prefer = new RevocationFreshness(trust, createMetrics(false), log, {
        mode: 'prefer',
        now: () => now,
      });
      expect(prefer.health().status).to.equal('stale');
      prefer.alert();
      expect(lines.map((l) => l.level)).to.deep.equal(['warn']);
      const off = new RevocationFreshness(trust, createMetrics(false), log, { mode: 'off', now: () => now });
      expect(off.health()).to.deep.equal({ status: 'fresh', stale: [] });
    });

    it('reports an OCSP responder: age of its last good answer, stale while its last answer failed', async () => {
      now = T0;
      const trust = await trustWithCrl(new Date(T0.getTime() + 24 * HOUR));
      const metrics = createMetrics(false);
      const f = new RevocationFreshness(trust, metrics, captureLog().log, {
        mode: 'require',
        now: () => now,
      });
      const url = 'http://127.0.0.1:9/ocsp';
      f.recordOcsp({
        url,
        ok: true,
        at: new Date(T0.getTime() - 60_000),
        thisUpdate: new Date(T0.getTime() - 120_000),
      });
      expect(f.sources(now).find((s) => s.kind === 'ocsp')).to.deep.include({
        source: `ocsp:${url}`,
        ageSeconds: 120,
        stale: false,
      });
      f.recordOcsp({ url, ok: false, at: T0, error: 'connect ECONNREFUSED' });
      const ocsp = f.sources(now).find((s) => s.kind === 'ocsp')!;
      expect(ocsp).to.deep.include({ ageSeconds: 120, stale: true });
      expect(ocsp.reason).to.contain('ECONNREFUSED');
      f.updateGauges();
      expect((await gaugeValues(metrics.revocationSourceStale))[`ocsp:${url}`]).to.equal(1);
      expect(f.health().status, 'CRLs decide: readiness unaffected').to.equal('fresh');
    });
  });
});
