/**
 * Web UI in a real browser (issue 19 §4): the document page (encrypted documents, attachment kinds,
 * recall reasons in Vietnamese, a delivery's last error gone once delivered, the summary of many
 * recipients), dead letters (document, plain reason, bulk replay with a warning before replaying
 * into an endpoint still failing), the audit log (action names, subject links, date filter, CSV
 * export, failed logins) and the dashboard (the hub's refusals apart from the recipients', a
 * date range). Real hub, RabbitMQ and FerretDB; push endpoints are local HTTP servers.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/config.ts';
import { encryptEdxml } from '../../src/crypto/encryption.ts';
import { signEdxml } from '../../src/crypto/signature.ts';
import { DeadLetterService } from '../../src/delivery/dead-letters.ts';
import { vnCalendarDay } from '../../src/domain/calendar.ts';
import { buildEdxml } from '../../src/domain/edxml/index.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { launchBrowser, login, newContext, screenshot } from '../support/browser.ts';

const certOf = (code: string) =>
  readFileSync(path.join(PROJECT_ROOT, 'certs-dev/agencies', `${code}.pem`), 'utf8');

const dmy = (isoDay: string) => isoDay.split('-').reverse().join('/');

/** An agency endpoint on loopback answering with the status `answer()` gives. */
async function endpoint(
  answer: () => number,
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      res.writeHead(answer()).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub`,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('web UI (browser): document page and operations pages', function () {
  this.timeout(180_000);
  let t: TestHub;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let flaky: Awaited<ReturnType<typeof endpoint>>;
  let failing: Awaited<ReturnType<typeof endpoint>>;
  let failingUp = false;
  let flakyCalls = 0;

  before(async () => {
    // Retries after 300 ms, dead-lettered after the second attempt: a failing endpoint in a second.
    t = await startTestHub('ui-pages', { delivery: { retryDelaysMs: [300], maxAttempts: 2 } });
    browser = await launchBrowser();
    flaky = await endpoint(() => (++flakyCalls === 1 ? 503 : 204)); // fails once, then delivers
    failing = await endpoint(() => (failingUp ? 204 : 503));
    const push = (url: string) => ({ $set: { delivery: { mode: 'push', url } } });
    await t.hub.stores.models.Agency.updateOne({ _id: 'M41.001' }, push(flaky.url));
    await t.hub.stores.models.Agency.updateOne({ _id: 'M29.001' }, push(failing.url));
    ctx = await newContext(browser, t.url);
    page = await ctx.newPage();
    await login(page, 'admin', 'DEV-ONLY-admin-password');
  });
  after(async () => {
    await ctx?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await t?.close();
    await flaky?.close();
    await failing?.close();
  });

  describe('document page', () => {
    const recipients = ['H41.001', 'D41.001', 'M41.001', 'D29.001', 'H41', 'G22', 'D41'];
    let docId: string;

    before(async () => {
      const msg = documentMessage('H29.001', recipients, {
        subject: 'Kế hoạch chuyển đổi số năm 2026',
        manifest: [],
        attachments: [
          ['kehoach.pdf', 'application/pdf'],
          ['phuluc.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
          ['bangke.xlsx', 'application/octet-stream'],
        ].map(([name, type], i) => ({
          contentId: `cid:${i + 1}`,
          attachmentName: name!,
          contentType: type!,
          contentBase64: Buffer.from(`tệp ${name}`).toString('base64'),
        })),
      });
      const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
      docId = r.docId;
      await eventually(
        async () =>
          (await t.hub.stores.deliveries.forDocument(docId)).every(
            (d) => d.transport === 'available' || d.transport === 'pushed',
          ),
        30_000,
        'every delivery made (M41.001 after one failed push)',
      );
      await t.client('H41.001').submit(signed(statusMessage('H41.001', msg, '01'), t.signingKey('H41.001')));
      await t.client('D41.001').submit(signed(statusMessage('D41.001', msg, '02'), t.signingKey('D41.001')));
      // One recipient past its acceptance deadline without a status.
      await t.hub.stores.models.Delivery.updateOne(
        { _id: `${docId}:D29.001` },
        { $set: { deadline: new Date(Date.now() - 3_600_000) } },
      );
      // The sender revokes it with a reason: a pending recall (13) written by the hub.
      const revoke = documentMessage('H29.001', recipients, {
        business: { docType: 1, documentId: msg.documentId, reason: 'Ban hành nhầm', replacements: [] },
      });
      await t.client('H29.001').submit(signed(revoke, t.signingKey('H29.001')));
    });

    // Each case starts on the document's page (they used to read the page the first case opened).
    beforeEach(async () => {
      await page.goto(`/ui/documents/${docId}`);
    });

    it('summarises many recipients by status, with the overdue count, above the timelines', async () => {
      await page.goto(`/ui/documents/${docId}`);
      const summary = page.locator('#recipient-summary');
      expect(await summary.count()).to.equal(1);
      const count = async (status: string) =>
        Number(await summary.locator(`tr[data-status="${status}"] td.num`).textContent());
      expect(await count('none')).to.equal(5);
      expect(await count('01')).to.equal(1);
      expect(await count('02')).to.equal(1);
      expect(await count('overdue')).to.equal(1);
      expect(await count('total')).to.equal(7);
      // Above the first per-recipient card.
      const [sy, cy] = await Promise.all([
        summary.boundingBox(),
        page.locator('section.delivery').first().boundingBox(),
      ]);
      expect(sy!.y).to.be.lessThan(cy!.y);
      await screenshot(page, 'document-summary');
    });

    it('names attachment types readably', async () => {
      const kinds = await page.locator('ul.attachments li span[data-kind]').allTextContents();
      expect(kinds.map((k) => k.split('·')[0]!.trim())).to.deep.equal([
        'Tài liệu PDF',
        'Văn bản Word',
        'Bảng tính Excel', // octet-stream: known by its extension
      ]);
    });

    it('shows the recall reason the hub recorded in Vietnamese', async () => {
      const recall = page.locator('section.delivery[data-recipient="H41.001"] li[data-code="13"]');
      expect(await recall.textContent()).to.contain('Thu hồi văn bản: Ban hành nhầm');
      expect(await page.textContent('main')).not.to.contain('revoke:');
    });

    it('forgets a delivery’s last error once it is delivered (stored and shown)', async () => {
      expect(flakyCalls).to.be.at.least(2); // one 503, then delivered
      const d = (await t.hub.stores.deliveries.get(`${docId}:M41.001`))!;
      expect(d.transport).to.equal('pushed');
      expect(d.lastError).to.equal(undefined);
      const card = page.locator('section.delivery[data-recipient="M41.001"]');
      expect(await card.textContent()).not.to.contain('Lỗi gần nhất');
      expect(await card.textContent()).not.to.contain('503');
    });

    it('says an encrypted document is encrypted, without also saying it has no attachments', async () => {
      const msg = documentMessage('H29.001', ['H41.001'], { subject: 'Văn bản mật' });
      const wire = signEdxml(
        encryptEdxml(buildEdxml(msg), [{ code: 'H41.001', certificatePem: certOf('H41.001') }]),
        t.signingKey('H29.001'),
      );
      const r = await t.client('H29.001').submit(wire);
      await page.goto(`/ui/documents/${r.docId}`);
      expect(await page.locator('#encrypted').count()).to.equal(1);
      const text = await page.textContent('main');
      expect(text).to.contain('Danh sách tệp đính kèm nằm trong phần đã mã hóa');
      expect(text).not.to.contain('Không có tệp đính kèm');
    });
  });

  describe('dead letters', () => {
    const docs: { docId: string; number: string; subject: string }[] = [];

    before(async () => {
      for (const i of [1, 2]) {
        const msg = documentMessage('H29.001', ['M29.001'], { subject: `Giấy mời họp số ${i}` });
        const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
        docs.push({ docId: r.docId, number: `${msg.code.codeNumber}/UBND-VP`, subject: msg.subject });
      }
      await eventually(
        async () => (await t.hub.stores.models.DeadLetter.countDocuments({ recipientCode: 'M29.001' })) === 2,
        30_000,
        'both deliveries to the failing endpoint dead-lettered',
      );
    });

    // Step 1: shows each dead letter’s document and a plain reason, and warns that the endpoint still fails
    const step1 = async () => {
      await page.goto('/ui/admin/deadletters');
      for (const d of docs) {
        const row = page.locator(`#deadletters tr[data-id="${d.docId}:M29.001"]`);
        const text = (await row.textContent())!;
        expect(text).to.contain(d.number).and.contain(d.subject).and.contain('H29.001');
        expect(await row.locator('.plain-reason').getAttribute('data-kind')).to.equal('endpointDown');
        expect(await row.locator('.plain-reason').textContent()).to.contain('không trả lời hoặc báo lỗi');
        expect(await row.locator('.failing').count()).to.equal(1);
      }
      expect(await page.textContent('#failing-warning'))
        .to.contain('M29.001')
        .and.contain('trả lời lỗi HTTP 503 (sau 2 lần thử)');
      await screenshot(page, 'deadletters');
    };

    // Step 2: refuses a bulk replay into the failing endpoint without the explicit confirmation: nothing replayed
    const step2 = async () => {
      await page.check('#select-all');
      expect(await page.locator('#bulk-replay input[name=ids]:checked').count()).to.equal(2);
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.click('#bulk-replay button[type=submit]'),
      ]);
      expect(resp.status()).to.equal(409);
      expect(await page.getAttribute('#confirm-error', 'role')).to.equal('alert');
      expect(await page.textContent('.confirm-failing')).to.contain('Điểm nhận vẫn đang lỗi');
      expect(await page.locator('#bulk-replay input[name=ids]:checked').count()).to.equal(2); // kept
      expect(await t.hub.stores.models.DeadLetter.countDocuments({ replayedAt: { $exists: true } })).to.equal(
        0,
      );
    };

    // Step 3: refuses a replay without the anti-forgery token
    const step3 = async () => {
      const r = await page.request.post('/ui/admin/deadletters/replay', {
        form: { ids: `${docs[0]!.docId}:M29.001`, confirmFailing: '1' },
        maxRedirects: 0,
      });
      expect(r.status()).to.equal(403);
      expect(await t.hub.stores.models.DeadLetter.countDocuments({ replayedAt: { $exists: true } })).to.equal(
        0,
      );
    };

    // Step 4: replays the selected dead letters once confirmed, one audit entry each, and they are delivered
    const step4 = async () => {
      failingUp = true; // the agency fixed its endpoint
      await page.check('#select-all');
      await page.check('.confirm-failing input[name=confirmFailing]');
      await Promise.all([page.waitForURL(/replayed=2/), page.click('#bulk-replay button[type=submit]')]);
      expect(await page.textContent('.flash-ok')).to.contain('2');
      for (const d of docs)
        await eventually(
          async () => (await t.hub.stores.deliveries.get(`${d.docId}:M29.001`))?.transport === 'pushed',
          30_000,
          'replayed delivery pushed',
        );
      const audit = await t.hub.stores.models.Audit.find({
        action: 'deadletter.replayed',
        subject: { $in: docs.map((d) => `${d.docId}:M29.001`) },
      }).lean<{ subject: string; actor: string }[]>();
      expect(audit.map((a) => a.subject).sort()).to.deep.equal(docs.map((d) => `${d.docId}:M29.001`).sort());
      expect(audit.every((a) => a.actor === 'ui:admin')).to.equal(true);
      // Delivered: the endpoint is no longer reported as failing.
      const svc = new DeadLetterService(t.hub.stores, t.hub.stores.audit);
      expect((await svc.failingEndpoints(['M29.001'])).size).to.equal(0);
    };

    // One story: the page a step leaves open and the dead letters' state (failing, refused, replayed)
    // are the next step's starting point, so the steps run in order in one case (issue 21).
    it('shows the dead letters, refuses a replay unconfirmed or without the token, then replays them', async () => {
      await step1();
      await step2();
      await step3();
      await step4();
    });
  });

  describe('audit log', () => {
    let today: string;

    before(async () => {
      // Failed logins, one of them with a user name a spreadsheet would run as a formula.
      const c = await newContext(browser, t.url);
      const p = await c.newPage();
      for (const [user, pass] of [
        ['admin', 'not-the-password'],
        ['=HYPERLINK("http://attacker.invalid")', 'whatever-password'],
      ]) {
        await p.goto('/ui/login');
        await p.fill('input[name=username]', user!);
        await p.fill('input[name=password]', pass!);
        await Promise.all([
          p.waitForResponse((r) => r.request().method() === 'POST'),
          p.click('button[type=submit]'),
        ]);
      }
      await c.close();
      // A replayed dead letter of its own (the dead-letters suite's replay may not have run yet): a
      // document, and the entry a replay writes (DeadLetterService.replay), appended to the chain.
      const msg = documentMessage('H29.001', ['H41.001'], { subject: 'Giấy mời họp (nhật ký)' });
      const r = await t.client('H29.001').submit(signed(msg, t.signingKey('H29.001')));
      await t.hub.stores.audit.append({
        actor: 'ui:admin',
        action: 'deadletter.replayed',
        subject: `${r.docId}:H41.001`,
        data: { reason: 'attempts exhausted', replay: 1 },
      });
      const last = await t.hub.stores.models.Audit.findOne().sort({ _id: -1 }).lean<{ at: Date }>();
      today = vnCalendarDay(last!.at); // the Vietnam day of the entries (not of the test's clock)
    });

    it('records failed logins and shows them readably', async () => {
      await page.goto('/ui/admin/audit');
      await page.click('#failed-logins');
      const rows = page.locator('#audit tr[data-action="user.login-failed"]');
      expect(await rows.count()).to.equal(2);
      const text = (await rows.first().textContent()) + (await rows.last().textContent())!;
      expect(text).to.contain('Đăng nhập thất bại').and.contain('sai mật khẩu').and.contain('từ địa chỉ');
    });

    it('names actions readably and links subjects to their pages', async () => {
      await page.goto('/ui/admin/audit?action=deadletter.');
      const row = page.locator('#audit tr[data-action="deadletter.replayed"]').first();
      expect(await row.locator('.action-name').textContent()).to.equal('Chuyển lại thư lỗi');
      await Promise.all([page.waitForURL(/\/ui\/documents\//), row.locator('a').first().click()]);
      expect(await page.textContent('h1')).to.contain('Giấy mời họp');
      await page.goto('/ui/admin/audit?action=user.login');
      const login = page.locator('#audit tr[data-action="user.login"]').first();
      expect(await login.locator('.action-name').textContent()).to.equal('Đăng nhập');
      expect(await login.locator('a').getAttribute('href')).to.equal('/ui/admin/users');
    });

    it('filters by Vietnam dates and refuses a reversed range next to the field', async () => {
      await page.goto(`/ui/admin/audit?from=${dmy(today)}&to=${dmy(today)}`);
      expect(await page.locator('#audit tbody tr').count()).to.be.greaterThan(0);
      const next = vnCalendarDay(new Date(Date.parse(`${today}T12:00:00+07:00`) + 86_400_000));
      await page.goto(`/ui/admin/audit?from=${dmy(next)}`);
      expect(await page.locator('#audit').count()).to.equal(0);
      const resp = await page.goto(`/ui/admin/audit?from=${dmy(next)}&to=${dmy(today)}`);
      expect(resp!.status()).to.equal(400);
      const error = page.locator('label:has(input[name=to]) #range-error');
      expect(await error.getAttribute('data-code')).to.equal('DATE_RANGE_REVERSED');
      expect(await error.textContent()).to.contain('Ngày bắt đầu sau ngày kết thúc');
      expect(await page.inputValue('input[name=from]')).to.equal(dmy(next)); // kept as typed
    });

    it('exports the filtered entries as CSV, with formulas neutralised', async () => {
      await page.goto(`/ui/admin/audit?action=user.login-failed&from=${dmy(today)}&to=${dmy(today)}`);
      const link = await page.getAttribute('#audit-export', 'href');
      const r = await page.request.get(link!);
      expect(r.status()).to.equal(200);
      expect(r.headers()['content-type']).to.contain('text/csv');
      const rows = parse<Record<string, string>>((await r.text()).replace(/^\uFEFF/, ''), {
        columns: true,
      });
      expect(rows).to.have.length(2);
      expect(
        rows.every((x) => x.action === 'user.login-failed' && x.action_name === 'Đăng nhập thất bại'),
      ).to.equal(true);
      const subjects = rows.map((x) => x.subject);
      expect(subjects).to.include('admin');
      expect(subjects.map((s) => s!.toLowerCase())).to.include(`'=hyperlink("http://attacker.invalid")`);
      expect(subjects.some((s) => s!.startsWith('='))).to.equal(false);
      // The export itself is audited.
      expect(await t.hub.stores.models.Audit.countDocuments({ action: 'ui.audit.exported' })).to.equal(1);
    });
  });

  describe('dashboard', () => {
    before(async () => {
      // A submission the hub refuses (tampered bytes), and one document 40 days old.
      const tampered = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')).replace(
        'Nội dung công văn',
        'Nội dung đã bị sửa',
      );
      await t
        .client('H29.001')
        .submit(tampered)
        .catch(() => undefined);
      // A recipient's refusal (status 02) of its own: the document-page suite's may not have run.
      const refusedByRecipient = documentMessage('H29.001', ['H41.001'], { subject: 'Văn bản bị từ chối' });
      const sent = await t.client('H29.001').submit(signed(refusedByRecipient, t.signingKey('H29.001')));
      await eventually(
        async () => (await t.hub.stores.deliveries.get(`${sent.docId}:H41.001`))?.transport === 'available',
        30_000,
        'delivery to H41.001 made',
      );
      await t
        .client('H41.001')
        .submit(signed(statusMessage('H41.001', refusedByRecipient, '02'), t.signingKey('H41.001')));
      const old = documentMessage('H29.001', ['H41.001'], { subject: 'Văn bản cũ' });
      const r = await t.client('H29.001').submit(signed(old, t.signingKey('H29.001')));
      await t.hub.stores.models.Document.updateOne(
        { _id: r.docId },
        { $set: { receivedAt: new Date(Date.now() - 40 * 86_400_000) } },
      );
    });

    // Each case starts on the dashboard (the range case used to read the page the first case opened).
    beforeEach(async () => {
      await page.goto('/ui/dashboard');
    });

    it('labels the hub’s refusals and the recipients’ refusals apart', async () => {
      await page.goto('/ui/dashboard');
      const hub = (await page.textContent('#hub-refusals'))!;
      const recipients = (await page.textContent('#recipient-refusals'))!;
      expect(hub).to.contain('Trục từ chối tiếp nhận').and.contain('SIGNATURE_INVALID');
      expect(hub).not.to.contain('Trạng thái 02');
      expect(recipients).to.contain('Nơi nhận từ chối văn bản (trạng thái 02)').and.contain('Trạng thái 02');
      expect(recipients).not.to.contain('SIGNATURE_INVALID');
    });

    it('shows the last 30 days by default, another range on request, and refuses a reversed one', async () => {
      const total = async () => Number(await page.textContent('[data-tile=documents] .tile-value'));
      expect(await page.locator('svg.chart rect.bar').count()).to.equal(30);
      const recent = await total();
      const day = (n: number) => vnCalendarDay(new Date(Date.now() - n * 86_400_000));
      await page.fill('#dash-range input[name=from]', dmy(day(45)));
      await page.fill('#dash-range input[name=to]', dmy(day(35)));
      await Promise.all([page.waitForURL(/from=/), page.click('#dash-range button[type=submit]')]);
      expect(await page.locator('svg.chart rect.bar').count()).to.equal(11);
      expect(await total()).to.equal(1); // the 40-day-old document only
      expect(recent).to.be.at.least(1); // this suite’s own recent document, whatever ran before
      expect(await page.textContent('#range-shown')).to.contain(dmy(day(45)));
      const resp = await page.goto(`/ui/dashboard?from=${dmy(day(1))}&to=${dmy(day(3))}`);
      expect(resp!.status()).to.equal(400);
      expect(await page.getAttribute('label:has(input[name=to]) #range-error', 'data-code')).to.equal(
        'DATE_RANGE_REVERSED',
      );
    });
  });
});
