/** Evidence bundles: exported by the hub, verified offline by hubctl; tampering is detected. */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { hubctl } from '../support/hubctl.ts';
import { eventually, startTestHub, withoutDocumentIdRule, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';

describe('evidence bundles', function () {
  this.timeout(60_000);
  let t: TestHub;
  let docId: string;
  let zip: Buffer;
  const dir = mkdtempSync(path.join(tmpdir(), 'evidence-'));

  before(async () => {
    t = await startTestHub('evidence');
    const A = t.client('H29.001');
    const B = t.client('H41.001');
    const msg = documentMessage('H29.001', ['H41.001']);
    docId = (await A.submit(signed(msg, t.signingKey('H29.001')))).docId;
    await eventually(async () => (await B.inbox()).items.length > 0, 15_000, 'delivery');
    await B.submit(signed(statusMessage('H41.001', msg, '01'), t.signingKey('H41.001')));
    await B.submit(signed(statusMessage('H41.001', msg, '03'), t.signingKey('H41.001')));
    const res = await A.request('GET', `/v1/documents/${docId}/evidence`);
    expect(res.status).to.equal(200);
    zip = Buffer.from(await res.arrayBuffer());
  });
  after(async () => {
    await t?.close();
  });

  it('contains the signed message, the receipt, both status messages, certificates and CRLs', () => {
    const names = Object.keys(unzipSync(zip)).sort();
    expect(names).to.include.members([
      'manifest.json',
      'message.edxml',
      'receipt.xml',
      'statuses/001.edxml',
      'statuses/002.edxml',
    ]);
    expect(names.filter((n) => n.startsWith('certs/')).length).to.be.greaterThanOrEqual(3);
    expect(names.filter((n) => n.startsWith('crl/')).length).to.be.greaterThanOrEqual(1);
  });

  it('verifies offline with hubctl evidence verify', () => {
    const file = path.join(dir, 'ok.zip');
    writeFileSync(file, zip);
    const r = hubctl(['evidence', 'verify', file]);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('verified');
    expect(r.out).to.contain('ok    receipt covers the message');
  });

  it('fails verification when a file in the bundle was altered', () => {
    const files = unzipSync(zip);
    const msg = Buffer.from(files['message.edxml']!)
      .toString('utf8')
      .replace('Nội dung công văn', 'Nội dung khác');
    files['message.edxml'] = new Uint8Array(Buffer.from(msg));
    const file = path.join(dir, 'bad.zip');
    writeFileSync(file, zipSync(files));
    const r = hubctl(['--json', 'evidence', 'verify', file]);
    expect(r.code).to.equal(1);
    const report = JSON.parse(r.out) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.ok).to.equal(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).to.include.members([
      'hash message.edxml',
      'message signature',
    ]);
  });

  it('holds only the statuses about its own document, not those about another agency’s document with the same DocumentId', async () => {
    // M29.001 holds a copy of H29.001's DocumentId (accepted before the rule existed); D41.001
    // receives H29.001's real document and reports on it to H29.001.
    const real = documentMessage('H29.001', ['D41.001']);
    const X = t.client('M29.001');
    const squat = await withoutDocumentIdRule(() =>
      X.submit(
        signed(
          documentMessage('M29.001', ['H41.001'], { documentId: real.documentId }),
          t.signingKey('M29.001'),
        ),
      ),
    );
    await t.client('H29.001').submit(signed(real, t.signingKey('H29.001')));
    const Z = t.client('D41.001');
    await eventually(
      async () => (await Z.inbox()).items.some((i) => i.documentId === real.documentId),
      15_000,
      'delivery to D41.001',
    );
    for (const code of ['01', '03'] as const)
      await Z.submit(signed(statusMessage('D41.001', real, code), t.signingKey('D41.001')));
    const res = await X.request('GET', `/v1/documents/${squat.docId}/evidence`);
    expect(res.status).to.equal(200);
    const names = Object.keys(unzipSync(Buffer.from(await res.arrayBuffer())));
    expect(names).to.include('message.edxml');
    expect(names.filter((n) => n.startsWith('statuses/'))).to.deep.equal([]);
  });

  it('is not available to an agency that is not a party to the document', async () => {
    const res = await t.client('M29.001').request('GET', `/v1/documents/${docId}/evidence`);
    expect(res.status).to.equal(404);
  });
});
