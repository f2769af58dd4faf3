/**
 * Stale revocation data is visible (issue 18 §6): a State CA CRL without nextUpdate, issued 25 hours
 * ago, is stored like a fetched one; the hub (verification in its worker threads) refuses what that CA
 * issued, /readyz answers 200 `revocation-stale` naming the CRL, /metrics carries its age and staleness. A
 * fresh CRL makes it ready again. Times are relative to the hub's clock with hours of margin against
 * the 24-hour bound (pki.crlMaxAgeWithoutNextUpdateHours).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { createCrl, loadIssued, type Issued } from '../../src/crypto/dev-pki.ts';
import { HubApiError } from '../../src/sdk/client.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

const HOUR = 3_600_000;

type Ready = {
  status: string;
  checks: Record<string, boolean>;
  revocation: { status: string; stale: { source: string; reason: string }[]; message?: string };
};

describe('revocation data freshness on a running hub', function () {
  this.timeout(60_000);
  let t: TestHub;
  let stateCa: Issued;
  const source = () => `crl:${stateCa.cert.subject}`;

  before(async () => {
    const dir = path.join(PROJECT_ROOT, 'certs-dev');
    stateCa = await loadIssued(
      readFileSync(path.join(dir, 'state-ca.pem'), 'utf8'),
      readFileSync(path.join(dir, 'state-ca.key.pem'), 'utf8'),
    );
  });
  // A hub of each test's own: the hub keeps the newest CRL it was given, so a test storing a fresh
  // one made the stale one of another refused, and a stale one left the next test not ready.
  beforeEach(async () => {
    t = await startTestHub('revfresh');
  });
  afterEach(async () => {
    await t?.close();
  });

  const ready = async () => {
    const r = await fetch(`${t.url}/readyz`);
    return { http: r.status, body: (await r.json()) as Ready };
  };
  const metricLine = async (name: string) => {
    const text = await (await fetch(`${t.hub.healthUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{source="${source()}"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  const submit = async () => {
    try {
      const r = await t
        .client('H29.001')
        .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
      return String(r.httpStatus);
    } catch (err) {
      if (err instanceof HubApiError) return err.code;
      throw err;
    }
  };

  it('is ready with fresh development CRLs, and reports each CRL’s age', async () => {
    const r = await ready();
    expect(r.http).to.equal(200);
    expect(r.body).to.deep.include({ status: 'ready', revocation: { status: 'fresh', stale: [] } });
    expect(await metricLine('hub_revocation_source_stale')).to.equal(0);
    expect(await metricLine('hub_revocation_source_age_seconds')).to.be.greaterThan(0);
  });

  /** Gives the hub a CRL without nextUpdate issued 25 hours ago (newer than the development one). */
  const storeStale = async () => {
    const crl = await createCrl(stateCa, [], {
      thisUpdate: new Date(Date.now() - 25 * HOUR),
      nextUpdate: null,
    });
    expect(await t.hub.revocation.store(Buffer.from(crl.rawData))).to.equal(true);
  };

  it('a CRL without nextUpdate older than 24 hours: submissions refused, /readyz revocation-stale naming it', async () => {
    await storeStale();
    expect(await submit()).to.equal('CERT_REVOCATION_UNKNOWN');
    const r = await ready();
    expect(r.http, 'stays in the load balancer').to.equal(200);
    expect(r.body.status).to.equal('revocation-stale');
    expect(r.body.revocation)
      .to.have.property('message')
      .that.matches(/^revocation data stale/);
    expect(r.body.revocation.stale.map((s) => s.source)).to.deep.equal([source()]);
    expect(r.body.revocation.stale[0]!.reason).to.match(/no nextUpdate/);
    expect(await metricLine('hub_revocation_source_stale')).to.equal(1);
    expect(await metricLine('hub_revocation_source_age_seconds')).to.be.within(25 * 3600, 26 * 3600);
  });

  it('a fresh CRL makes it ready again and submissions pass', async () => {
    await storeStale();
    expect((await ready()).body.status).to.equal('revocation-stale');
    const crl = await createCrl(stateCa, [], { thisUpdate: new Date(Date.now() - 60_000) });
    expect(await t.hub.revocation.store(Buffer.from(crl.rawData))).to.equal(true);
    expect((await ready()).body).to.deep.include({
      status: 'ready',
      revocation: { status: 'fresh', stale: [] },
    });
    expect(await metricLine('hub_revocation_source_stale')).to.equal(0);
    expect(await submit()).to.equal('202');
  });
});
