/**
 * The national-axis compatible API (/vdxp) end to end, on a real hub (RabbitMQ + FerretDB), driven
 * by a client written from docs/vdxp-protocol.md alone (test/support/vdxp-sdk.ts): a commune's DMS
 * sends a signed edXML document, the recipient's DMS lists, gets, downloads and acknowledges it and
 * answers with a status message; the sender sees the status through the axis API and the hub's own.
 * Then every operation's success and failure shape.
 */
import { expect } from 'chai';
import { startTestHub, eventually, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { VdxpSdkClient, type SdkResponse } from '../support/vdxp-sdk.ts';
import { inOrder } from '../support/shuffle.ts';

type Envelope = {
  status: string;
  ErrorCode: string;
  ErrorDesc: string;
  DocId?: string;
  data?: unknown;
  count?: number;
  AgencyCode?: string;
};
type Received = {
  docId: string;
  serviceType: string;
  messageType: string;
  created_time: string;
  updated_time: string;
  from: string;
  to: string;
  status: string;
  status_desc: string;
  documentId: string;
};
type Sent = Record<string, string>;
type Unit = Record<string, string | number | boolean>;

/** Every JSON answer: HTTP 200, pure ASCII, the three envelope keys, no null anywhere. */
function envelope(r: SdkResponse): Envelope {
  expect(r.httpStatus).to.equal(200);
  expect(r.headers['content-type']).to.match(/^application\/json/);
  expect(/^[\x20-\x7e]*$/.test(r.body.toString('latin1')), 'ASCII-only body').to.equal(true);
  expect(r.body.toString()).to.not.match(/:null[,}\]]/);
  const e = r.json<Envelope>();
  expect(e).to.include.keys('status', 'ErrorCode', 'ErrorDesc');
  return e;
}

function ok(r: SdkResponse): Envelope {
  const e = envelope(r);
  expect(e, JSON.stringify(e)).to.include({ status: 'OK', ErrorCode: '0', ErrorDesc: 'Thành công' });
  return e;
}

function fail(r: SdkResponse, code: string): Envelope {
  const e = envelope(r);
  expect(e.status, JSON.stringify(e)).to.equal('FAIL');
  expect(e.ErrorCode, JSON.stringify(e)).to.equal(code);
  expect(e.ErrorDesc).to.be.a('string').and.not.equal('');
  expect(e).to.not.have.property('data');
  return e;
}

describe('national-axis API (/vdxp): a DMS on the axis SDK exchanges a document through the hub', function () {
  inOrder(this); // one exchange, step by step
  this.timeout(90_000);
  let t: TestHub;
  let endpoint: string;
  let A: VdxpSdkClient; // UBND phường Sài Gòn's DMS
  let B: VdxpSdkClient; // UBND xã Diễn Châu's DMS
  let admin: VdxpSdkClient;
  const msg = documentMessage('H29.001', ['H41.001']);
  let xml: string;
  let docId: string; // the DocId the sender got
  let receivedId: string; // the docId the recipient sees

  before(async () => {
    // registerAgency/deleteAgency are off by default (issue 18 §5, test/e2e/vdxp-admin.test.ts):
    // enabled here for the admin system and, to show the 'admin' right is still required, for B.
    t = await startTestHub('vdxp', {
      vdxp: {
        adminOperations: {
          enabled: true,
          allowedSystems: ['hub-admin', 'dms-H41.001'],
          allowedAddresses: ['127.0.0.1'],
        },
      },
    });
    endpoint = `${t.url}/vdxp`;
    A = new VdxpSdkClient(endpoint, 'dms-H29.001', 'DEV-ONLY-secret-H29.001');
    B = new VdxpSdkClient(endpoint, 'dms-H41.001', 'DEV-ONLY-secret-H41.001');
    admin = new VdxpSdkClient(endpoint, 'hub-admin', 'DEV-ONLY-secret-admin');
    xml = signed(msg, t.signingKey('H29.001'));
  });
  after(async () => {
    await t?.close();
  });

  it('sendEdoc: accepts the signed edXML (file + CRLF, unpadded hash-file) and answers its DocId', async () => {
    const r = await A.sendEdoc(
      '{"from":"H29.001","servicetype":"eDoc","messagetype":"edoc"}',
      Buffer.from(xml, 'utf8'),
    );
    const e = ok(r);
    expect(e.DocId).to.match(/^[0-9a-f-]{36}$/);
    docId = e.DocId!;
    // The same message as POST /v1/documents would have stored: the hub's document, signed receipt.
    const stored = await t.hub.stores.documents.get(docId);
    expect(stored).to.include({ documentId: msg.documentId, senderCode: 'H29.001', state: 'accepted' });
    expect(stored!.receipt).to.contain('Signature');
    // A retry of the same bytes (the SDK retries POSTs) answers the same DocId; nothing is duplicated.
    expect(ok(await A.sendEdoc('{"from":"H29.001"}', Buffer.from(xml, 'utf8'))).DocId).to.equal(docId);
    expect(await t.hub.stores.models.Delivery.countDocuments({ docId })).to.equal(1);
  });

  it('countReceiveEdoc and getReceivedEdocList: the recipient sees it waiting', async () => {
    const count = await eventually(
      async () => {
        const c = ok(await B.countReceiveEdoc());
        return (c.count ?? 0) > 0 ? c.count : null;
      },
      20_000,
      'the document in B’s inbox',
    );
    expect(count).to.equal(1);
    const list = await B.getReceivedEdocList('{"servicetype":"eDoc","messagetype":"edoc"}');
    expect(list.headers.connection).to.equal('close'); // the SDK never closes this client (§2)
    const items = ok(list).data as Received[];
    expect(items).to.have.length(1);
    const item = items[0]!;
    receivedId = item.docId;
    expect(receivedId).to.equal(`${docId}_H41.001`);
    expect(item).to.include({
      serviceType: 'eDoc',
      messageType: 'edoc',
      from: 'H29.001',
      to: 'H41.001',
      status: 'initial',
      documentId: msg.documentId,
    });
    expect(item.created_time).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(item.updated_time).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(item.status_desc).to.be.a('string');
    // Filtering by message type: no status message is waiting.
    expect(ok(await B.getReceivedEdocList('{"messagetype":"status"}')).data).to.deep.equal([]);
    // Only the recipient sees it.
    expect(ok(await A.getReceivedEdocList('{"messagetype":"edoc"}')).data).to.deep.equal([]);
  });

  it('getEdoc: the exact bytes, base64', async () => {
    const e = ok(await B.getEdoc(`{"filePath":"C:\\\\edoc\\\\in","docId":"${receivedId}"}`));
    expect(Buffer.from(e.data as string, 'base64').equals(Buffer.from(xml, 'utf8'))).to.equal(true);
  });

  it('downloadEdoc: the raw edXML bytes, not JSON', async () => {
    const r = await B.downloadEdoc(`{"filePath":"/var/edoc","docId":"${receivedId}"}`);
    expect(r.httpStatus).to.equal(200);
    expect(r.body.equals(Buffer.from(xml, 'utf8'))).to.equal(true);
    expect(r.headers.connection).to.equal('close');
  });

  it('updateStatus processing: recorded, the item stays listed as processing', async () => {
    ok(await B.updateStatus(`{"status":"processing","docid":"${receivedId}"}`));
    ok(await B.updateStatus(`{"status":"processing","docid":"${receivedId}"}`)); // idempotent
    const items = ok(await B.getReceivedEdocList('{"messagetype":"edoc"}')).data as Received[];
    expect(items.map((i) => [i.docId, i.status])).to.deep.equal([[receivedId, 'processing']]);
  });

  it('updateStatus done: the transport acknowledgement; the item leaves the list (retry-safe)', async () => {
    ok(await B.updateStatus(`{"status":"done","docId":"${receivedId}"}`));
    ok(await B.updateStatus(`{"status":"done","docId":"${receivedId}"}`)); // the SDK retries POSTs
    expect(ok(await B.getReceivedEdocList('{"messagetype":"edoc"}')).data).to.deep.equal([]);
    expect(ok(await B.countReceiveEdoc()).count).to.equal(0);
    const d = await t.hub.stores.deliveries.get(`${docId}:H41.001`);
    expect(d).to.deep.include({ transport: 'acknowledged', ack: { result: 'done' } });
    // The SDK object now carries docId, docid, filePath, status and hash-file from earlier calls
    // (quirk 1): still accepted, and none of them filters the counts.
    expect([...B.map.keys()]).to.include.members(['docId', 'docid', 'filePath', 'status']);
  });

  it('the recipient answers with a status message (sendEdoc, messagetype status)', async () => {
    const st = signed(statusMessage('H41.001', msg, '01'), t.signingKey('H41.001'));
    const e = ok(
      await B.sendEdoc(
        '{"from":"H41.001","servicetype":"eDoc","messagetype":"status"}',
        Buffer.from(st, 'utf8'),
      ),
    );
    expect(e.DocId).to.match(/^[0-9a-f-]{36}$/);
    // B's sent list (the stale received docId in its header map is not taken as a filter).
    const sent = ok(await B.getSentEdocList('{"servicetype":"eDoc","messagetype":"status"}')).data as Sent[];
    expect(sent.map((s) => [s.senderDocId, s.toCode, s.messageType])).to.deep.equal([
      [e.DocId, 'H29.001', 'status'],
    ]);
  });

  it('getSentEdocList: the sender sees the recipient’s acknowledgement and status 01', async () => {
    const sent = ok(await A.getSentEdocList(`{"servicetype":"eDoc","messagetype":"edoc","docId":"${docId}"}`))
      .data as Sent[];
    expect(sent).to.have.length(1);
    expect(sent[0]).to.include({
      serviceType: 'eDoc',
      messageType: 'edoc',
      senderDocId: docId,
      receiverDocId: receivedId,
      fromCode: 'H29.001',
      toCode: 'H41.001',
      title: msg.subject,
      notation: `${msg.code.codeNumber}/${msg.code.codeNotation}`,
      sendStatus: 'done',
      receiveStatus: '01',
      documentId: msg.documentId,
    });
    expect(sent[0]!.sentTime).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(sent[0]!.receivedTime).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // Without docId: every document the agency sent, newest first.
    const all = ok(await A.getSentEdocList('{"messagetype":"edoc"}')).data as Sent[];
    expect(all.map((s) => s.senderDocId)).to.include(docId);
  });

  it('the same status shows in the hub’s own API (GET /v1/documents/{id})', async () => {
    const view = await t.client('H29.001').document(docId);
    expect(view.deliveries).to.have.length(1);
    expect(view.deliveries[0]).to.include({ recipient: 'H41.001', transport: 'acknowledged', status: '01' });
  });

  it('the sender receives the relayed status message through the axis API and acknowledges it', async () => {
    const c = await eventually(
      async () => {
        const n = ok(await A.countReceiveStatus()).count ?? 0;
        return n > 0 ? n : null;
      },
      20_000,
      'the status in A’s inbox',
    );
    expect(c).to.equal(1);
    expect(ok(await A.countReceiveEdoc()).count).to.equal(0);
    const items = ok(await A.getReceivedEdocList('{"servicetype":"eDoc","messagetype":"status"}'))
      .data as Received[];
    expect(items).to.have.length(1);
    expect(items[0]).to.include({ messageType: 'status', from: 'H41.001', to: 'H29.001' });
    const e = ok(await A.getEdoc(`{"docId":"${items[0]!.docId}"}`));
    expect(Buffer.from(e.data as string, 'base64').toString('utf8')).to.contain(
      '<edXML:StatusCode>01</edXML:StatusCode>',
    );
    ok(await A.updateStatus(`{"docId":"${items[0]!.docId}","status":"done"}`));
    expect(ok(await A.countReceiveStatus()).count).to.equal(0);
  });

  it('updateStatus fail: acknowledged as failed with the reason', async () => {
    const m = documentMessage('H29.001', ['H41.001']);
    const e = ok(await A.sendEdoc('{"from":"H29.001"}', Buffer.from(signed(m, t.signingKey('H29.001')))));
    const id = `${e.DocId}_H41.001`;
    await eventually(
      async () => ((ok(await B.countReceiveEdoc()).count ?? 0) > 0 ? true : null),
      20_000,
      'delivery',
    );
    // The recipient's own DocId form works too (<hub docId> alone, for a system with one agency).
    ok(
      await B.updateStatus(
        `{"docId":"${e.DocId}","docid":"${e.DocId}","status":"fail","description":"khong doc duoc tep"}`,
      ),
    );
    const d = await t.hub.stores.deliveries.get(`${e.DocId}:H41.001`);
    expect(d?.ack).to.deep.equal({ result: 'fail', reason: 'khong doc duoc tep' });
    const sent = ok(await A.getSentEdocList(`{"docId":"${e.DocId}"}`)).data as Sent[];
    expect(sent[0]).to.include({ receiverDocId: id, sendStatus: 'fail' });
    expect(sent[0]!.sendStatusDesc).to.contain('khong doc duoc tep');
  });

  it('getSentEdocList: a recipient the hub could not route shows as a fail line (`to` as JSON text accepted)', async () => {
    const m = documentMessage('H29.001', ['H41.001', 'H99.999']);
    const sdk = new VdxpSdkClient(endpoint, 'dms-H29.001', 'DEV-ONLY-secret-H29.001');
    const e = ok(
      await sdk.sendEdoc(
        '{"from":"H29.001","to":["H41.001","H99.999"],"servicetype":"eDoc","messagetype":"edoc"}',
        Buffer.from(signed(m, t.signingKey('H29.001'))),
      ),
    );
    expect(sdk.map.get('to')).to.equal('["H41.001","H99.999"]');
    const lines = ok(await sdk.getSentEdocList(`{"docId":"${e.DocId}"}`)).data as Sent[];
    const byTo = new Map(lines.map((l) => [l.toCode, l]));
    expect(byTo.get('H41.001')).to.include({ senderDocId: e.DocId, receiverDocId: `${e.DocId}_H41.001` });
    expect(byTo.get('H99.999')).to.include({ senderDocId: e.DocId, sendStatus: 'fail' });
    expect(byTo.get('H99.999')).to.not.have.property('receiverDocId');
    // Leave B's inbox as it was for the next tests.
    await eventually(
      async () => ((ok(await B.countReceiveEdoc()).count ?? 0) > 0 ? true : null),
      20_000,
      'delivery',
    );
    ok(await B.updateStatus(`{"docId":"${e.DocId}_H41.001","docid":"${e.DocId}_H41.001","status":"done"}`));
  });

  // ---- failure shapes ---------------------------------------------------------------------------

  it('getEdoc, downloadEdoc and updateStatus refuse unknown documents and other agencies’ documents', async () => {
    const e = fail(await B.getEdoc('{"docId":"00000000-0000-4000-8000-000000000000_H41.001"}'), '404');
    expect(e.ErrorDesc).to.contain('[NOT_FOUND]');
    // A (the sender) cannot read B's delivery through the receiving side.
    fail(await A.getEdoc(`{"docId":"${receivedId}"}`), '404');
    const fresh = new VdxpSdkClient(endpoint, 'dms-H41.001', 'DEV-ONLY-secret-H41.001');
    fail(await fresh.getEdoc('{"filePath":"/tmp"}'), '400'); // no docId at all
    const dl = await A.downloadEdoc(`{"docId":"${receivedId}"}`);
    expect(dl.httpStatus).to.equal(404);
    expect(dl.body.length).to.equal(0); // any body would be saved as the document (§5.5)
    fail(await fresh.updateStatus(`{"docId":"${receivedId}","status":"archived"}`), '400');
    fail(await A.updateStatus(`{"docId":"${receivedId}","status":"done"}`), '404');
  });

  it('downloadEdoc2 (no XroadVnpt headers at all) is answered 401 with an empty body', async () => {
    const r = await B.downloadEdoc2();
    expect(r.httpStatus).to.equal(401);
    expect(r.body.length).to.equal(0);
  });

  it('every operation answers a wrong secret with the FAIL envelope (sendEdoc with DocId)', async () => {
    const bad = new VdxpSdkClient(endpoint, 'dms-H29.001', 'not-the-secret');
    const send = fail(await bad.sendEdoc('{"from":"H29.001"}', Buffer.from(xml)), '401');
    expect(send.DocId).to.equal('');
    for (const op of [
      'getReceivedEdocList',
      'getSentEdocList',
      'getEdoc',
      'updateStatus',
      'countReceiveEdoc',
      'countReceiveStatus',
      'getAgenciesList',
      'getAgenciesListQD20',
      'getSynchronizeUnit',
      'deleteAgency',
    ] as const) {
      const e = fail(await bad.call(op, '{}'), '401');
      expect(e.ErrorDesc, op).to.contain('[UNAUTHENTICATED]');
    }
    fail(await bad.registerAgency('{}', '{"name":"x","pcode":"H29"}'), '401');
    const dl = await bad.downloadEdoc(`{"docId":"${receivedId}"}`);
    expect([dl.httpStatus, dl.body.length]).to.deep.equal([401, 0]);
  });

  it('answers an unknown operation, and counts sent as GET, with envelopes', async () => {
    const sdk = new VdxpSdkClient(endpoint, 'dms-H41.001', 'DEV-ONLY-secret-H41.001');
    const signedReq = sdk.sign('countReceiveEdoc', '{}');
    const { rawRequest } = await import('../support/vdxp-sdk.ts');
    const viaGet = await rawRequest(
      sdk.endpoint,
      'countReceiveEdoc',
      'GET',
      signedReq.rawHeaders,
      Buffer.alloc(0),
      {
        noBody: true,
      },
    );
    expect(ok(viaGet).count).to.be.a('number');
    fail(
      await rawRequest(sdk.endpoint, 'getEdocList', 'POST', signedReq.rawHeaders, Buffer.alloc(0), {}),
      '404',
    );
  });

  // ---- directory --------------------------------------------------------------------------------

  it('getAgenciesList: active agencies with their parent and QCVN 102 code', async () => {
    const r = await B.getAgenciesList('{}');
    expect(r.headers.connection).to.equal('close');
    const items = ok(r).data as Unit[];
    const byCode = new Map(items.map((a) => [a.code, a]));
    expect(byCode.get('G22')).to.deep.include({
      id: 'G22',
      pid: '0',
      name: 'Văn phòng Chính phủ',
      oldCode: '000.00.00.G22',
    });
    expect(byCode.get('H29.001')).to.deep.include({ id: 'H29.001', pid: 'H29', name: 'UBND phường Sài Gòn' });
    expect(byCode.has('H29.21.01')).to.equal(false); // closed (merged) wards are not in the address book
  });

  it('getAgenciesListQD20: by level, with the QCVN 102 code as code102', async () => {
    const items = ok(await B.getAgenciesListQD20('{"level":"1"}')).data as Unit[];
    expect(items.map((a) => a.code)).to.include.members(['G22', 'H29', 'H41', 'D29']);
    expect(items.every((a) => !String(a.code).includes('.'))).to.equal(true);
    expect(items.find((a) => a.code === 'H41')).to.deep.include({ code102: '000.00.00.H41' });
    const level2 = ok(await B.getAgenciesListQD20('{"level":"2"}')).data as Unit[];
    expect(level2.map((a) => a.code))
      .to.include('H41.001')
      .and.not.include('H41');
    fail(await B.getAgenciesListQD20('{"level":"top"}'), '400');
  });

  it('getSynchronizeUnit: every unit with its version, closed ones deleted; fromVersion gives changes only', async () => {
    const items = ok(await B.getSynchronizeUnit('{}')).data as Unit[];
    const ward = items.find((a) => a.code === 'H29.21.01')!;
    expect(ward).to.include({
      deleted: true,
      pid: 'H29',
      centerCode: 'H29',
      isAgency: true,
      successors: 'H29.001',
    });
    const g22 = items.find((a) => a.code === 'G22')!;
    expect(g22).to.include({ deleted: false, centerCode: 'G22' });
    expect(g22.version).to.be.a('number');
    expect(g22.modifyDate).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const top = Math.max(...items.map((a) => a.version as number));
    const none = ok(
      await new VdxpSdkClient(endpoint, 'dms-H41.001', 'DEV-ONLY-secret-H41.001').getSynchronizeUnit(
        `{"fromVersion":"${top}"}`,
      ),
    );
    expect(none.data).to.deep.equal([]);
  });

  it('registerAgency and deleteAgency need the admin right', async () => {
    const e = fail(
      await B.registerAgency('{}', '{"id":"","pcode":"H41","code":"","name":"UBND xã Mới"}'),
      '403',
    );
    expect(e.ErrorDesc).to.contain('[FORBIDDEN]');
    fail(await B.deleteAgency('{"AgencyCode":"H41.001"}'), '403');
  });

  it('registerAgency: assigns the next code under the parent; a retry answers the same unit', async () => {
    const body = JSON.stringify({
      id: '',
      pcode: 'H41',
      code: '',
      name: 'UBND xã Thử Nghiệm',
      mail: 'thunghiem@example.invalid',
      mobile: '0238 3844 123',
      fax: '',
    });
    const first = ok(await admin.registerAgency('{}', body));
    expect(first.AgencyCode).to.match(/^H41\.\d{3}$/);
    const again = ok(await admin.registerAgency('{}', body));
    expect(again.AgencyCode).to.equal(first.AgencyCode);
    const { agency } = await t.hub.directory.get(first.AgencyCode!);
    expect(agency).to.deep.include({
      name: 'UBND xã Thử Nghiệm',
      parentCode: 'H41',
      block: 'state',
      status: 'active',
    });
    expect(agency.contact).to.deep.include({ email: 'thunghiem@example.invalid', phone: '0238 3844 123' });
    fail(await admin.registerAgency('{}', "{'name':'not json'}"), '400');
    fail(await admin.registerAgency('{}', '{"pcode":"H99","name":"x"}'), '400');
    // A code already issued to another unit is never reused.
    fail(await admin.registerAgency('{}', '{"pcode":"H41","code":"H41.001","name":"Khác"}'), '409');
  });

  it('deleteAgency: closes the unit (codes are never reused); idempotent; unknown codes refused', async () => {
    const reg = ok(await admin.registerAgency('{}', '{"pcode":"H29","name":"UBND phường Tạm"}'));
    const code = reg.AgencyCode!;
    ok(await admin.deleteAgency(`{"AgencyCode":"${code}"}`));
    ok(await admin.deleteAgency(`{"AgencyCode":"${code}"}`));
    const { agency } = await t.hub.directory.get(code);
    expect(agency.status).to.equal('closed');
    const listed = ok(await B.getAgenciesList('{}')).data as Unit[];
    expect(listed.map((a) => a.code)).to.not.include(code);
    fail(await admin.deleteAgency('{"AgencyCode":"H99.999"}'), '404');
    fail(await new VdxpSdkClient(endpoint, 'hub-admin', 'DEV-ONLY-secret-admin').deleteAgency('{}'), '400');
  });
});
