/**
 * `npm run demo` (scripts/demo.ts) as a child process against an in-process test hub: it registers a
 * missing dev certificate, sends documents between the three blocks, answers with statuses, recalls
 * one, prints its summary and exits 0 by itself; the hub holds the documents and statuses it reports.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { HubClient } from '../../src/sdk/client.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

function runDemo(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', path.join(PROJECT_ROOT, 'scripts/demo.ts'), ...args],
      { env: { ...process.env, LOG_LEVEL: 'silent' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

interface Summary {
  settled: boolean;
  sent: number;
  encrypted: number;
  received: number;
  statuses: Record<string, number>;
  statusesRelayed: number;
  revocationsSent: number;
  revocationsReceived: number;
  errors: Record<string, number>;
  certificatesRegistered: string[];
  documents: {
    docId: string;
    documentId: string;
    from: string;
    to: string[];
    encrypted: boolean;
    recall: boolean;
  }[];
  hub: { documents: number; deliveries: number; byStatus: Record<string, number> };
}

describe('npm run demo', function () {
  this.timeout(600_000);
  let t: TestHub;
  before(async () => {
    t = await startTestHub('demo');
  });
  after(async () => {
    await t?.close();
  });

  it('registers a missing dev certificate, simulates traffic between the three blocks, prints its summary and exits 0', async () => {
    // M29.001 (Front) lost its certificate: the demo must register it again
    const admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
    const c = new HubClient({ baseUrl: t.url, systemId: 'dms-M29.001', secret: 'DEV-ONLY-secret-M29.001' });
    const fp = (await c.agencyCertificates('M29.001')).certificates[0]!.fingerprintSha256;
    await admin.call('DELETE', `/v1/admin/agencies/M29.001/certificates/${fp}`);
    expect((await c.agencyCertificates('M29.001')).certificates).to.deep.equal([]);

    const file = path.join(mkdtempSync(path.join(tmpdir(), 'demo-')), 'summary.json');
    const r = await runDemo([
      '--hub',
      t.url,
      '--documents',
      '8',
      '--agencies',
      'H29.001,D41.001,M29.001,H41.001',
      '--seed',
      '7',
      '--every',
      '1',
      '--summary-json',
      file,
    ]);
    expect(r.code, `${r.out}\n${r.err}`).to.equal(0);

    // what it printed
    expect(r.out).to.contain('registered the dev certificate of M29.001');
    expect(r.out).to.match(
      /demo agencies: H29\.001 \(state\), D41\.001 \(party\), M29\.001 \(front\), H41\.001 \(state\)/,
    );
    expect(r.out).to.match(/\[\s*\d+s\] sent \d+\/8/); // periodic progress lines (stdout is not a terminal)
    expect(r.out).to.contain('=== demo summary');
    expect(r.out).to.match(/agency\s+block\s+sent\s+received\s+acked/);
    expect(r.out).to.match(/documents sent 8 \(encrypted \d+/);
    expect(r.out).to.match(/recall: 1 revocation sent, received by 1, answered 15 by 1/);
    expect(r.out).to.contain('errors: none');
    expect(r.out).to.not.contain('NOT SETTLED');

    // what it reported
    const s = JSON.parse(readFileSync(file, 'utf8')) as Summary;
    expect(s.settled).to.equal(true);
    expect(s.sent).to.equal(8);
    expect(s.certificatesRegistered).to.deep.equal(['M29.001']);
    expect(s.statuses['01']).to.be.greaterThan(0);
    expect(s.statuses['15']).to.equal(1);
    const totalStatuses = Object.values(s.statuses).reduce((a, b) => a + b, 0);
    expect(s.statusesRelayed).to.be.at.least(totalStatuses);
    expect(s.errors).to.deep.equal({});
    const senders = new Set(s.documents.map((d) => d.from[0]));
    const everyone = new Set(s.documents.flatMap((d) => [d.from, ...d.to]).map((c) => c[0]));
    expect([...everyone].sort()).to.deep.equal(['D', 'H', 'M']); // the three blocks took part
    expect(senders.size).to.be.greaterThan(1);

    // what the hub holds
    const m = t.hub.stores.models;
    expect((await c.agencyCertificates('M29.001')).certificates).to.have.length(1);
    for (const d of s.documents) {
      const doc = await m.Document.findById(d.docId).lean<{ state: string; messageType: string }>();
      expect(doc, d.documentId).to.include({ state: 'accepted', messageType: 'edoc' });
    }
    // 8 documents + 1 revocation; one status document per status sent
    expect(await m.Document.countDocuments({ messageType: 'edoc' })).to.equal(9);
    expect(await m.Document.countDocuments({ messageType: 'status' })).to.equal(totalStatuses);
    const recalled = s.documents.find((d) => d.recall)!;
    const view = await new HubClient({
      baseUrl: t.url,
      systemId: `dms-${recalled.from}`,
      secret: `DEV-ONLY-secret-${recalled.from}`,
    }).document(recalled.docId);
    expect(view.deliveries[0]!.status).to.equal('recalled');
    expect(view.chain![0]!.type).to.equal('revoke');
    expect(s.hub.byStatus.recalled).to.equal(1);
    expect(Object.values(s.hub.byStatus).reduce((a, b) => a + b, 0)).to.equal(s.hub.deliveries);
  });

  it('exits 4 with a hint when no hub answers', async () => {
    const r = await runDemo(['--hub', 'http://127.0.0.1:9', '--documents', '1']);
    expect(r.code).to.equal(4);
    expect(r.err).to.contain('HUB_UNREACHABLE');
    expect(r.err).to.contain('hint: start the hub');
  });
});
