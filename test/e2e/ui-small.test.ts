/**
 * The web UI on a phone and from the keyboard (issue 19 §5), in a real browser: at 390 × 844 the
 * header is one line with a menu button (the navigation opens over the page, with and without
 * JavaScript, aria-expanded and Escape with it), lists keep the subject readable and scroll
 * sideways instead of widening the page; on a laptop the navigation is in view at once, the first
 * Tab reaches a skip link to the main content, and header links show a clear focus ring.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHub, pullAndAck, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { launchBrowser, login, newContext, PHONE, screenshot } from '../support/browser.ts';

const CLERK_PASSWORD = 'DEV-ONLY-clerk-password';
const SUBJECT = 'Về việc sắp xếp đơn vị hành chính cấp xã và tổ chức chính quyền địa phương hai cấp';

describe('web UI (browser): small screens and keyboards', function () {
  this.timeout(120_000);
  let t: TestHub;
  let browser: Browser;
  let docId: string;
  const contexts: BrowserContext[] = [];

  /** A logged-in page in a fresh profile (closed after the file). */
  async function clerkPage(options: Parameters<typeof newContext>[2], user = 'clerk-h41'): Promise<Page> {
    const ctx = await newContext(browser, t.url, options);
    contexts.push(ctx);
    const page = await ctx.newPage();
    await login(page, user, CLERK_PASSWORD);
    return page;
  }

  /**
   * The page is no wider than the screen (nothing to scroll sideways but the tables). Measured
   * against the screen, not window.innerWidth: a phone widens its layout viewport to a page that
   * overflows.
   */
  async function noSidewaysScroll(page: Page, what = 'page width'): Promise<void> {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, what).to.be.at.most(page.viewportSize()!.width);
  }

  before(async () => {
    t = await startTestHub('ui-small');
    browser = await launchBrowser();
    const A = t.client('H29.001');
    const B = t.client('H41.001');
    const msg = documentMessage('H29.001', ['H41.001'], {
      subject: SUBJECT,
      otherInfo: { priority: 1, appendixes: [] },
    });
    const r = await A.submit(signed(msg, t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    docId = r.docId;
    await pullAndAck(B, msg.documentId);
    for (const code of ['01', '03'] as const) {
      const st = await B.submit(signed(statusMessage('H41.001', msg, code), t.signingKey('H41.001')));
      expect(st.httpStatus).to.equal(202);
    }
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await t?.close();
  });

  describe('at 390 × 844', () => {
    let page: Page;
    before(async () => {
      page = await clerkPage(PHONE);
    });

    it('keeps the header to one line with a menu button, and the subject readable', async () => {
      await page.goto('/ui/received');
      const header = (await page.locator('header.top').boundingBox())!;
      expect(header.height, 'header height').to.be.at.most(0.15 * 844);
      const button = page.locator('details.menu > summary');
      expect(await button.isVisible()).to.equal(true);
      expect(await button.getAttribute('aria-expanded')).to.equal('false');
      expect(await page.locator('header nav a').first().isVisible()).to.equal(false);
      expect(await page.locator('header .lang').isVisible()).to.equal(false);

      const subject = page.locator(`tr[data-doc="${docId}"] td:has(> a[href^="/ui/documents/"])`);
      expect(await subject.textContent()).to.contain(SUBJECT);
      expect((await subject.boundingBox())!.width, 'subject column width').to.be.at.least(200);
      // The table scrolls inside its frame; the page itself does not.
      const wrap = page.locator('.table-wrap');
      const [scroll, client] = await wrap.evaluate((e) => [e.scrollWidth, e.clientWidth]);
      expect(scroll).to.be.greaterThan(client);
      await noSidewaysScroll(page);
      await screenshot(page, 'phone-received');
    });

    it('opens the menu over the page, says so, closes it with Escape and navigates from it', async () => {
      await page.goto('/ui/received');
      const button = page.locator('details.menu > summary');
      await button.click();
      await page.waitForFunction(
        () => document.querySelector('details.menu > summary')?.getAttribute('aria-expanded') === 'true',
        null,
        { timeout: 5000 },
      );
      const sent = page.locator('header nav a[href="/ui/sent"]');
      expect(await sent.isVisible()).to.equal(true);
      expect(await page.locator('header .lang').isVisible()).to.equal(true);
      expect(await page.locator('header form button[type=submit]').isVisible()).to.equal(true);
      // One entry a line, each wide enough to hit with a thumb.
      const received = (await page.locator('header nav a[href="/ui/received"]').boundingBox())!;
      const sentBox = (await sent.boundingBox())!;
      expect(sentBox.y).to.be.greaterThan(received.y);
      expect(sentBox.height).to.be.at.least(32);
      // The open menu lies over the page: the header keeps its height.
      expect((await page.locator('header.top').boundingBox())!.height).to.be.at.most(0.15 * 844);
      await noSidewaysScroll(page);
      await screenshot(page, 'phone-menu');

      await page.keyboard.press('Escape');
      // The menu's toggle event (which sets aria-expanded) fires after the key: wait for it, bounded.
      await page.waitForFunction(
        () => document.querySelector('details.menu > summary')?.getAttribute('aria-expanded') === 'false',
        null,
        { timeout: 5000 },
      );
      expect(await sent.isVisible()).to.equal(false);
      expect(await button.evaluate((e) => e === document.activeElement)).to.equal(true);

      await button.click();
      await Promise.all([page.waitForURL(/\/ui\/sent$/), sent.click()]);
      expect(await page.textContent('h1')).to.equal('Văn bản đi');
      expect(await page.locator('header nav a[href="/ui/sent"]').isVisible()).to.equal(false); // closed again
    });

    it('shows a document page without widening the page', async () => {
      await page.goto(`/ui/documents/${docId}`);
      expect(await page.textContent('h1')).to.contain(SUBJECT);
      expect(await page.locator('section.delivery ol.timeline li').count()).to.equal(2);
      await noSidewaysScroll(page);
      await screenshot(page, 'phone-document');
    });

    it('fits every page of an administrator’s menu to the screen', async () => {
      const admin = await newContext(browser, t.url, PHONE);
      contexts.push(admin);
      const p = await admin.newPage();
      await login(p, 'admin', 'DEV-ONLY-admin-password');
      const paths = await p
        .locator('header nav a')
        .evaluateAll((links) => links.map((a) => a.getAttribute('href')!));
      expect(paths).to.have.length.at.least(9);
      for (const path of [
        ...paths,
        `/ui/documents/${docId}`,
        '/ui/admin/agencies/H41',
        '/ui/admin/agencies/import',
      ]) {
        expect((await p.goto(path))?.status(), path).to.equal(200);
        expect((await p.locator('header.top').boundingBox())!.height, path).to.be.at.most(0.15 * 844);
        await noSidewaysScroll(p, path);
      }
    });

    it('opens the menu without JavaScript too', async () => {
      const p = await clerkPage({ ...PHONE, javaScriptEnabled: false });
      await p.goto('/ui/received');
      const sent = p.locator('header nav a[href="/ui/sent"]');
      expect(await sent.isVisible()).to.equal(false);
      await p.click('details.menu > summary');
      expect(await sent.isVisible()).to.equal(true);
      await Promise.all([p.waitForURL(/\/ui\/sent$/), sent.click()]);
      expect(await p.textContent('h1')).to.equal('Văn bản đi');
    });
  });

  describe('on a laptop, from the keyboard', () => {
    let page: Page;
    before(async () => {
      page = await clerkPage({});
    });

    it('shows the navigation at once, without a menu button', async () => {
      await page.goto('/ui/received');
      expect(await page.locator('details.menu > summary').isVisible()).to.equal(false);
      for (const path of ['/ui/received', '/ui/sent'])
        expect(await page.locator(`header nav a[href="${path}"]`).isVisible(), path).to.equal(true);
      expect(await page.locator('header .lang').isVisible()).to.equal(true);
      const header = (await page.locator('header.top').boundingBox())!;
      expect(header.height).to.be.at.most(60);
    });

    it('reaches a visible skip link with the first Tab, and it moves to the main content', async () => {
      await page.goto('/ui/received');
      const skip = page.locator('a.skip');
      expect(await skip.isVisible()).to.equal(true); // in the DOM, but placed out of view …
      expect((await skip.boundingBox())!.y + (await skip.boundingBox())!.height).to.be.at.most(0);
      await page.keyboard.press('Tab');
      expect(await skip.evaluate((e) => e === document.activeElement)).to.equal(true);
      expect(await skip.textContent()).to.equal('Bỏ qua đến nội dung chính');
      const box = (await skip.boundingBox())!; // … until it has the focus
      expect(box.y).to.be.at.least(0);
      expect(box.height).to.be.greaterThan(10);
      expect(await skip.getAttribute('href')).to.equal('#main');
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => document.activeElement?.id)).to.equal('main');
      expect(await page.evaluate(() => document.activeElement?.tagName)).to.equal('MAIN');
      // The next Tab goes on inside the content (the filter form), not back to the header.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => !!document.activeElement?.closest('main'))).to.equal(true);
    });

    it('rings a header link focused from the keyboard clearly', async () => {
      await page.goto('/ui/received');
      const link = page.locator('header nav a[href="/ui/sent"]');
      const ringOf = () =>
        link.evaluate((e) => {
          const s = getComputedStyle(e);
          return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor };
        });
      expect((await ringOf()).style).to.equal('none');
      // Tab through: skip link, brand, "Received", "Sent".
      for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
      expect(await link.evaluate((e) => e === document.activeElement)).to.equal(true);
      const ring = await ringOf();
      expect(ring.style).to.equal('solid');
      expect(ring.width).to.be.at.least(2);
      expect(ring.color).to.equal('rgb(255, 255, 255)'); // white on the red header
      const header = await page.locator('header.top').evaluate((e) => getComputedStyle(e).backgroundColor);
      expect(ring.color).not.to.equal(header);
      // The logout button gets it too.
      await page.locator('header form button[type=submit]').focus();
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab');
      const button = await page
        .locator('header form button[type=submit]')
        .evaluate((e) => getComputedStyle(e).outlineStyle);
      expect(button).to.equal('solid');
    });

    it('says it in English on the English pages', async () => {
      await page.goto(`/ui/lang/en?next=${encodeURIComponent('/ui/received')}`);
      try {
        expect(await page.textContent('a.skip')).to.equal('Skip to main content');
        expect(await page.textContent('details.menu > summary')).to.equal('Menu');
      } finally {
        // Back to Vietnamese: the other tests share this page (shuffled run, seed 7).
        await page.goto(`/ui/lang/vi?next=${encodeURIComponent('/ui/received')}`);
      }
    });
  });
});
