/**
 * Issue 23 on a running hub with its own PKI, named the way OpenSSL-made government names are
 * (`C=VN, O=…, CN=…`): root → intermediate → agency and hub certificates. The CRLs are served over HTTP
 * on 127.0.0.1 — the root's CRL from the URL the intermediate names, the intermediate's from the URL
 * the agency and hub certificates name — and the trust directory holds no CRL at all.
 *
 *  - `hubctl certs register` fetches the CRLs of the whole chain (the root's CRL was never fetched);
 *  - the hub then holds both, `/readyz` turns from `revocation-stale` to `ready`;
 *  - evidence bundles hold both CRLs under distinct names and verify offline (the root's CRL used to
 *    overwrite the intermediate's: both were `crl/C_VN.crl`);
 *  - with the intermediate's CRL unusable at the acceptance time, `evidence export` refuses naming it
 *    (it used to exit 0 with an incomplete bundle), `--allow-incomplete` marks the bundle;
 *  - `hubctl crl refresh|status` report each source and fail on stale or failed;
 *  - a failed fetch is retried within seconds, and a CRL is fetched again before its nextUpdate
 *    (injected clock).
 * Times are relative to the wall clock with hours of margin (the hub's clock is the real one).
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import {
  createCrl,
  createRootCa,
  issueCertificate,
  issueHubCertificate,
  privateKeyPem,
  type Issued,
} from '../../src/crypto/dev-pki.ts';
import { certificateFingerprint, TrustStore } from '../../src/crypto/trust.ts';
import { RevocationService } from '../../src/crypto/revocation.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { hubctlAsync } from '../support/hubctl.ts';
import { signingKeyOf } from '../support/pinned-pki.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('CRLs of every CA on the chain (issue 23)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'crl-chain-'));
  const trustDir = mkdtempSync(path.join(tmpdir(), 'crl-chain-trust-'));
  let server: http.Server;
  let base: string;
  const served: Record<string, Buffer | undefined> = {};
  let down = false;
  let root: Issued;
  let sub: Issued;
  let agency: Issued;
  let env: Record<string, string>;
  let t: TestHub;
  let docId: string;

  const crl = async (ca: Issued, thisUpdate: Date, nextUpdate: Date) =>
    Buffer.from((await createCrl(ca, [], { thisUpdate, nextUpdate })).rawData);

  before(async () => {
    server = http.createServer((req, res) => {
      const body = served[req.url ?? ''];
      if (down || !body) res.writeHead(down ? 503 : 404).end();
      else res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    root = await createRootCa('C=VN, O=DEVELOPMENT ONLY crl-chain, CN=Root CA crl-chain');
    sub = await issueCertificate({
      subject: 'C=VN, O=DEVELOPMENT ONLY crl-chain, CN=Sub CA crl-chain',
      issuer: root,
      ca: true,
      pathLen: 0,
      crlUrl: `${base}/root.crl`,
    });
    agency = await issueCertificate({
      subject: 'C=VN, O=H29.001, CN=UBND phường Sài Gòn (crl-chain)',
      issuer: sub,
      crlUrl: `${base}/sub.crl`,
    });
    const hubCert = await issueHubCertificate({ issuer: sub, crlUrl: `${base}/sub.crl` });
    writeFileSync(path.join(trustDir, 'root.pem'), root.cert.toString('pem'));
    writeFileSync(path.join(trustDir, 'sub.pem'), sub.cert.toString('pem'));
    writeFileSync(path.join(dir, 'agency.pem'), agency.cert.toString('pem'));
    writeFileSync(path.join(dir, 'hub.pem'), hubCert.cert.toString('pem'));
    writeFileSync(path.join(dir, 'hub.key.pem'), await privateKeyPem(hubCert.keys.privateKey));
    served['/root.crl'] = await crl(root, new Date(Date.now() - HOUR), new Date(Date.now() + 23 * HOUR));
    served['/sub.crl'] = await crl(sub, new Date(Date.now() - HOUR), new Date(Date.now() + 23 * HOUR));
    const pki = {
      trustDir,
      hubCert: path.join(dir, 'hub.pem'),
      hubKey: path.join(dir, 'hub.key.pem'),
      hubPins: [certificateFingerprint(hubCert.cert)],
    };
    env = { TRUST_DIR: pki.trustDir, HUB_CERT: pki.hubCert, HUB_KEY: pki.hubKey, HUB_PINS: pki.hubPins[0]! };
    // No development certificates: every CRL URL the hub knows is served here.
    t = await startTestHub('crlchain', { pki, seed: { certsManifest: '' } });
  });
  after(async () => {
    await t?.close();
    server?.close();
  });

  const ready = async () => {
    const r = await fetch(`${t.url}/readyz`);
    return (await r.json()) as { status: string; revocation: { stale: { source: string }[] } };
  };

  // Step 1: hubctl certs register fetches the CRLs of the whole chain: the root’s, named by the intermediate, too
  const step1 = async () => {
    const r = await hubctlAsync(
      ['--json', 'certs', 'register', 'H29.001', path.join(dir, 'agency.pem'), '--db', t.dbName],
      env,
    );
    expect(r.code, r.err + r.out).to.equal(0);
    const stored = await t.hub.stores.models.Crl.find({}, { _id: 1 }).lean<{ _id: string }[]>();
    expect(stored.map((c) => c._id).sort()).to.deep.equal([root.cert.subject, sub.cert.subject].sort());
    expect(await t.hub.revocation.urls()).to.include.members([`${base}/root.crl`, `${base}/sub.crl`]);
    // The hub reloads them: ready, not revocation-stale.
    await eventually(async () => (await ready()).status === 'ready', 30_000, 'ready with both CRLs');
  };

  // Step 2: an evidence bundle holds both CRLs under distinct names and verifies offline
  const step2 = async () => {
    const A = t.client('H29.001');
    docId = (await A.submit(signed(documentMessage('H29.001', ['H41.001']), await signingKeyOf(agency))))
      .docId;
    const res = await A.request('GET', `/v1/documents/${docId}/evidence`);
    expect(res.status).to.equal(200);
    const zip = Buffer.from(await res.arrayBuffer());
    const crls = Object.keys(unzipSync(zip)).filter((n) => n.startsWith('crl/'));
    expect(crls).to.have.length(2);
    expect(crls.some((n) => n.startsWith('crl/Root_CA_crl-chain-'))).to.equal(true);
    expect(crls.some((n) => n.startsWith('crl/Sub_CA_crl-chain-'))).to.equal(true);
    const file = path.join(dir, 'complete.zip');
    writeFileSync(file, zip);
    const v = await hubctlAsync(['evidence', 'verify', file, '--trust', trustDir], env);
    expect(v.code, v.out + v.err).to.equal(0);
    expect(v.out).to.contain('verified');
  };

  // Step 3: with the intermediate’s CRL unusable at the acceptance time, evidence export refuses naming it; --allow-incomplete marks the bundle
  const step3 = async () => {
    // Newer than the served one, but its nextUpdate passed before the document was accepted.
    const lapsed = await crl(sub, new Date(Date.now() - 50 * MIN), new Date(Date.now() - 40 * MIN));
    expect(await t.hub.revocation.store(lapsed)).to.equal(true);
    expect((await ready()).status).to.equal('revocation-stale');
    const out = path.join(dir, 'incomplete.zip');
    const refused = await hubctlAsync(['evidence', 'export', docId, '--out', out, '--db', t.dbName], env);
    expect(refused.code, refused.out).to.equal(3);
    expect(refused.err).to.contain('EVIDENCE_INCOMPLETE');
    expect(refused.err).to.contain(`the CRL of ${sub.cert.subject} is not usable`);
    const api = await t.client('H29.001').request('GET', `/v1/documents/${docId}/evidence`);
    expect(api.status).to.equal(503);
    expect(((await api.json()) as { code: string }).code).to.equal('EVIDENCE_INCOMPLETE');

    const allowed = await hubctlAsync(
      ['evidence', 'export', docId, '--out', out, '--allow-incomplete', '--db', t.dbName],
      env,
    );
    expect(allowed.code, allowed.err).to.equal(0);
    expect(allowed.err).to.contain('INCOMPLETE');
    const manifest = JSON.parse(Buffer.from(unzipSync(readFileSync(out))['manifest.json']!).toString()) as {
      incomplete: string[];
    };
    expect(manifest.incomplete.join(' ')).to.contain(sub.cert.subject);
    const v = await hubctlAsync(['--json', 'evidence', 'verify', out, '--trust', trustDir], env);
    expect(v.code).to.equal(1);
    const report = JSON.parse(v.out) as { checks: { name: string; ok: boolean; code?: string }[] };
    expect(report.checks.find((c) => c.name === 'bundle complete')).to.deep.include({
      ok: false,
      code: 'EVIDENCE_INCOMPLETE',
    });
  };

  // Step 4: hubctl crl refresh reports each source and fails while a CRL is stale or a fetch fails
  const step4 = async () => {
    // The served CRL is older than the stored lapsed one: the intermediate's source stays stale.
    const stale = await hubctlAsync(['crl', 'refresh', '--db', t.dbName], env);
    expect(stale.code, stale.out + stale.err).to.equal(1);
    expect(stale.out).to.contain(`STALE  crl:${sub.cert.subject}`);
    expect(stale.out).to.contain(`fresh  crl:${root.cert.subject}`);
    expect(stale.out).to.contain(`unchanged  ${base}/sub.crl`);

    served['/sub.crl'] = await crl(sub, new Date(Date.now() - 10 * MIN), new Date(Date.now() + 23 * HOUR));
    const fresh = await hubctlAsync(['--json', 'crl', 'refresh', '--db', t.dbName], env);
    expect(fresh.code, fresh.out + fresh.err).to.equal(0);
    const report = JSON.parse(fresh.out) as {
      ok: boolean;
      sources: { source: string; stale: boolean; fetches: { url: string; ok: boolean }[] }[];
    };
    expect(report.ok).to.equal(true);
    // (the hub's own retries may have fetched the new CRL first: updated or unchanged, both fine)
    expect(report.sources.find((s) => s.source === `crl:${sub.cert.subject}`)).to.deep.include({
      stale: false,
      fetches: [
        {
          ...report.sources.find((s) => s.source === `crl:${sub.cert.subject}`)!.fetches[0]!,
          url: `${base}/sub.crl`,
          ok: true,
        },
      ],
    });

    down = true;
    try {
      const failed = await hubctlAsync(['crl', 'refresh', '--db', t.dbName], env);
      expect(failed.code).to.equal(1);
      expect(failed.out).to.contain(`FAILED     ${base}/root.crl: HTTP 503`);
      const status = await hubctlAsync(['crl', 'status', '--db', t.dbName], env);
      expect(status.code, 'stored CRLs still fresh: status is fine').to.equal(0);
    } finally {
      down = false;
    }
  };

  // Step 5: retries a failed fetch within seconds and fetches a CRL again before its nextUpdate (injected clock)
  const step5 = async () => {
    let now = new Date();
    const failures = async (url: string) =>
      (await t.hub.metrics.crlFetchFailures.get()).values.find((v) => v.labels.url === url)?.value ?? 0;
    const trust = await TrustStore.fromDirectory(trustDir, { now: () => now });
    const svc = new RevocationService(trust, t.hub.stores, createLogger('silent'), {
      crlUrls: [],
      fetchTimeoutMs: 5000,
      refresh: { periodMs: 300_000 },
      metrics: t.hub.metrics,
      now: () => now,
    });
    await svc.load();
    const rootUrl = `${base}/root.crl`;
    expect(await svc.refreshUrgent(), 'nothing urgent while fresh').to.deep.equal([]);

    down = true;
    const before = await failures(rootUrl);
    expect((await svc.fetchUrls([rootUrl]))[0]).to.deep.include({ ok: false, error: 'HTTP 503' });
    expect(await failures(rootUrl), 'hub_crl_fetch_failures_total{url}').to.be.greaterThan(before);
    await svc.refreshUrgent();
    expect(svc.nextDelayMs(), 'retry in 5 s, not the 5-minute period').to.equal(5_000);
    now = new Date(now.getTime() + 4_000);
    expect(await svc.refreshUrgent(), 'not yet').to.deep.equal([]);
    down = false; // the CRL server is back
    now = new Date(now.getTime() + 1_000);
    const retried = await svc.refreshUrgent();
    expect(retried.map((r) => [r.url, r.ok])).to.deep.equal([[rootUrl, true]]);

    // The root's CRL (thisUpdate −1 h, nextUpdate +23 h): due again at 80 % of its window.
    const rootCrl = trust.crlFor(root.cert)!;
    const early =
      rootCrl.thisUpdate.getTime() + 0.8 * (rootCrl.nextUpdate!.getTime() - rootCrl.thisUpdate.getTime());
    expect(svc.nextDelayMs()).to.equal(300_000); // far off: the period caps the wait
    now = new Date(early + 1_000);
    const earlyFetch = await svc.refreshUrgent();
    expect(earlyFetch.map((r) => [r.url, r.updated])).to.deep.include([rootUrl, false]);
    expect(svc.nextDelayMs(), 'nothing newer yet: again in 5 s').to.equal(5_000);
    served['/root.crl'] = await crl(root, new Date(early), new Date(early + 24 * HOUR));
    now = new Date(now.getTime() + 5_000);
    const renewed = await svc.refreshUrgent();
    expect(renewed.map((r) => [r.url, r.updated])).to.deep.include([rootUrl, true]);
    expect(svc.nextDelayMs()).to.equal(300_000);
  };

  // One story on one hub: the hub keeps the newest CRL it was given, so a later step cannot put an
  // older state back and the steps cannot run as separate cases in another order (issue 21).
  it('registers, exports evidence, stores a lapsed CRL, refreshes and retries: in this order', async () => {
    await step1();
    await step2();
    await step3();
    await step4();
    await step5();
  });
});
