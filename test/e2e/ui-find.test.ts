/**
 * Finding documents in a real browser (issue 19 §3): number search without case or diacritics
 * (also on documents stored before the search key), sender/recipient by name, a reversed date
 * range refused beside its field, paging, sorting, CSV export of what the filter shows, new
 * (unopened) documents marked and counted, and administrators told whose status is whose.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHub, eventually, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { launchBrowser, login, newContext, screenshot } from '../support/browser.ts';
import type { EdocMessage } from '../../src/domain/edxml/index.ts';
import { foldVietnamese } from '../../src/domain/text.ts';
import type { HubClient } from '../../src/sdk/client.ts';
import { MongoWebQueryStore } from '../../src/store/web-store.ts';

const CLERK_PASSWORD = 'DEV-ONLY-clerk-password';
const PLAIN = 28; // plus four particular documents: 32 received by H41.001, two pages of 25

describe('web UI (browser): finding documents', function () {
  this.timeout(180_000);
  let t: TestHub;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let A: HubClient; // H29.001 (UBND phường Sài Gòn) sends
  const ids = { qd: '', legacy: '', formula: '', two: '' };
  const subjects = new Map<string, string>();

  async function send(msg: EdocMessage): Promise<string> {
    const r = await A.submit(signed(msg, t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    subjects.set(r.docId, msg.subject);
    return r.docId;
  }
  const rows = () => page.locator('table.list tbody tr');
  const docIdsShown = async () =>
    Promise.all((await rows().all()).map(async (r) => (await r.getAttribute('data-doc'))!));
  const total = async () => Number(await page.locator('[data-total]').getAttribute('data-total'));

  before(async () => {
    t = await startTestHub('ui-find');
    A = t.client('H29.001');
    browser = await launchBrowser();
    const numbered = (n: string, notation: string, subject: string, to = ['H41.001']) =>
      documentMessage('H29.001', to, {
        code: { codeNumber: n, codeNotation: notation },
        documentId: `H29.001,2026/11/22,${n}/${notation}`,
        subject,
      });
    ids.qd = await send(numbered('15', 'QĐ-VPCP', 'Quyết định về tổ chức bộ máy xã'));
    ids.legacy = await send(numbered('16', 'CV-ĐTN', 'Công văn gửi trước khi có khóa tìm kiếm'));
    ids.formula = await send(numbered('17', 'TB', '=HYPERLINK("http://evil.example","bấm vào đây")'));
    ids.two = await send(numbered('18', 'KH-UBND', 'Kế hoạch gửi hai nơi', ['H41.001', 'D29.001']));
    for (let i = 0; i < PLAIN; i += 7)
      await Promise.all(
        Array.from({ length: Math.min(7, PLAIN - i) }, (_, j) =>
          send(documentMessage('H29.001', ['H41.001'], { subject: `Công văn thường lệ số ${i + j + 1}` })),
        ),
      );
    // A document accepted before the number key was stored: what an older hub left behind.
    await t.hub.mongo
      .collection('documents')
      .updateOne({ _id: ids.legacy as never }, { $unset: { 'meta.numberKey': '' } });
    await eventually(
      async () =>
        (await t.hub.stores.models.Delivery.countDocuments({
          recipientCode: 'H41.001',
          transport: { $ne: 'queued' },
        })) ===
        PLAIN + 4,
      30_000,
      'every delivery available to H41.001',
    );
    ctx = await newContext(browser, t.url);
    page = await ctx.newPage();
    await login(page, 'clerk-h41', CLERK_PASSWORD);
  });
  after(async () => {
    await ctx?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await t?.close();
  });

  it('finds a number/notation without case or diacritics, also on documents stored before the key', async () => {
    for (const typed of ['qd-vpcp', '15/qđ', '15 / QD-VPCP', 'QĐ-VPCP']) {
      await page.goto(`/ui/received?number=${encodeURIComponent(typed)}`);
      expect(await docIdsShown(), typed).to.deep.equal([ids.qd]);
    }
    await page.goto(`/ui/received?number=${encodeURIComponent('5/qd')}`); // anchored: not 15/QĐ
    expect(await rows().count()).to.equal(0);
    // Without a stored key, the number and notation as written still find it…
    await page.goto(`/ui/received?number=${encodeURIComponent('16/cv-đtn')}`);
    expect(await docIdsShown()).to.deep.equal([ids.legacy]);
    // …and the start-up backfill gives it the key, so diacritics no longer matter.
    expect(await new MongoWebQueryStore(t.hub.stores.models).backfillNumberKeys()).to.be.greaterThan(0);
    await page.goto('/ui/received?number=cv-dtn');
    expect(await docIdsShown()).to.deep.equal([ids.legacy]);
  });

  it('matches the sender by name (without diacritics) as well as by code', async () => {
    await page.goto(`/ui/received?counterpart=${encodeURIComponent('phuong sai gon')}`);
    expect(await total()).to.equal(PLAIN + 4);
    await page.goto('/ui/received?counterpart=h29.001');
    expect(await total()).to.equal(PLAIN + 4);
    await page.goto(`/ui/received?counterpart=${encodeURIComponent('UBND xã Diễn Châu')}`);
    expect(await total()).to.equal(0);
    expect(await page.locator('p.empty').count()).to.equal(1);
  });

  it('says a reversed date range is reversed, beside the field, in Vietnamese and English', async () => {
    const url = '/ui/received?from=2026-12-05&to=2026-12-01';
    expect((await page.goto(url))?.status()).to.equal(400);
    const err = page.locator('.filters .field-error[data-code="DATE_RANGE_REVERSED"]');
    expect(await err.textContent()).to.equal('Ngày bắt đầu sau ngày kết thúc.');
    expect(await page.locator('input[name=to]').getAttribute('aria-invalid')).to.equal('true');
    expect(await page.locator('input[name=from]').inputValue()).to.equal('2026-12-05'); // kept
    expect(await page.locator('table.list').count()).to.equal(0); // not an empty list
    await page.goto(`/ui/lang/en?next=${encodeURIComponent(url)}`);
    expect(await err.textContent()).to.equal('The start date is after the end date.');
    await page.goto(`/ui/lang/vi?next=${encodeURIComponent('/ui/received')}`);
    // The UI's one date format, dd/mm/yyyy, as text fields (not the browser's own date picker).
    expect((await page.goto('/ui/received?from=05/12/2026&to=01/12/2026'))?.status()).to.equal(400);
    expect(await page.locator('input[name=from]').getAttribute('placeholder')).to.equal('dd/mm/yyyy');
    expect((await page.goto('/ui/received?from=01/01/2020&to=31/12/2099'))?.status()).to.equal(200);
    expect(await total()).to.equal(PLAIN + 4);
    expect((await page.goto('/ui/received?from=31/02/2026'))?.status()).to.equal(400);
    expect(await page.locator('input[name=from]').getAttribute('aria-invalid')).to.equal('true');
  });

  it('counts, pages and sorts the list, and marks new documents', async () => {
    await page.goto('/ui/received');
    expect(await total()).to.equal(PLAIN + 4);
    expect(await page.textContent('p.count')).to.contain(`1–25 trong ${PLAIN + 4} văn bản`);
    expect(await rows().count()).to.equal(25);
    expect(await page.locator('tr.new .badge-new').count()).to.equal(25);
    expect(await page.textContent('.top nav a[href="/ui/received"] .nav-count')).to.equal(String(PLAIN + 4));
    expect(await page.locator('.pager [aria-current="page"]').textContent()).to.equal('1');
    await screenshot(page, 'received-find');
    await page.click('.pager a[data-page="2"]');
    expect(await rows().count()).to.equal(PLAIN + 4 - 25);
    expect(await page.locator('.pager [aria-current="page"]').textContent()).to.equal('2');
    await page.click('.pager a[rel=prev]');
    expect(await rows().count()).to.equal(25);

    // Sorting by subject: a click sorts ascending, a second click descending; aria-sort follows.
    await page.click('th[data-sort="subject"] a');
    expect(new URL(page.url()).searchParams.get('dir')).to.equal('asc');
    expect(await page.getAttribute('th[data-sort="subject"]', 'aria-sort')).to.equal('ascending');
    expect(await page.getAttribute('th[data-sort="received"]', 'aria-sort')).to.equal('none');
    const asc = await docIdsShown();
    await page.click('.pager a[rel=next]'); // the sort is kept while paging
    const all = [...asc, ...(await docIdsShown())];
    const expected = [...subjects.entries()]
      .map(([id, s]) => ({ id, k: foldVietnamese(s) }))
      .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.id < b.id ? -1 : 1))
      .map((x) => x.id);
    expect(all).to.deep.equal(expected);
    await page.goto('/ui/received?sort=subject&dir=asc');
    await page.click('th[data-sort="subject"] a');
    expect(await page.getAttribute('th[data-sort="subject"]', 'aria-sort')).to.equal('descending');
    expect((await docIdsShown())[0]).to.equal(expected.at(-1));

    // Many equal priorities: the _id tiebreak keeps pages from overlapping.
    await page.goto('/ui/received?sort=priority&dir=asc');
    const p1 = await docIdsShown();
    await page.goto('/ui/received?sort=priority&dir=asc&page=2');
    const p2 = await docIdsShown();
    expect(new Set([...p1, ...p2]).size).to.equal(PLAIN + 4);

    // Only whitelisted columns sort.
    expect((await page.goto('/ui/received?sort=receipt'))?.status()).to.equal(400);
    expect((await page.goto('/ui/sent?sort=counterpart'))?.status()).to.equal(400);
  });

  it('exports exactly what the filter shows as CSV (BOM, Vietnam dates, formulas defused)', async () => {
    await page.goto(`/ui/received?counterpart=H29&sort=subject&dir=asc`);
    const link = await page.getAttribute('a.export', 'href');
    expect(link).to.equal('/ui/received.csv?counterpart=H29&sort=subject&dir=asc');
    const r = await page.request.get(link!);
    expect(r.status()).to.equal(200);
    expect(r.headers()['content-type']).to.match(/^text\/csv; charset=utf-8/);
    const bytes = await r.body();
    expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').trim().split('\r\n');
    expect(lines).to.have.length(PLAIN + 4 + 1);
    expect(lines[0]).to.equal(
      'Số/Ký hiệu,Trích yếu,Cơ quan gửi,Ngày nhận,Độ khẩn,Trạng thái,Hạn tiếp nhận,Mới',
    );
    expect(lines[1]).to.contain(`"'=HYPERLINK(""http://evil.example"",""bấm vào đây"")"`);
    const today = new Intl.DateTimeFormat('vi-VN', {
      timeZone: 'Asia/Ho_Chi_Minh',
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
    }).format(new Date());
    expect(lines[1]).to.contain(today);
    expect(lines[1]).to.contain('H29.001 UBND phường Sài Gòn');
    const one = await page.request.get('/ui/received.csv?number=qd-vpcp');
    const oneLines = (await one.text()).trim().split('\r\n');
    expect(oneLines).to.have.length(2);
    expect(oneLines[1]).to.contain('15/QĐ-VPCP');
    const audited = await t.hub.stores.models.Audit.findOne({ action: 'ui.list.exported' })
      .sort({ _id: -1 })
      .lean<{ actor: string; subject: string; data: { rows: number } }>();
    expect(audited).to.include({ actor: 'ui:clerk-h41', subject: 'received' });
    expect(audited?.data.rows).to.equal(1);
    // A refused filter exports nothing.
    expect((await page.request.get('/ui/received.csv?from=2026-12-05&to=2026-12-01')).status()).to.equal(400);
  });

  it('opening a document clears its new mark and lowers the count in the navigation', async () => {
    try {
      await page.goto('/ui/received?number=qd-vpcp');
      await page.click(`tr[data-doc="${ids.qd}"] a`);
      expect(new URL(page.url()).pathname).to.equal(`/ui/documents/${ids.qd}`);
      await page.goto('/ui/received');
      expect(await page.textContent('.top nav a[href="/ui/received"] .nav-count')).to.equal(
        String(PLAIN + 3),
      );
      expect(await page.textContent('.new-count')).to.contain(String(PLAIN + 3));
      await page.goto('/ui/received?number=qd-vpcp');
      expect(await page.locator(`tr[data-doc="${ids.qd}"]`).getAttribute('class')).to.not.contain('new');
      const d = await t.hub.stores.models.Delivery.findOne({ docId: ids.qd, recipientCode: 'H41.001' }).lean<{
        openedAt?: Date;
        openedBy?: string;
      }>();
      expect(d?.openedBy).to.equal('clerk-h41');
      expect(d?.openedAt).to.be.instanceOf(Date);
    } finally {
      // New again, as the other tests count it (shuffled run, seed 918273).
      await t.hub.stores.models.Delivery.updateOne(
        { docId: ids.qd, recipientCode: 'H41.001' },
        { $unset: { openedAt: 1, openedBy: 1 } },
      );
    }
  });

  it('shows administrators whose status is whose, and their opening marks nothing', async () => {
    const actx = await newContext(browser, t.url);
    try {
      const admin = await actx.newPage();
      await login(admin, 'admin', 'DEV-ONLY-admin-password');
      await admin.goto('/ui/received?number=18/KH-UBND');
      const row = admin.locator(`tr[data-doc="${ids.two}"]`);
      expect(await row.locator('li[data-recipient="H41.001"] [data-status]').count()).to.equal(1);
      expect(await row.locator('li[data-recipient="D29.001"] [data-status]').count()).to.equal(1);
      expect(await admin.locator('.nav-count').count()).to.equal(0);
      await admin.goto(`/ui/documents/${ids.two}`);
      const opened = await t.hub.stores.models.Delivery.countDocuments({
        docId: ids.two,
        openedAt: { $exists: true },
      });
      expect(opened).to.equal(0);
      // The sent list's recipient filter matches names too.
      await admin.goto(`/ui/sent?counterpart=${encodeURIComponent('dang uy phuong sai gon')}`);
      expect(
        await admin
          .locator('table.list tbody tr')
          .evaluateAll((trs) => trs.map((r) => r.getAttribute('data-doc'))),
      ).to.deep.equal([ids.two]);
    } finally {
      await actx.close();
    }
  });
});
