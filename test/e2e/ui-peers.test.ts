/**
 * The federation peers page (docs/federation.md) in a real browser: a hub with one configured peer
 * (the national axis, here an address where nothing answers), whose agency list was applied (three
 * units and one code this hub holds), and a failed sync: units served, conflict, last error.
 * Beside it a peer added by an administrator (issue 22, fedapi), which an administrator disables and
 * enables with the page's CSRF-protected forms (audited); the configured one is "from config,
 * read-only here"; auditors see no form and are refused (403), clerks do not reach the page (403).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { csrfOf, launchBrowser, login, newContext, screenshot } from '../support/browser.ts';
import { DEV_ROOT_PEM } from '../support/peers.ts';

describe('web UI (browser): federation peers page', function () {
  this.timeout(120_000);
  let t: TestHub;
  let browser: Browser;
  let ctx: BrowserContext;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ui-peers-'));
    writeFileSync(path.join(dir, 'axis.secret'), 'DEV-ONLY-peer-secret-0123456789');
    t = await startTestHub('ui-peers', {
      federation: {
        allowInsecureLoopback: true,
        peers: [
          {
            id: 'vdxp',
            name: 'Trục liên thông văn bản quốc gia',
            // Port 9 (discard) on loopback: nothing answers, the sync fails and is recorded.
            baseUrl: 'http://127.0.0.1:9/vdxp',
            systemId: '000.00.00.G22',
            secretFile: path.join(dir, 'axis.secret'),
            trustedRoots: ['certs-dev/root-ca.pem'],
            outbound: 'push',
            pollIntervalMs: 0,
            syncIntervalMs: 3_600_000,
            timeoutMs: 2_000,
          },
        ],
      },
    });
    await t.hub.federation.directory.apply('vdxp', [
      { code: 'H01', name: 'UBND Thành phố Hà Nội' },
      { code: 'H01.001', name: 'UBND phường Hoàn Kiếm', pid: 'H01' },
      { code: 'H01.002', name: 'UBND phường Ba Đình', pid: 'H01' },
      { code: 'G22', name: 'Văn phòng Chính phủ (trục)' },
    ]);
    await t.hub.federation.sync('vdxp').catch(() => undefined); // nothing answers: recorded
    // A peer added by an administrator (hubctl peers add does the same through this service).
    await t.hub.federation
      .admin({
        audit: t.hub.stores.audit,
        systems: t.hub.stores.credentials,
        deadLetter: () => Promise.resolve(),
      })
      .add('test', {
        id: 'hub-hcm',
        name: 'Trục liên thông TP. Hồ Chí Minh',
        baseUrl: 'http://127.0.0.1:9/vdxp',
        systemId: 'hub-hanoi',
        secret: 'DEV-ONLY-hcm-secret-0123456789',
        trustedRootsPem: DEV_ROOT_PEM,
        pollIntervalMs: 0,
        timeoutMs: 2_000,
      });
    browser = await launchBrowser();
  });
  const contexts: BrowserContext[] = [];
  const pageAs = async (user: string, password: string): Promise<Page> => {
    const c = await newContext(browser, t.url);
    contexts.push(c);
    const page = await c.newPage();
    await login(page, user, password);
    return page;
  };

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await ctx?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the units a peer serves, the code conflict and the last error', async () => {
    ctx = await newContext(browser, t.url);
    const page = await ctx.newPage();
    await login(page, 'admin', 'DEV-ONLY-admin-password');
    await page.goto('/ui/admin/peers');
    const row = page.locator('tr[data-peer=vdxp]');
    const text = (await row.textContent()) ?? '';
    expect(text).to.contain('Trục liên thông văn bản quốc gia');
    expect(text).to.match(/3:\s*H01/);
    expect(text).to.contain('G22');
    expect(text).to.contain('getAgenciesList');
    await screenshot(page, 'admin-peers');
    // The remote unit is shown as served by the peer, and the local one stays local.
    const h01 = await t.hub.stores.agencies.findByCode('H01.001');
    expect(h01?.delivery).to.deep.equal({ mode: 'peer', peer: 'vdxp' });
    expect((await t.hub.stores.agencies.findByCode('G22'))?.delivery.mode).to.equal('pull');
  });

  it('shows each peer’s source and state; an administrator disables and enables a stored peer', async () => {
    const page = await pageAs('admin', 'DEV-ONLY-admin-password');
    await page.goto('/ui/admin/peers');
    const cfg = page.locator('tr[data-peer=vdxp]');
    expect(await cfg.getAttribute('data-source')).to.equal('config');
    expect(await cfg.locator('form').count()).to.equal(0); // read-only here
    expect(await cfg.textContent()).to.match(/tệp cấu hình|from config/);
    const row = page.locator('tr[data-peer=hub-hcm]');
    expect(await row.getAttribute('data-enabled')).to.equal('yes');

    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/ok=1/), row.locator('button[type=submit]').click()]);
    expect(await page.locator('tr[data-peer=hub-hcm]').getAttribute('data-enabled')).to.equal('no');
    expect(t.hub.federation.peers.get('hub-hcm')?.enabled).to.equal(false);
    await screenshot(page, 'admin-peers-manage');

    await Promise.all([
      page.waitForURL(/ok=1/),
      page.locator('tr[data-peer=hub-hcm] button[type=submit]').click(),
    ]);
    expect(await page.locator('tr[data-peer=hub-hcm]').getAttribute('data-enabled')).to.equal('yes');
    const audit = await t.hub.mongo
      .db!.collection('audit')
      .find({ subject: 'hub-hcm', action: /^federation\.peer\.(dis|en)able$/ })
      .toArray();
    expect(audit.map((e) => [String(e.action), String(e.actor)])).to.deep.equal([
      ['federation.peer.disable', 'ui:admin'],
      ['federation.peer.enable', 'ui:admin'],
    ]);
  });

  it('refuses the disable form without the anti-forgery token', async () => {
    const page = await pageAs('admin', 'DEV-ONLY-admin-password');
    const r = await page.request.post('/ui/admin/peers/hub-hcm/disable', { form: {}, maxRedirects: 0 });
    expect(r.status()).to.equal(403);
    expect(await r.text()).to.contain('CSRF_INVALID');
    expect(t.hub.federation.peers.get('hub-hcm')?.enabled).to.equal(true);
  });

  it('auditors see the page without forms and are refused (403); clerks do not reach it', async () => {
    const auditor = await pageAs('auditor', 'DEV-ONLY-auditor-password');
    await auditor.goto('/ui/admin/peers');
    expect(await auditor.locator('tr[data-peer=hub-hcm] form').count()).to.equal(0);
    const token = await csrfOf(auditor);
    const r = await auditor.request.post('/ui/admin/peers/hub-hcm/disable', {
      form: { _csrf: token },
      maxRedirects: 0,
    });
    expect(r.status()).to.equal(403);
    expect(await r.text()).to.contain('FORBIDDEN');
    expect(t.hub.federation.peers.get('hub-hcm')?.enabled).to.equal(true);

    const clerk = await pageAs('clerk-h29', 'DEV-ONLY-clerk-password');
    const res = await clerk.goto('/ui/admin/peers');
    expect(res?.status()).to.equal(403);
  });
});
