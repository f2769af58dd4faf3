/**
 * The federation peers page (docs/federation.md) in a real browser: a hub with one configured peer
 * (the national axis, here an address where nothing answers), whose agency list was applied (three
 * units and one code this hub holds), and a failed sync: units served, conflict, last error.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { launchBrowser, login, newContext, screenshot } from '../support/browser.ts';

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
    browser = await launchBrowser();
  });
  after(async () => {
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
});
