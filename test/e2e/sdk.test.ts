/**
 * The agency SDK against the real hub (RabbitMQ + FerretDB): build → sign → encrypt → send → receive →
 * verify → decrypt → status → track; idempotent resend after a lost answer; retries through a flaky
 * proxy; revoke / update / replace helpers; directory lookups; receipt verification.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import {
  HubApiError,
  HubClient,
  SdkError,
  TrustStore,
  attachmentFromBuffer,
  attachmentFromFile,
  decryptEdxml,
  exportPkcs12,
  loadAgencyKey,
  newDocument,
  originalFromView,
  type AgencyKey,
  type RetryEvent,
} from '../../src/index.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { startFlakyProxy } from '../support/flaky-proxy.ts';

const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const pemKey = (code: string): AgencyKey =>
  loadAgencyKey({
    keyFile: path.join(CERTS, 'agencies', `${code}.key.pem`),
    certFile: path.join(CERTS, 'agencies', `${code}.pem`),
  });

describe('agency SDK against the real hub', function () {
  this.timeout(120_000);
  let t: TestHub;
  let trust: TrustStore;
  const dir = mkdtempSync(path.join(tmpdir(), 'sdk-e2e-'));
  const sdk = (code: string, extra: Partial<ConstructorParameters<typeof HubClient>[0]> = {}) =>
    new HubClient({
      baseUrl: t.url,
      systemId: `dms-${code}`,
      secret: `DEV-ONLY-secret-${code}`,
      trust,
      hubPins: t.hub.config.pki.hubPins,
      retry: { attempts: 5, baseDelayMs: 50, maxDelayMs: 500 },
      ...extra,
    });
  const admin = () =>
    new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });

  async function waitInbox(c: HubClient, documentId: string, type: 'edoc' | 'status' = 'edoc') {
    return eventually(
      async () => (await c.inbox({ type })).items.find((i) => i.documentId === documentId),
      20_000,
      `${documentId} in the inbox`,
    );
  }

  before(async () => {
    t = await startTestHub('sdk');
    trust = await TrustStore.fromDirectory(CERTS);
  });
  after(async () => {
    await t?.close();
  });

  it('round trip: build, encrypt for recipients from the directory, sign, send (verified receipt), poll, receive, verify, decrypt, status, track', async () => {
    const pdf = path.join(dir, 'to-trinh.pdf');
    writeFileSync(pdf, randomBytes(4000));
    const msg = newDocument({
      from: 'H29.001',
      to: ['H41.001', 'D41.001'],
      notation: 'UBND-VP',
      subject: 'Tờ trình sắp xếp đơn vị hành chính',
      priority: 1,
      dueDate: new Date(Date.now() + 3 * 86_400_000),
      signerInfo: { competence: 'TM. UBND', position: 'Chủ tịch', fullName: 'Nguyễn Văn A' },
      attachments: [attachmentFromFile(pdf), attachmentFromBuffer('phu-luc.xlsx', randomBytes(300))],
    });
    const sent = await sdk('H29.001').send(msg, pemKey('H29.001'), { encrypt: true });
    expect(sent.httpStatus).to.equal(202);
    expect(sent.encryptedFor).to.deep.equal(['H41.001', 'D41.001']);
    expect(sent.verifiedReceipt).to.include({ documentId: msg.documentId, sha256: sent.sha256 });
    expect(sent.signedXml).to.contain('xenc:EncryptedData');
    expect(sent.signedXml).to.not.contain(msg.attachments[0]!.contentBase64.slice(0, 40));

    // the recipient holds its key in a PKCS#12 file
    const p12 = path.join(dir, 'H41.001.p12');
    writeFileSync(p12, exportPkcs12(pemKey('H41.001'), 'p12-password'));
    const b = sdk('H41.001');
    const bKey = loadAgencyKey({ p12, password: 'p12-password' });
    let item: Awaited<ReturnType<typeof waitInbox>> | undefined;
    for await (const i of b.poll({ type: 'edoc', intervalMs: 200, signal: AbortSignal.timeout(20_000) }))
      if (i.documentId === msg.documentId) {
        item = i;
        break;
      }
    expect(item, 'polled').to.not.equal(undefined);
    const got = await b.receive(item!.id, { key: bKey });
    expect(got.bytes.toString('utf8')).to.equal(sent.signedXml);
    expect(got.signer!.leaf.subject).to.contain('H29.001');
    expect(got.encrypted).to.equal(true);
    expect(got.message).to.deep.equal(msg);

    // an agency it was not encrypted for cannot read it
    expect(() => decryptEdxml(sent.signedXml, pemKey('M41.001'))).to.throw(
      /not encrypted for this certificate/,
    );
    // … and receive() says so as a local failure, not as a refusal by the hub
    const wrongKey = await b.receive(item!.id, { key: pemKey('M41.001') }).catch((e: unknown) => e);
    expect(wrongKey).to.be.instanceOf(SdkError);
    expect(wrongKey).to.include({ code: 'DECRYPTION_FAILED' });

    // statuses go to the sender; the delivery is acknowledged
    await b.sendStatus({ from: 'H41.001', original: got.message as typeof msg, code: '01' }, bKey);
    await b.sendStatus({ from: 'H41.001', original: msg, code: '03', description: 'Đã vào sổ' }, bKey);
    expect(await b.ack(item!.id)).to.include({ transport: 'acknowledged' });

    const a = sdk('H29.001');
    const st = await waitInbox(a, msg.documentId, 'status');
    const statusMsg = await a.receive(st.id);
    expect(statusMsg.message).to.include({ kind: 'status' });
    const rows = await a.statuses(sent.docId);
    const h41 = rows.find((r) => r.recipient === 'H41.001')!;
    expect(h41.status).to.equal('03');
    expect(h41.timeline.map((e) => e.code)).to.deep.equal(['01', '03']);
    expect(rows.find((r) => r.recipient === 'D41.001')!.status).to.equal(null);
    expect((await a.documentByDocumentId('H29.001', msg.documentId)).id).to.equal(sent.docId);
  });

  it('resending the same bytes is idempotent: same docId and the original receipt', async () => {
    const c = sdk('H29.001');
    const msg = newDocument({ from: 'H29.001', to: ['H41.001'], notation: 'VP', subject: 'Gửi lại' });
    const first = await c.send(msg, pemKey('H29.001'));
    const again = await c.submit(first.signedXml);
    expect(again.httpStatus).to.equal(200);
    expect(again.duplicate).to.equal(true);
    expect(again.docId).to.equal(first.docId);
    expect(again.receipt).to.equal(first.receipt);
    expect(await t.hub.stores.models.Document.countDocuments({ documentId: msg.documentId })).to.equal(1);
  });

  it('a lost answer (connection dropped after the hub accepted) is retried and answered with the original receipt', async () => {
    const proxy = await startFlakyProxy(t.url, (n) => (n === 1 ? 'lose-answer' : 'forward'));
    try {
      const events: RetryEvent[] = [];
      const c = sdk('H29.001', { baseUrl: proxy.url, onRetry: (e) => events.push(e) });
      const msg = newDocument({ from: 'H29.001', to: ['H41.001'], notation: 'VP', subject: 'Mất phản hồi' });
      const r = await c.send(msg, pemKey('H29.001'));
      expect(proxy.log.map((l) => [l.action, l.hubStatus])).to.deep.equal([
        ['lose-answer', 202],
        ['forward', 200],
      ]);
      expect(events).to.have.length(1);
      expect(r.duplicate).to.equal(true);
      expect(r.verifiedReceipt!.documentId).to.equal(msg.documentId);
      expect(r.receipt).to.equal((await sdk('H29.001').document(r.docId)).receipt);
      expect(await t.hub.stores.models.Document.countDocuments({ documentId: msg.documentId })).to.equal(1);
    } finally {
      await proxy.close();
    }
  });

  it('retries through 503s (hub unavailable twice) and then delivers', async () => {
    const proxy = await startFlakyProxy(t.url, (n) => (n <= 2 ? '503' : 'forward'));
    try {
      const events: RetryEvent[] = [];
      const c = sdk('H29.001', { baseUrl: proxy.url, onRetry: (e) => events.push(e) });
      const msg = newDocument({ from: 'H29.001', to: ['M41.001'], notation: 'VP', subject: 'Thử lại' });
      const r = await c.send(msg, pemKey('H29.001'));
      expect(r.httpStatus).to.equal(202);
      expect(events.map((e) => e.reason)).to.deep.equal(['HTTP 503 UNAVAILABLE', 'HTTP 503 UNAVAILABLE']);
      expect(proxy.log.filter((l) => l.action === 'forward')).to.have.length(1);
      await waitInbox(sdk('M41.001'), msg.documentId);
    } finally {
      await proxy.close();
    }
  });

  it('refusals carry the hub’s code and are not retried', async () => {
    const events: RetryEvent[] = [];
    const c = sdk('H29.001', { onRetry: (e) => events.push(e) });
    const msg = newDocument({ from: 'H29.001', to: ['X99.999'], notation: 'VP', subject: 'x' });
    const err = await c.send(msg, pemKey('H29.001')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HubApiError);
    expect((err as HubApiError).code).to.equal('UNKNOWN_RECIPIENT');
    // signed by another agency's key → SENDER_MISMATCH
    const other = newDocument({ from: 'H29.001', to: ['H41.001'], notation: 'VP', subject: 'y' });
    const err2 = await c.send(other, pemKey('D29.001')).catch((e: unknown) => e);
    expect((err2 as HubApiError).code).to.equal('SENDER_MISMATCH');
    expect(events).to.deep.equal([]);
  });

  it('a receipt that does not match what was sent is rejected (RECEIPT_MISMATCH)', async () => {
    const tampering: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input instanceof Request ? input.url : input).endsWith('/v1/documents')) return res;
      const body = (await res.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, documentId: 'H29.001,2026/01/01,1/FAKE' }), {
        status: res.status,
        headers: { 'content-type': 'application/json' },
      });
    };
    const c = sdk('H29.001', { fetch: tampering });
    const msg = newDocument({ from: 'H29.001', to: ['H41.001'], notation: 'VP', subject: 'Biên nhận' });
    const err = await c.send(msg, pemKey('H29.001')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SdkError);
    expect((err as SdkError).code).to.equal('RECEIPT_MISMATCH');
  });

  it('a receipt that does not verify says the hub may still have accepted the document, with its docId', async () => {
    const c = sdk('H29.001', { hubPins: ['00'.repeat(32)] });
    const msg = newDocument({
      from: 'H29.001',
      to: ['H41.001'],
      notation: 'VP',
      subject: 'Biên nhận ghim sai',
    });
    const err = (await c.send(msg, pemKey('H29.001')).catch((e: unknown) => e)) as SdkError;
    expect(err).to.be.instanceOf(SdkError);
    expect(err.code).to.equal('RECEIPT_INVALID');
    expect(err.details).to.include({ code: 'HUB_SIGNER_NOT_PINNED' });
    const docId = err.details!.docId as string;
    expect(err.message).to.contain(`may still have accepted the document: docId ${docId}`);
    expect(err.message).to.contain(msg.documentId);
    expect(err.hint).to.contain('look it up by its docId');
    expect(err.hint).to.not.match(/--|hubctl/);
    // and it was indeed accepted
    expect((await sdk('H29.001').document(docId)).documentId).to.equal(msg.documentId);
  });

  it('revokes a document: the recipient gets the pending recall, agrees with 15, the sender sees the chain', async () => {
    const a = sdk('H29.001');
    const b = sdk('H41.001');
    const original = newDocument({ from: 'H29.001', to: ['H41.001'], notation: 'VP', subject: 'Sẽ thu hồi' });
    const sent = await a.send(original, pemKey('H29.001'));
    await waitInbox(b, original.documentId);
    // a 16 before any recall: refused, saying what to do (vi/en)
    const early = (await b
      .sendStatus({ from: 'H41.001', original, code: '16' }, pemKey('H41.001'))
      .catch((e: unknown) => e)) as HubApiError;
    expect(early).to.be.instanceOf(HubApiError);
    expect(early.code).to.equal('STATUS_NO_PENDING_REQUEST');
    expect(early.message).to.contain('wait for the recall/update to arrive in the inbox');
    expect(early.messageVi).to.contain('hãy chờ văn bản thu hồi/cập nhật đến hộp thư');
    const rv = await a.revoke(original, pemKey('H29.001'), { from: 'H29.001', reason: 'Ban hành nhầm' });
    const rvItem = await waitInbox(b, rv.documentId);
    const recv = await b.receive(rvItem.id);
    expect(recv.message).to.deep.include({ business: rv.message.kind === 'edoc' ? rv.message.business : {} });
    // the recall names the original: answered from the recall alone (docs/sdk.md)
    const m = recv.message!;
    expect(m.kind === 'edoc' && m.business?.docType).to.equal(1);
    const recalled = m.kind === 'edoc' && m.business ? m.business.documentId! : '';
    expect(recalled).to.equal(original.documentId);
    let view = await a.document(sent.docId);
    expect(view.deliveries[0]!.pendingRequest).to.equal('recall');
    expect(view.chain![0]).to.include({ type: 'revoke', documentId: rv.documentId });
    await b.sendStatus(
      { from: 'H41.001', original: { senderCode: 'H29.001', documentId: recalled }, code: '15' },
      pemKey('H41.001'),
    );
    view = await a.document(sent.docId);
    expect(view.deliveries[0]!.status).to.equal('recalled');
  });

  it('updates recipients and replaces a document from the hub’s view of the original', async () => {
    const a = sdk('H29.001');
    const original = newDocument({
      from: 'H29.001',
      to: ['H41.001', 'D41.001'],
      notation: 'VP',
      subject: 'Gốc',
    });
    const sent = await a.send(original, pemKey('H29.001'));
    await waitInbox(sdk('D41.001'), original.documentId);
    await waitInbox(sdk('H41.001'), original.documentId);
    const ref = originalFromView(await a.document(sent.docId));
    expect(ref.recipients).to.have.members(['H41.001', 'D41.001']);
    const up = await a.update(ref, pemKey('H29.001'), {
      from: 'H29.001',
      subject: 'Gốc (cập nhật nơi nhận)',
      reason: 'Bổ sung nơi nhận',
      removeRecipients: ['D41.001'],
      addRecipients: ['M41.001'],
    });
    await waitInbox(sdk('M41.001'), up.documentId);
    let view = await a.document(sent.docId);
    const pending = Object.fromEntries(view.deliveries.map((d) => [d.recipient, d.pendingRequest]));
    expect(pending).to.deep.equal({ 'H41.001': 'update', 'D41.001': 'recall' });

    const rp = await a.replace(ref, pemKey('H29.001'), {
      from: 'H29.001',
      to: ['H41.001'],
      subject: 'Văn bản thay thế',
      reason: 'Sai số liệu',
    });
    await waitInbox(sdk('H41.001'), rp.documentId);
    view = await a.document(sent.docId);
    expect(view.chain!.map((c) => c.type)).to.deep.equal(['update', 'replace']);
  });

  it('looks up the directory: an agency, a search, certificates in force, keys of a merged unit’s successor', async () => {
    const c = sdk('H41.001');
    const ag = await c.agency('H41.001');
    expect(ag).to.include({ code: 'H41.001', block: 'state', status: 'active' });
    expect(ag.routing).to.include({ outcome: 'accepted' });
    const party = await c.searchAgencies({ block: 'party', limit: 50 });
    expect(party.items.map((i) => i.code)).to.include.members(['D29.001', 'D41.001']);
    expect(party.items.every((i) => i.block === 'party')).to.equal(true);
    const certs = await c.agencyCertificates('H29.001');
    expect(certs.certificates[0]!.fingerprintSha256).to.equal(pemKey('H29.001').fingerprintSha256);
    expect(certs.certificates[0]!.pem).to.contain('BEGIN CERTIFICATE');
    const closed = await c.agency('H29.21.01');
    expect(closed).to.include({ status: 'closed' });
    const keys = await c.recipientKeys(['H29.21.01']);
    expect(keys.map((k) => k.code)).to.deep.equal(['H29.001']);
    const missing = await c.agency('X99.999').catch((e: unknown) => e);
    expect((missing as HubApiError).code).to.equal('NOT_FOUND');
  });

  it('refuses to encrypt for a recipient without a certificate in force (RECIPIENT_CERT_MISSING), sending nothing', async () => {
    const fpM = (await sdk('M41.001').agencyCertificates('M41.001')).certificates[0]!.fingerprintSha256;
    const del = await admin().request('DELETE', `/v1/admin/agencies/M41.001/certificates/${fpM}`);
    expect(del.status, await del.text()).to.be.oneOf([200, 204]);
    const msg = newDocument({ from: 'H29.001', to: ['H41.001', 'M41.001'], notation: 'VP', subject: 'Mật' });
    const err = await sdk('H29.001')
      .send(msg, pemKey('H29.001'), { encrypt: true })
      .catch((e: unknown) => e);
    expect((err as SdkError).code).to.equal('RECIPIENT_CERT_MISSING');
    expect((err as SdkError).details).to.deep.equal({ code: 'M41.001' });
    expect(await t.hub.stores.models.Document.countDocuments({ documentId: msg.documentId })).to.equal(0);
  });
});
