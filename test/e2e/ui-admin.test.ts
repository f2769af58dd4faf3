/**
 * Web UI in a real browser, as an administrator and an auditor: dashboard, register a commune and
 * see its assigned code, bulk import with progress (and a refused file), certificates, dead
 * letters, users (create, log in with the generated password), audit log with chain verification,
 * the English switch, CSRF on an admin form, and the auditor's read-only access.
 */
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHub, eventually, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { csrfOf, launchBrowser, login, newContext, screenshot } from '../support/browser.ts';
import { hubctlAsync } from '../support/hubctl.ts';
import { DeadLetterService } from '../../src/delivery/dead-letters.ts';

describe('web UI (browser): administrators and auditors', function () {
  this.timeout(180_000);
  let t: TestHub;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;

  before(async () => {
    t = await startTestHub('ui-admin');
    browser = await launchBrowser();
    // Some traffic for the dashboard: documents between the seeded agencies, statuses, one refusal.
    const A = t.client('H29.001');
    const B = t.client('H41.001');
    const sent = [];
    for (let i = 0; i < 4; i++) {
      const msg = documentMessage('H29.001', ['H41.001'], {
        subject: `Công văn số ${i} về cải cách hành chính`,
      });
      await A.submit(signed(msg, t.signingKey('H29.001')));
      sent.push(msg);
    }
    const back = documentMessage('H41.001', ['H29.001', 'D29.001'], { subject: 'Báo cáo của xã Diễn Châu' });
    await B.submit(signed(back, t.signingKey('H41.001')));
    await eventually(
      async () => (await B.inbox({ type: 'edoc' })).items.length >= 4,
      20_000,
      'deliveries to H41.001',
    );
    await B.submit(signed(statusMessage('H41.001', sent[0]!, '02'), t.signingKey('H41.001')));
    // A refused submission (tampered bytes) is counted by reason on the dashboard.
    const tampered = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')).replace(
      'Nội dung công văn',
      'Nội dung đã bị sửa',
    );
    await A.submit(tampered).catch(() => undefined);
    // Spread the first documents over the month (as if sent on earlier days): the chart buckets by day.
    for (const [i, m] of sent.entries())
      await t.hub.stores.models.Document.updateOne(
        { documentId: m.documentId, messageType: 'edoc' },
        { $set: { receivedAt: new Date(Date.now() - (i * 6 + 1) * 86_400_000) } },
      );
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await t?.close();
  });

  // Each test in a browser profile of its own, logged in as the administrator: the first test used to
  // open the one page all the others used (shuffled run, seed 7: ten failed when it had not run).
  beforeEach(async () => {
    ctx = await newContext(browser, t.url);
    page = await ctx.newPage();
    await login(page, 'admin', 'DEV-ONLY-admin-password');
  });
  afterEach(async () => {
    await ctx?.close().catch(() => undefined);
  });

  it('logs the administrator in to the dashboard: volumes, latency, refusals, overdue, dead letters', async () => {
    expect(new URL(page.url()).pathname).to.equal('/ui/dashboard');
    expect(await page.textContent('[data-tile=documents] .tile-value')).to.equal('5');
    expect(await page.locator('svg.chart rect.bar').count()).to.equal(30);
    const perDay = (await page.locator('svg.chart rect.bar title').allTextContents()).map((x) =>
      Number(x.split(': ')[1]),
    );
    expect(perDay.filter((n) => n > 0)).to.have.length(5); // 1, 7, 13, 19 days ago and today
    expect(perDay.reduce((a, b) => a + b, 0)).to.equal(5);
    expect(await page.textContent('main')).to.contain('SIGNATURE_INVALID');
    expect(await page.locator('tr[data-block=state]').count()).to.equal(1);
    expect(await page.textContent('tr[data-block=state]')).to.match(/Khối Nhà nước\s*5\s*5/);
    expect(await page.textContent('main')).to.contain('Trạng thái 02'); // the recipient's refusal reason
    expect(await page.textContent('[data-tile=p50] .tile-value')).to.match(/\d/);
    await screenshot(page, 'dashboard');
  });

  it('registers a new commune and shows the code the hub assigned', async () => {
    await page.goto('/ui/admin/agencies');
    const form = page.locator('#register-form');
    await form.locator('input[name=name]').fill('UBND xã Thử Nghiệm Mới');
    await form.locator('select[name=block]').selectOption('state');
    await form.locator('select[name=kind]').selectOption('commune-people-committee');
    await form.locator('input[name=parent]').fill('H41');
    await form.locator('input[name=email]').fill('ubnd.thunghiem@example.invalid');
    await Promise.all([
      page.waitForURL(/\/ui\/admin\/agencies\/H41\./),
      form.locator('button.primary').click(),
    ]);
    const code = (await page.textContent('#agency-code'))!;
    expect(code).to.match(/^H41\.\d{3}$/);
    expect(await page.textContent('.flash-ok')).to.contain(`Mã định danh được cấp: ${code}`);
    const { agency } = await t.hub.directory.get(code);
    expect(agency).to.include({ name: 'UBND xã Thử Nghiệm Mới', parentCode: 'H41', status: 'active' });
    // Found by name without diacritics; the list is the admin agencies screenshot.
    await page.goto('/ui/admin/agencies?q=thu nghiem');
    expect(await page.textContent('#agencies')).to.contain(code);
    await page.goto('/ui/admin/agencies?code=H41');
    await screenshot(page, 'admin-agencies');
  });

  it('refuses a registration with a readable reason and keeps the form values', async () => {
    await page.goto('/ui/admin/agencies');
    const form = page.locator('#register-form');
    await form.locator('input[name=name]').fill('UBND xã Không Có Cấp Trên');
    await form.locator('select[name=kind]').selectOption('commune-people-committee');
    await form.locator('input[name=parent]').fill('Z99');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      form.locator('button.primary').click(),
    ]);
    expect(resp.status()).to.equal(400);
    expect(await page.textContent('#err-parent')).to.contain('Z99'); // next to the parent field
    expect(await page.inputValue('#register-form input[name=name]')).to.equal('UBND xã Không Có Cấp Trên');
  });

  it('imports communes in bulk, following the progress to the result, and reports a bad file by line', async () => {
    await page.goto('/ui/admin/agencies/import');
    const csv = [
      'name,block,kind,parent,province',
      'UBND xã Nhập Một,state,commune-people-committee,H41,',
      'UBND xã Nhập Hai,state,commune-people-committee,H41,',
      'Đảng ủy xã Nhập Một,party,commune-party-committee,D29,',
    ].join('\n');
    await page.fill('#import-form textarea[name=csv]', csv);
    await Promise.all([
      page.waitForURL(/\/ui\/admin\/imports\//),
      page.click('#import-form button[type=submit]'),
    ]);
    await page.waitForSelector('#job[data-state=done]', { timeout: 60_000 });
    expect(await page.textContent('#job .flash-ok')).to.contain('3 đơn vị mới');
    const codes = await page.locator('#job table a code').allTextContents();
    expect(codes).to.have.length(3);
    for (const c of codes) expect((await t.hub.directory.get(c)).agency.status).to.equal('active');
    const result = await page.request.get(`${new URL(page.url()).pathname}/result.csv`);
    expect(await result.text()).to.contain(codes[0]!);

    await page.goto('/ui/admin/agencies/import');
    await page.fill(
      '#import-form textarea[name=csv]',
      [
        'name,block,kind,parent',
        'UBND xã Tốt,state,commune-people-committee,H41',
        ',state,commune-people-committee,H41',
      ].join('\n'),
    );
    await Promise.all([
      page.waitForURL(/\/ui\/admin\/imports\//),
      page.click('#import-form button[type=submit]'),
    ]);
    await page.waitForSelector('#job[data-state=failed]', { timeout: 60_000 });
    expect(await page.textContent('#import-errors')).to.match(/3\s*name/);
    expect((await t.hub.directory.search({ q: 'UBND xã Tốt' })).items).to.have.length(0); // nothing imported
  });

  it('registers a certificate from a PEM file and revokes it; shows expiry warnings', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ui-cert-'));
    const issued = await hubctlAsync([
      '--json',
      'devpki',
      'issue',
      'M29.001',
      'Ủy ban MTTQ phường Sài Gòn (mới)',
      '--out',
      dir,
    ]);
    expect(issued.code, issued.err).to.equal(0);
    const fp = (JSON.parse(issued.out) as { fingerprintSha256: string }).fingerprintSha256;
    await page.goto('/ui/admin/certificates');
    expect(await page.textContent('#certificates')).to.contain('H29.001');
    await page.fill('#register-cert input[name=agency]', 'M29.001');
    await page.setInputFiles('#register-cert input[type=file]', path.join(dir, 'M29.001.pem')); // read by app.js
    await page.waitForFunction(() =>
      (document.querySelector('textarea[name=pem]') as HTMLTextAreaElement).value.includes(
        'BEGIN CERTIFICATE',
      ),
    );
    await Promise.all([page.waitForURL(/ok=1/), page.click('#register-cert button[type=submit]')]);
    const row = page.locator('#certificates tr', { has: page.locator(`code[title="${fp}"]`) });
    expect(await row.count()).to.equal(1);
    expect(await row.textContent()).to.contain('Đang dùng');
    expect(
      (await t.hub.directory.get('M29.001')).agency.certificates.some((c) => c.fingerprintSha256 === fp),
    ).to.equal(true);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/ok=1/), row.locator('button.danger').click()]);
    await page.goto('/ui/admin/certificates?agency=M29.001');
    expect(
      await page.locator('#certificates tr', { has: page.locator(`code[title="${fp}"]`) }).textContent(),
    ).to.contain('Đã thu hồi khỏi trục');
    // A certificate expiring within the warning window is flagged.
    await t.hub.stores.models.Agency.updateOne(
      { _id: 'G22' },
      { $set: { 'certificates.0.notAfter': new Date(Date.now() + 5 * 86_400_000) } },
    );
    await page.goto('/ui/admin/certificates');
    expect(await page.textContent('#expiring')).to.contain('G22');
  });

  it('sets a push endpoint, shows it with its backlog; inspects and replays a dead letter', async () => {
    await page.goto('/ui/admin/endpoints');
    await page.fill('form.grid-form input[name=code]', 'M29.001');
    await page.selectOption('form.grid-form select[name=mode]', 'push');
    await page.fill('form.grid-form input[name=url]', 'https://dms-m29.example.invalid/hub');
    await Promise.all([page.waitForURL(/ok=1/), page.click('form.grid-form button[type=submit]')]);
    expect(await page.textContent('#endpoints')).to.contain('https://dms-m29.example.invalid/hub');
    expect((await t.hub.directory.get('M29.001')).agency.delivery).to.include({ mode: 'push' });

    // A delivery whose attempts ran out (made so directly in the store), recorded as a dead letter.
    const back = (await t.hub.stores.models.Delivery.findOne({ recipientCode: 'D29.001' }).lean<{
      _id: string;
      docId: string;
    }>())!;
    await t.hub.stores.models.Delivery.updateOne({ _id: back._id }, { $set: { transport: 'dead-lettered' } });
    await new DeadLetterService(t.hub.stores, t.hub.stores.audit).record(
      Buffer.from(
        JSON.stringify({ deliveryId: back._id, docId: back.docId, recipientCode: 'D29.001', attempt: 10 }),
      ),
      'attempts exhausted: endpoint answered 503',
    );
    await page.goto('/ui/admin/deadletters');
    expect(await page.textContent('#deadletters')).to.contain('endpoint answered 503');
    await page.click('#deadletters a');
    expect(await page.textContent('pre.content')).to.contain(back._id);
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/ok=1/), page.click('main form button.primary')]);
    expect(await page.textContent('.flash-ok')).to.contain('hàng đợi');
    await eventually(
      async () => (await t.hub.stores.deliveries.get(back._id))?.transport === 'available',
      20_000,
      'the replayed delivery made available again',
    );
    // The replay is in the audit log (checked here: the audit-log case must not rely on this one).
    await page.goto('/ui/admin/audit?action=deadletter.');
    expect(await page.textContent('#audit')).to.contain('deadletter.replayed');
  });

  it('shows the audit log and verifies its hash chain', async () => {
    // Filtered on its own entries (this case's login): agency entries exist only if the
    // registration case ran first (seed 918273: no `#audit` table at all).
    await page.goto('/ui/admin/audit?action=user.');
    const actions = await page
      .locator('#audit tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action') ?? ''));
    expect(actions).to.include('user.login');
    expect(actions.every((a) => a.startsWith('user.'))).to.equal(true);
    await page.goto('/ui/admin/audit');
    // Its own entry (this case's login): other cases' entries may or may not be there yet.
    expect(await page.textContent('#audit')).to.contain('user.login');
    await page.click('#verify');
    expect(await page.getAttribute('#verify-result', 'data-ok')).to.equal('true');
    expect(await page.textContent('#verify-result')).to.contain('toàn vẹn');
  });

  it('refuses an admin form without the anti-forgery token, with a wrong one, or from another origin', async () => {
    await page.goto('/ui/admin/users');
    const token = await csrfOf(page);
    const form = { username: 'forged-user', role: 'admin', password: 'forged-password-123' };
    for (const [what, extra, headers] of [
      ['no token', {}, {}],
      ['wrong token', { _csrf: `${token.slice(0, -2)}xx` }, {}],
      ['other origin', { _csrf: token }, { origin: 'http://attacker.invalid' }],
    ] as const) {
      const r = await page.request.post('/ui/admin/users', {
        form: { ...form, ...extra },
        headers,
        maxRedirects: 0,
      });
      expect(r.status(), what).to.equal(403);
      expect(await r.text(), what).to.contain('CSRF_INVALID');
    }
    await page.goto('/ui/admin/users');
    expect(await page.textContent('#users')).not.to.contain('forged-user');
  });

  it('creates a clerk with a generated password shown once; the clerk logs in with it', async () => {
    await page.goto('/ui/admin/users');
    await page.fill('#create-user input[name=username]', 'vanthu-dienchau');
    await page.fill('#create-user input[name=displayName]', 'Văn thư xã Diễn Châu');
    await page.selectOption('#create-user select[name=role]', 'clerk');
    await page.fill('#create-user input[name=agencies]', 'H41.001');
    await page.click('#create-user button[type=submit]');
    const password = (await page.textContent('#new-password code.secret'))!;
    expect(password).to.have.length(20);
    expect(await page.textContent('#users')).to.contain('vanthu-dienchau');
    await page.reload();
    expect(await page.locator('#new-password').count()).to.equal(0); // never shown again

    const c2 = await newContext(browser, t.url);
    const p2 = await c2.newPage();
    try {
      await login(p2, 'vanthu-dienchau', password);
      expect(new URL(p2.url()).pathname).to.equal('/ui/received');
      expect(await p2.locator('table.list tbody tr').count()).to.equal(4);
      // Disabling the account ends its session at once.
      page.once('dialog', (d) => void d.accept());
      await Promise.all([
        page.waitForURL(/\/ui\/admin\/users\?ok=1/),
        page.locator('tr[data-user=vanthu-dienchau] form[action$="/disable"] button').click(),
      ]);
      expect(await page.textContent('tr[data-user=vanthu-dienchau]')).to.contain('Đã khóa');
      await p2.goto('/ui/received');
      expect(new URL(p2.url()).pathname).to.equal('/ui/login');
    } finally {
      await c2.close();
    }
  });

  it('pages long lists (25 a page) and keeps the filters across pages', async () => {
    // Display-only records (written straight to the store: the lists read nothing else).
    const now = Date.now();
    // Removed again at the end: the dashboard case counts the hub's documents (issue 21).
    const ids = Array.from(
      { length: 30 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    try {
      await t.hub.stores.models.Document.insertMany(
        Array.from({ length: 30 }, (_, i) => ({
          _id: ids[i],
          key: `edoc:G22:paging-${i}`,
          messageType: 'edoc',
          senderCode: 'G22',
          documentId: `G22,2026/11/20,${i}/VPCP-TH`,
          sha256: '0'.repeat(64),
          size: 1000,
          state: 'accepted',
          receivedAt: new Date(now - i * 60_000),
          acceptedAt: new Date(now - i * 60_000),
          meta: {
            subject: `Thông báo kết luận số ${i}`,
            subjectFolded: `thong bao ket luan so ${i}`,
            codeNumber: String(i),
            codeNotation: 'VPCP-TH',
            priority: 0,
          },
          signer: { fingerprintSha256: '0'.repeat(64), subject: 'CN=VPCP' },
          recipients: [{ code: 'M29.001', outcome: 'accepted', deliveredTo: 'M29.001' }],
          submittedBy: 'dms-G22',
        })),
      );
      await page.goto('/ui/received?agency=M29.001&subject=thong bao ket luan');
      expect(await page.textContent('p.count')).to.contain('30 văn bản');
      expect(await page.locator('table.list tbody tr').count()).to.equal(25);
      expect(await page.textContent('nav.pager')).to.contain('Trang 1/2');
      await page.click('nav.pager a[rel=next]');
      expect(new URL(page.url()).searchParams.get('subject')).to.equal('thong bao ket luan');
      expect(await page.locator('table.list tbody tr').count()).to.equal(5);
      expect(await page.textContent('table.list')).to.contain('Thông báo kết luận số 29'); // the oldest
      await page.goto('/ui/sent?agency=G22&counterpart=M29');
      expect(await page.textContent('p.count')).to.contain('30 văn bản');
    } finally {
      await t.hub.stores.models.Document.deleteMany({ _id: { $in: ids } });
    }
  });

  it('switches to English and back', async () => {
    await page.goto('/ui/received');
    await page.click('a.lang');
    expect(await page.textContent('h1')).to.equal('Received');
    expect(await page.textContent('header nav')).to.contain('Dashboard');
    await page.click('a.lang');
    expect(await page.textContent('h1')).to.equal('Văn bản đến');
  });

  it('gives the auditor read-only access: pages visible, forms absent, writes refused (403)', async () => {
    const c3 = await newContext(browser, t.url);
    const p3 = await c3.newPage();
    try {
      await login(p3, 'auditor', 'DEV-ONLY-auditor-password');
      expect(new URL(p3.url()).pathname).to.equal('/ui/dashboard');
      await p3.goto('/ui/admin/agencies');
      expect(await p3.locator('#register-form').count()).to.equal(0);
      expect(await p3.textContent('#agencies')).to.contain('H29.001');
      const token = await csrfOf(p3);
      const r = await p3.request.post('/ui/admin/agencies', {
        form: {
          _csrf: token,
          name: 'UBND xã Kiểm Toán',
          block: 'state',
          kind: 'commune-people-committee',
          parent: 'H41',
        },
        maxRedirects: 0,
      });
      expect(r.status()).to.equal(403);
      expect((await t.hub.directory.search({ q: 'kiem toan' })).items).to.have.length(0);
      await p3.goto('/ui/received');
      expect(await p3.locator('table.list tbody tr').count()).to.be.greaterThan(0); // whole hub, read-only
    } finally {
      await c3.close();
    }
  });
});
