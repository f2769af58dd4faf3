/**
 * Web UI in a real browser (Debian chromium via playwright-core), as clerks: log in, find a received
 * document (search without diacritics), open its timeline, see the status the recipient's system
 * sends through the hub API appear; overdue highlighting; the sender's view; and the limits of a
 * clerk's role (admin pages: 403; other agencies' documents: 404 with nothing leaked), CSRF on logout,
 * and login throttling shared through MongoDB.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHub, pullAndAck, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { csrfOf, launchBrowser, login, newContext, screenshot } from '../support/browser.ts';
import type { EdocMessage } from '../../src/domain/edxml/index.ts';
import type { HubClient } from '../../src/sdk/client.ts';
import { createUserServices } from '../../src/users/accounts.ts';
import { openUserStores } from '../../src/store/user-store.ts';

const CLERK_PASSWORD = 'DEV-ONLY-clerk-password';

describe('web UI (browser): clerks', function () {
  this.timeout(120_000);
  let t: TestHub;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let A: HubClient; // H29.001 sends
  let B: HubClient; // H41.001 receives
  let received: EdocMessage;
  let receivedDocId: string;
  let overdue: EdocMessage;
  let foreignDocId: string;
  const foreignSubject = 'Văn bản riêng của Đảng ủy phường Sài Gòn — không được lộ';

  const sentXml = new Map<string, string>();
  async function send(msg: EdocMessage): Promise<string> {
    const xml = signed(msg, t.signingKey('H29.001'));
    const r = await A.submit(xml);
    expect(r.httpStatus).to.equal(202);
    sentXml.set(r.docId, xml);
    return r.docId;
  }

  before(async () => {
    t = await startTestHub('ui-clerk');
    A = t.client('H29.001');
    B = t.client('H41.001');
    browser = await launchBrowser();
    received = documentMessage('H29.001', ['H41.001'], {
      subject: 'Về việc triển khai chính quyền địa phương hai cấp tại xã Diễn Châu',
      otherInfo: { priority: 2, appendixes: [] },
    });
    receivedDocId = await send(received);
    overdue = documentMessage('H29.001', ['H41.001'], {
      subject: 'Báo cáo tổng kết công tác văn thư năm 2025',
      dueDate: '2020/01/01',
    });
    await send(overdue);
    foreignDocId = await send(documentMessage('H29.001', ['D29.001'], { subject: foreignSubject }));
    for (const m of [received, overdue]) await pullAndAck(B, m.documentId); // as a DMS does
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await t?.close();
  });
  // A fresh browser profile for each test (one test logs out, the others used to share its page).
  beforeEach(async () => {
    ctx = await newContext(browser, t.url);
    page = await ctx.newPage();
  });
  afterEach(async () => {
    await ctx?.close().catch(() => undefined);
  });
  const asClerk = (username = 'clerk-h41') => login(page, username, CLERK_PASSWORD);

  /**
   * A document of the calling test's own from H29.001 to D41.001, delivered and acknowledged: the
   * tests that change a document's state use their own, so that H41.001's lists stay as the others
   * count them.
   */
  async function deliveredToD41(subject: string): Promise<{ msg: EdocMessage; docId: string }> {
    const msg = documentMessage('H29.001', ['D41.001'], { subject });
    const docId = await send(msg);
    await pullAndAck(t.client('D41.001'), msg.documentId);
    return { msg, docId };
  }

  it('shows the login page and refuses a wrong password', async () => {
    const resp = await page.goto('/ui/received');
    expect(resp?.status()).to.equal(200);
    expect(new URL(page.url()).pathname).to.equal('/ui/login'); // sent to log in first
    expect(await page.textContent('h1')).to.equal('Đăng nhập');
    await screenshot(page, 'login');
    expect((await page.request.get('/ui/assets/app.css')).status()).to.equal(200);
    expect((await page.request.get('/ui/assets/missing.css')).status()).to.equal(404);
    await page.fill('input[name=username]', 'clerk-h41');
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    expect(await page.textContent('.flash-error')).to.contain('Sai tên đăng nhập hoặc mật khẩu');
  });

  it('logs a clerk in and finds a received document by its subject without diacritics', async () => {
    await login(page, 'clerk-h41', CLERK_PASSWORD);
    expect(new URL(page.url()).pathname).to.equal('/ui/received');
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'hub_session')!;
    expect(session.httpOnly).to.equal(true);
    expect(session.sameSite).to.equal('Lax');
    await page.fill('input[name=subject]', 'trien khai chinh quyen dia phuong'); // no diacritics
    await page.click('form.filters button[type=submit]');
    const rows = page.locator('table.list tbody tr');
    expect(await rows.count()).to.equal(1);
    expect(await rows.first().getAttribute('data-doc')).to.equal(receivedDocId);
    expect(await rows.first().textContent()).to.contain('Về việc triển khai chính quyền địa phương');
    expect(await rows.first().textContent()).to.contain('H29.001');
    expect(await rows.first().textContent()).to.contain('Thượng khẩn');
    // The number/notation search finds it as well.
    await page.goto(
      `/ui/received?number=${encodeURIComponent(`${received.code.codeNumber}/${received.code.codeNotation}`)}`,
    );
    expect(await page.locator('table.list tbody tr').count()).to.equal(1);
    // An unfiltered list, for the screenshot, shows both documents with the overdue one highlighted.
    await page.goto('/ui/received');
    expect(await page.locator('table.list tbody tr').count()).to.equal(2);
    await screenshot(page, 'received');
  });

  it('highlights overdue documents and filters on them', async () => {
    await asClerk();
    await page.goto('/ui/received');
    const row = page.locator('tr.overdue');
    expect(await row.count()).to.equal(1);
    expect(await row.textContent()).to.contain('Báo cáo tổng kết công tác văn thư');
    await page.goto('/ui/received?overdue=1');
    expect(await page.locator('table.list tbody tr').count()).to.equal(1);
    // The overdue document has no status whatever ran before (another test reports 01 and 03 for the
    // other one, which had made a priority filter here order-dependent).
    await page.goto('/ui/received?status=none&overdue=1');
    expect(await page.locator('table.list tbody tr').count()).to.equal(1);
    await page.goto('/ui/received?priority=2');
    expect(await page.locator('table.list tbody tr').count()).to.equal(1);
    await page.goto('/ui/received?status=06');
    expect(await page.locator('table.list tbody tr').count()).to.equal(0);
    // Counterpart (code prefix) and date range, in Vietnam days.
    const today = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 31 * 3_600_000).toISOString().slice(0, 10);
    await page.goto(`/ui/received?counterpart=H29&from=${today}&to=${today}`);
    expect(await page.locator('table.list tbody tr').count()).to.equal(2);
    await page.goto(`/ui/received?from=${tomorrow}`);
    expect(await page.locator('table.list tbody tr').count()).to.equal(0);
    await page.goto('/ui/received?counterpart=H41');
    expect(await page.locator('table.list tbody tr').count()).to.equal(0);
    // Bad input is refused with a readable page, not a crash.
    expect((await page.goto('/ui/received?from=31/02/2026'))?.status()).to.equal(400);
    expect((await page.goto('/ui/received?from=2026-13-45'))?.status()).to.equal(400);
  });

  it('opens the document and sees the status the recipient system sends through the hub API', async () => {
    await asClerk();
    await page.goto('/ui/received');
    await page.click(`tr[data-doc="${receivedDocId}"] a`);
    expect(new URL(page.url()).pathname).to.equal(`/ui/documents/${receivedDocId}`);
    expect(await page.textContent('h1')).to.contain('Về việc triển khai chính quyền địa phương hai cấp');
    expect(await page.textContent('ul.attachments')).to.contain('congvan.pdf');
    // edXML's 2026/11/22 in the UI's one date format.
    expect(await page.textContent('dl.meta dt:text-is("Ngày ban hành") + dd')).to.equal('22/11/2026');
    const card = page.locator('section.delivery[data-recipient="H41.001"]');
    expect(await card.locator('[data-transport]').getAttribute('data-transport')).to.equal('acknowledged');
    expect(await card.locator('ol.timeline li').count()).to.equal(0);

    // The recipient's DMS reports 01 (arrived) and 03 (accepted) through the API.
    for (const code of ['01', '03'] as const) {
      const st = await B.submit(signed(statusMessage('H41.001', received, code), t.signingKey('H41.001')));
      expect(st.httpStatus).to.equal(202);
    }
    await page.reload();
    const entries = card.locator('ol.timeline li');
    expect(await entries.count()).to.equal(2);
    expect(await entries.nth(0).getAttribute('data-code')).to.equal('01');
    expect(await entries.nth(1).getAttribute('data-code')).to.equal('03');
    expect(await entries.nth(1).textContent()).to.contain('Đã tiếp nhận');
    expect(await card.locator('h3 [data-status]').first().getAttribute('data-status')).to.equal('03');
    expect(await card.locator('ol.steps li.done').count()).to.equal(2);
    await screenshot(page, 'document');

    // The signed message downloads byte for byte, for the parties.
    const dl = await page.request.get(`/ui/documents/${receivedDocId}/message`);
    expect(dl.status()).to.equal(200);
    expect((await dl.body()).equals(Buffer.from(sentXml.get(receivedDocId)!, 'utf8'))).to.equal(true);
    expect(dl.headers()['x-hub-sha256']).to.match(/^[0-9a-f]{64}$/);
    const ev = await page.request.get(`/ui/documents/${receivedDocId}/evidence`);
    expect(ev.status()).to.equal(200);
    expect(ev.headers()['content-type']).to.contain('application/zip');
  });

  it('shows the revoke chain: the original with a pending recall, the revocation pointing to it', async () => {
    // Its own original (to D41.001), seen by the sender's clerk: revoking the shared one changed the
    // lists the other tests count.
    const original = await deliveredToD41('Báo cáo sơ kết quý I (bản sẽ thu hồi)');
    const revoke = documentMessage('H29.001', ['D41.001'], {
      subject: 'Thu hồi báo cáo sơ kết',
      business: {
        docType: 1,
        documentId: original.msg.documentId,
        reason: 'Ban hành nhầm',
        replacements: [],
      },
    });
    const revokeId = await send(revoke);
    await asClerk('clerk-h29');
    await page.goto(`/ui/documents/${original.docId}`);
    expect(await page.getAttribute('ul.chain li[data-chain=revoke] a', 'href')).to.equal(
      `/ui/documents/${revokeId}`,
    );
    expect(await page.textContent('ul.chain')).to.contain('Ban hành nhầm');
    const card = page.locator('section.delivery[data-recipient="D41.001"]');
    expect(await card.textContent()).to.contain('Đang yêu cầu thu hồi');
    expect(await card.locator('ol.timeline li').first().getAttribute('data-code')).to.equal('13');
    await page.goto(`/ui/documents/${revokeId}`);
    expect(await page.textContent('ul.chain')).to.contain('Báo cáo sơ kết quý I');
    expect(await page.textContent('dl.meta')).to.contain('Thu hồi');
  });

  it('refuses a clerk the admin pages (403) and other agencies’ documents (404, nothing leaked)', async () => {
    await asClerk();
    for (const p of ['/ui/admin/agencies', '/ui/dashboard', '/ui/admin/users', '/ui/admin/audit']) {
      const r = await page.goto(p);
      expect(r?.status(), p).to.equal(403);
      expect(await page.getAttribute('.error-page', 'data-code')).to.equal('FORBIDDEN');
    }
    const other = await page.goto(`/ui/documents/${foreignDocId}`);
    expect(other?.status()).to.equal(404);
    const html = await page.content();
    expect(html).not.to.contain(foreignSubject);
    expect(html).not.to.contain('D29.001');
    // A document that does not exist gets the same answer: no existence oracle.
    const missing = await page.goto('/ui/documents/00000000-0000-0000-0000-000000000000');
    expect(missing?.status()).to.equal(404);
    for (const suffix of ['message', 'evidence', 'receipt']) {
      const r = await page.request.get(`/ui/documents/${foreignDocId}/${suffix}`);
      expect(r.status(), suffix).to.equal(404);
      expect(await r.text()).not.to.contain(foreignSubject);
    }
    // Lists of another agency are refused too, and the foreign document is in none of the clerk's lists.
    expect((await page.goto('/ui/received?agency=D29.001'))?.status()).to.equal(403);
    await page.goto('/ui/sent');
    expect(await page.content()).not.to.contain(foreignSubject);
  });

  it('shows the sender’s clerk the document in Sent with each recipient’s status', async () => {
    // Its own document, and the recipient's statuses for it (D41.001 reports 01 and 03).
    const { msg, docId } = await deliveredToD41('Về việc phối hợp tổ chức hội nghị');
    for (const code of ['01', '03'] as const) {
      const st = await t
        .client('D41.001')
        .submit(signed(statusMessage('D41.001', msg, code), t.signingKey('D41.001')));
      expect(st.httpStatus).to.equal(202);
    }
    await asClerk('clerk-h29');
    await page.goto('/ui/sent?subject=Về việc phối hợp');
    const row = page.locator(`tr[data-doc="${docId}"]`);
    expect(await row.count()).to.equal(1);
    expect(await row.locator('[data-status]').first().getAttribute('data-status')).to.equal('03');
    await page.goto(`/ui/documents/${docId}`);
    expect(await page.locator('section.delivery').count()).to.equal(1);
    expect(await page.textContent('section.delivery')).to.contain('Đã tiếp nhận');
  });

  it('refuses a logout without the anti-forgery token or with a wrong one (403), then logs out', async () => {
    await asClerk();
    const noToken = await page.request.post('/ui/logout', { form: {}, maxRedirects: 0 });
    expect(noToken.status()).to.equal(403);
    expect(await noToken.text()).to.contain('CSRF_INVALID');
    const wrong = await page.request.post('/ui/logout', { form: { _csrf: 'x'.repeat(43) }, maxRedirects: 0 });
    expect(wrong.status()).to.equal(403);
    expect((await page.goto('/ui/received'))?.status()).to.equal(200); // still logged in
    expect(new URL(page.url()).pathname).to.equal('/ui/received');
    const token = await csrfOf(page);
    const crossSite = await page.request.post('/ui/logout', {
      form: { _csrf: token },
      headers: { origin: 'https://evil.example' },
      maxRedirects: 0,
    });
    expect(crossSite.status()).to.equal(403);
    await Promise.all([page.waitForURL(/\/ui\/login/), page.click('header form button[type=submit]')]);
    expect(await page.textContent('.flash-ok')).to.contain('đã đăng xuất');
    await page.goto('/ui/received');
    expect(new URL(page.url()).pathname).to.equal('/ui/login');
  });

  it('throttles logins after repeated failures, across processes (MongoDB), even with the right password', async () => {
    const accounts = createUserServices(await openUserStores(t.hub.mongo), t.hub.stores);
    await accounts.users.create('test', {
      username: 'clerk-throttle',
      role: 'clerk',
      agencies: ['H41.001'],
      password: 'a-good-password-1234',
    });
    const c3 = await newContext(browser, t.url);
    const p3 = await c3.newPage();
    try {
      for (let i = 0; i < accounts.throttle.policy.maxPerUser; i++) {
        await p3.goto('/ui/login');
        await p3.fill('input[name=username]', 'clerk-throttle');
        await p3.fill('input[name=password]', `wrong-${i}`);
        const [resp] = await Promise.all([
          p3.waitForResponse((r) => r.request().method() === 'POST'),
          p3.click('button[type=submit]'),
        ]);
        expect(resp.status()).to.equal(401);
      }
      await p3.goto('/ui/login');
      await p3.fill('input[name=username]', 'clerk-throttle');
      await p3.fill('input[name=password]', 'a-good-password-1234');
      const [resp] = await Promise.all([
        p3.waitForResponse((r) => r.request().method() === 'POST'),
        p3.click('button[type=submit]'),
      ]);
      expect(resp.status()).to.equal(429);
      expect(Number(resp.headers()['retry-after'])).to.be.greaterThan(0);
      expect(await p3.textContent('.flash-error')).to.contain('quá nhiều lần');
      // The lock lives in MongoDB: another process (here: a fresh service) sees it.
      const other = createUserServices(await openUserStores(t.hub.mongo), t.hub.stores);
      expect((await other.throttle.check('clerk-throttle', '203.0.113.9')).allowed).to.equal(false);
    } finally {
      await c3.close();
    }
  });
});
