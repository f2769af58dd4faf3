/**
 * The end-to-end slice (issue: foundation): a commune sends a signed document through the real hub,
 * real RabbitMQ and real FerretDB; the recipient pulls, verifies, acknowledges and reports status.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startTestHub, eventually, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { HubApiError, type HubClient } from '../../src/sdk/client.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { verifyEdxml } from '../../src/crypto/signature.ts';
import { verifyReceipt } from '../../src/crypto/receipt.ts';
import { PROJECT_ROOT } from '../../src/config.ts';

async function refusal(p: Promise<unknown>): Promise<HubApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(HubApiError);
    return err as HubApiError;
  }
  throw new Error('expected the hub to refuse');
}

describe('end-to-end slice: one document from a commune to another, and its status back', function () {
  this.timeout(60_000);
  let t: TestHub;
  let A: HubClient; // UBND phường Sài Gòn
  let B: HubClient; // UBND xã Diễn Châu
  let trust: TrustStore;

  before(async () => {
    t = await startTestHub('slice');
    A = t.client('H29.001');
    B = t.client('H41.001');
    trust = await TrustStore.fromDirectory(path.join(PROJECT_ROOT, 'certs-dev'));
  });
  after(async () => {
    await t?.close();
  });

  /** A counter's current value for `labels` (the hub's own registry): tests compare before and after. */
  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await t.hub.metrics.registry.getSingleMetric(name)!.get();
    const v = metric.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
    return v?.value ?? 0;
  }

  async function counts() {
    const m = t.hub.stores.models;
    return {
      documents: await m.Document.countDocuments(),
      deliveries: await m.Delivery.countDocuments(),
      outbox: await m.Outbox.countDocuments(),
      payloads: await m.PayloadChunk.countDocuments(),
    };
  }

  it('delivers a signed document to the recipient inbox, byte for byte, with a hub-signed receipt', async () => {
    const msg = documentMessage('H29.001', ['H41.001']);
    const xml = signed(msg, t.signingKey('H29.001'));
    const acceptedBefore = await counter('hub_documents_accepted_total', { type: 'edoc' });
    const r = await A.submit(xml);
    expect(r.httpStatus).to.equal(202);
    expect(r.documentId).to.equal(msg.documentId);
    expect(r.recipients).to.deep.equal([{ code: 'H41.001', outcome: 'accepted', deliveredTo: 'H41.001' }]);

    const receipt = await verifyReceipt(r.receipt, { trust, pins: t.hub.config.pki.hubPins });
    expect(receipt.documentId).to.equal(msg.documentId);
    expect(receipt.sha256).to.equal(r.sha256);

    const item = await eventually(
      async () => (await B.inbox({ type: 'edoc' })).items.find((i) => i.documentId === msg.documentId),
      15_000,
      'the document in B’s inbox',
    );
    expect(item.from).to.equal('H29.001');
    const bytes = await B.download(item.id);
    expect(bytes.equals(Buffer.from(xml, 'utf8'))).to.equal(true);
    const verified = await verifyEdxml(bytes, trust);
    expect(verified.signer.leaf.subject).to.contain('H29.001');

    const ack = await B.ack(item.id);
    expect(ack.transport).to.equal('acknowledged');
    expect((await B.inbox({ type: 'edoc' })).items.find((i) => i.id === item.id)).to.equal(undefined);

    // B reports 01 (arrived); A sees it on the document and receives the status message.
    const st = await B.submit(signed(statusMessage('H41.001', msg, '01'), t.signingKey('H41.001')));
    expect(st.httpStatus).to.equal(202);
    expect(st.messageType).to.equal('status');
    const view = await A.document(r.docId);
    expect(view.deliveries).to.have.length(1);
    expect(view.deliveries[0]!.transport).to.equal('acknowledged');
    expect(view.deliveries[0]!.status).to.equal('01');
    expect(view.deliveries[0]!.timeline.map((e) => e.code)).to.deep.equal(['01']);
    const relayed = await eventually(
      async () => (await A.inbox({ type: 'status' })).items.find((i) => i.documentId === msg.documentId),
      15_000,
      'the status in A’s inbox',
    );
    expect(relayed.from).to.equal('H41.001');
    const statusBytes = await A.download(relayed.id);
    expect(statusBytes.toString('utf8')).to.contain('<edXML:StatusCode>01</edXML:StatusCode>');

    // The hub's metrics and audit chain saw it all.
    expect(await counter('hub_documents_accepted_total', { type: 'edoc' })).to.equal(acceptedBefore + 1);
    // Where its submission's time went, stage by stage.
    const stages = await t.hub.metrics.registry.getSingleMetricAsString('hub_submission_stage_seconds');
    for (const s of ['verify', 'checks', 'store', 'publish', 'outbox'])
      expect(stages).to.match(new RegExp(`_count{stage="${s}"} [1-9]`));
    // And the worker's listing writes after the availability stamp (both deliveries were pulled).
    const listing = await t.hub.metrics.registry.getSingleMetricAsString('hub_delivery_listing_seconds');
    expect(listing).to.match(/hub_delivery_listing_seconds_count [1-9]/);
    expect((await t.hub.stores.audit.verify()).ok).to.equal(true);
  });

  it('answers a resubmission of the same bytes with the original receipt, and different bytes with 409', async () => {
    const msg = documentMessage('H29.001', ['H41.001']);
    const xml = signed(msg, t.signingKey('H29.001'));
    const first = await A.submit(xml);
    const again = await A.submit(xml);
    expect(again.httpStatus).to.equal(200);
    expect(again.duplicate).to.equal(true);
    expect(again.receipt).to.equal(first.receipt);
    const before = await counts();
    const other = signed({ ...msg, subject: 'Nội dung khác' }, t.signingKey('H29.001'));
    const e = await refusal(A.submit(other));
    expect(e.status).to.equal(409);
    expect(e.code).to.equal('DUPLICATE_CONFLICT');
    expect(await counts()).to.deep.equal(before);
  });

  it('answers a resubmission with the original receipt even after its recipient closed', async () => {
    // The replay check and the recipients' lookups are made at once; the replay must still win.
    // A unit of its own, registered and closed here: the seeded agencies stay as the others expect.
    const { agency } = await t.hub.directory.register('test', {
      name: `UBND xã Thử Đóng ${randomBytes(3).toString('hex')}`,
      block: 'state',
      kind: 'commune-people-committee',
      province: 'H41',
    });
    const msg = documentMessage('H29.001', [agency.code]);
    const xml = signed(msg, t.signingKey('H29.001'));
    const first = await A.submit(xml);
    expect(first.recipients[0]).to.include({ code: agency.code, outcome: 'accepted' });
    await t.hub.directory.close('test', agency.code, { reason: 'dissolved (test)' });
    const again = await A.submit(xml);
    expect(again.duplicate).to.equal(true);
    expect(again.receipt).to.equal(first.receipt);
    // A new document to it is refused now: the directory change is in effect.
    const e = await refusal(
      A.submit(signed(documentMessage('H29.001', [agency.code]), t.signingKey('H29.001'))),
    );
    expect(e.code).to.equal('UNKNOWN_RECIPIENT');
  });

  it('reroutes a document addressed to a merged ward to its successor and records the reroute', async () => {
    const msg = documentMessage('H41.001', ['000.01.21.H29']);
    const r = await B.submit(signed(msg, t.signingKey('H41.001')));
    expect(r.recipients[0]).to.include({
      code: '000.01.21.H29',
      outcome: 'rerouted',
      deliveredTo: 'H29.001',
    });
    const item = await eventually(
      async () => (await A.inbox()).items.find((i) => i.documentId === msg.documentId),
      15_000,
      'rerouted document',
    );
    expect(item.to).to.equal('H29.001');
    const view = await B.document(r.docId);
    expect(view.deliveries[0]).to.include({ recipient: 'H29.001', requestedCode: '000.01.21.H29' });
  });

  it('refuses a status that skips acceptance (05 before 03) with STATUS_TRANSITION_INVALID', async () => {
    const msg = documentMessage('H29.001', ['H41.001']);
    await A.submit(signed(msg, t.signingKey('H29.001')));
    await eventually(
      async () => (await B.inbox()).items.find((i) => i.documentId === msg.documentId),
      15_000,
      'delivery',
    );
    const e = await refusal(B.submit(signed(statusMessage('H41.001', msg, '05'), t.signingKey('H41.001'))));
    expect(e.code).to.equal('STATUS_TRANSITION_INVALID');
  });

  it('refuses a status from an agency that never received the document', async () => {
    const msg = documentMessage('H29.001', ['H41.001']);
    await A.submit(signed(msg, t.signingKey('H29.001')));
    const D = t.client('D41.001');
    const e = await refusal(D.submit(signed(statusMessage('D41.001', msg, '01'), t.signingKey('D41.001'))));
    expect(e.code).to.equal('STATUS_UNKNOWN_DOCUMENT');
  });

  describe('refusals store and relay nothing', () => {
    let before: Awaited<ReturnType<typeof counts>>;
    beforeEach(async () => {
      // Whatever earlier tests published has left the outbox: only this test's refusal may count.
      await eventually(async () => (await counts()).outbox === 0 || undefined, 15_000, 'an empty outbox');
      before = await counts();
    });
    afterEach(async () => {
      expect(await counts()).to.deep.equal(before);
    });

    it('refuses a message whose body changed after signing (SIGNATURE_INVALID)', async () => {
      const xml = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001'));
      const tampered = xml.replace('V/v triển khai', 'V/v hủy bỏ');
      expect(tampered).to.not.equal(xml);
      expect((await refusal(A.submit(tampered))).code).to.equal('SIGNATURE_INVALID');
    });

    it('refuses a message signed with another agency’s certificate (SENDER_MISMATCH)', async () => {
      const xml = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('D29.001'));
      const e = await refusal(A.submit(xml));
      expect(e.code).to.equal('SENDER_MISMATCH');
      expect(e.status).to.equal(422);
    });

    it('refuses a document whose only recipient is unknown (UNKNOWN_RECIPIENT)', async () => {
      const e = await refusal(
        A.submit(signed(documentMessage('H29.001', ['X99.123']), t.signingKey('H29.001'))),
      );
      expect(e.code).to.equal('UNKNOWN_RECIPIENT');
      expect(e.message).to.contain('X99.123');
    });

    it('refuses a signed message that breaks a QCVN 102 rule (SCHEMA_INVALID, with the element)', async () => {
      const msg = documentMessage('H29.001', ['H41.001'], { dueDate: '30/11/2026' });
      const e = await refusal(A.submit(signed(msg, t.signingKey('H29.001'))));
      expect(e.code).to.equal('SCHEMA_INVALID');
      expect(e.status).to.equal(422);
      expect(e.message).to.contain('MessageHeader/DueDate must be yyyy/MM/dd, got "30/11/2026"');
    });

    it('refuses malformed XML (XML_MALFORMED)', async () => {
      const e = await refusal(
        A.submit('<?xml version="1.0"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><a></edXML>'),
      );
      expect(e.code).to.equal('XML_MALFORMED');
      expect(e.status).to.equal(400);
    });

    it('refuses a DOCTYPE with entities (XML_DOCTYPE_FORBIDDEN)', async () => {
      const xml =
        '<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML>&x;</edXML>';
      expect((await refusal(A.submit(xml))).code).to.equal('XML_DOCTYPE_FORBIDDEN');
    });

    it('refuses a caller without valid credentials (401) before reading the message', async () => {
      const { HubClient } = await import('../../src/sdk/client.ts');
      const intruder = new HubClient({ baseUrl: t.url, systemId: 'dms-H29.001', secret: 'wrong' });
      const e = await refusal(
        intruder.submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001'))),
      );
      expect(e.status).to.equal(401);
      expect(e.code).to.equal('UNAUTHENTICATED');
    });

    it('refuses a system sending on behalf of another agency (CALLER_MISMATCH)', async () => {
      const e = await refusal(
        B.submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001'))),
      );
      expect(e.code).to.equal('CALLER_MISMATCH');
    });
  });

  describe('operations', () => {
    it('serves health and readiness, and Prometheus metrics on the ops port only', async () => {
      // A refusal of its own, so that the refusal counter has a series whatever ran before.
      const tampered = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')).replace(
        'V/v triển khai',
        'V/v hủy bỏ',
      );
      expect((await refusal(A.submit(tampered))).code).to.equal('SIGNATURE_INVALID');
      expect((await fetch(`${t.url}/healthz`)).status).to.equal(200);
      const ready = (await (await fetch(`${t.url}/readyz`)).json()) as { checks: Record<string, boolean> };
      expect(ready.checks).to.deep.equal({ mongodb: true, rabbitmq: true });
      expect(t.hub.healthUrl).to.not.equal(t.url);
      expect((await fetch(`${t.url}/metrics`)).status).to.equal(404);
      expect((await fetch(`${t.hub.healthUrl}/readyz`)).status).to.equal(200);
      const metrics = await (await fetch(`${t.hub.healthUrl}/metrics`)).text();
      expect(metrics).to.contain('hub_documents_refused_total{code="SIGNATURE_INVALID"}');
      expect(metrics).to.contain('hub_delivery_latency_seconds_bucket');
    });
  });
});
