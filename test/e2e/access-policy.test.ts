/**
 * One access policy (src/access/policy.ts) decides on every surface: H29.001 sends to D29.001; on
 * /v1, /vdxp and /ui the recipient sees its delivery and a stranger (H41.001's system, H41.001's
 * clerk) gets NOT_FOUND, the same answer as for a document that does not exist.
 */
import { expect } from 'chai';
import { request, type APIRequestContext } from 'playwright-core';
import { startTestHub, eventually, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { VdxpSdkClient } from '../support/vdxp-sdk.ts';
import { HubApiError } from '../../src/sdk/client.ts';

const MISSING = '00000000-0000-0000-0000-000000000000';
const SUBJECT = 'Văn bản chỉ gửi Đảng ủy phường Sài Gòn (chính sách truy cập)';

async function uiSession(url: string, username: string, password: string): Promise<APIRequestContext> {
  const ctx = await request.newContext({ baseURL: url });
  const form = await (await ctx.get('/ui/login')).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1];
  expect(csrf, 'login form token').to.be.a('string');
  const r = await ctx.post('/ui/login', { form: { username, password, _csrf: csrf! }, maxRedirects: 0 });
  expect(r.status(), await r.text()).to.equal(303);
  return ctx;
}

describe('access policy on /v1, /vdxp and /ui', function () {
  this.timeout(120_000);
  let t: TestHub;
  let docId: string;
  let deliveryId: string;
  let ui: APIRequestContext[] = [];

  before(async () => {
    t = await startTestHub('access-policy');
    const r = await t
      .client('H29.001')
      .submit(signed(documentMessage('H29.001', ['D29.001'], { subject: SUBJECT }), t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    docId = r.docId;
    deliveryId = (
      await eventually(
        async () => (await t.client('D29.001').inbox({ type: 'edoc' })).items.find((i) => i.docId === docId),
        20_000,
        'the delivery in the recipient inbox',
      )
    ).id;
  });
  after(async () => {
    for (const c of ui) await c.dispose().catch(() => undefined);
    ui = [];
    await t?.close();
  });

  const notFound = async (p: Promise<unknown>): Promise<void> => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HubApiError);
    expect((err as HubApiError).status).to.equal(404);
    expect((err as HubApiError).code).to.equal('NOT_FOUND');
  };

  it('/v1: the sender and the recipient see the document; a stranger gets 404 as for a missing one', async () => {
    expect((await t.client('H29.001').document(docId)).deliveries).to.have.length(1);
    expect((await t.client('D29.001').document(docId)).deliveries).to.have.length(1);
    const stranger = t.client('H41.001');
    await notFound(stranger.document(docId));
    await notFound(stranger.document(MISSING));
    await notFound(stranger.download(deliveryId));
    await notFound(stranger.ack(deliveryId));
  });

  it('/vdxp: the recipient reads the document; a stranger gets 404 as for a missing one', async () => {
    const endpoint = `${t.url}/vdxp`;
    const recipient = new VdxpSdkClient(endpoint, 'dms-D29.001', 'DEV-ONLY-secret-D29.001');
    const stranger = new VdxpSdkClient(endpoint, 'dms-H41.001', 'DEV-ONLY-secret-H41.001');
    const got = await recipient.getEdoc(`{"docId":"${deliveryId}"}`);
    expect(got.json<{ status: string }>().status).to.equal('OK');
    for (const id of [deliveryId, docId, MISSING]) {
      const e = (await stranger.getEdoc(`{"docId":"${id}"}`)).json<{ status: string; ErrorCode: string }>();
      expect(e, id).to.include({ status: 'FAIL', ErrorCode: '404' });
      const s = (await stranger.updateStatus(`{"docId":"${id}","status":"processing"}`)).json<{
        ErrorCode: string;
      }>();
      expect(s.ErrorCode, id).to.equal('404');
    }
  });

  it('/ui: a clerk of the recipient sees the document; a stranger clerk gets 404 as for a missing one', async () => {
    const recipient = await uiSession(t.url, 'clerk-saigon', 'DEV-ONLY-clerk-password');
    const stranger = await uiSession(t.url, 'clerk-h41', 'DEV-ONLY-clerk-password');
    const auditor = await uiSession(t.url, 'auditor', 'DEV-ONLY-auditor-password');
    ui.push(recipient, stranger, auditor);
    const page = await recipient.get(`/ui/documents/${docId}`);
    expect(page.status()).to.equal(200);
    expect(await page.text()).to.contain(SUBJECT);
    expect((await auditor.get(`/ui/documents/${docId}`)).status(), 'auditors read the whole hub').to.equal(
      200,
    );
    for (const path of [
      `/ui/documents/${docId}`,
      `/ui/documents/${MISSING}`,
      `/ui/documents/${docId}/message`,
    ]) {
      const r = await stranger.get(path);
      expect(r.status(), path).to.equal(404);
      expect(await r.text(), path).not.to.contain(SUBJECT);
    }
  });
});
