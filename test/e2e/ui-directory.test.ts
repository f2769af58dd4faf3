/**
 * Registering communes in the web UI keeps the directory clean (issue 19 §1), in a real browser:
 * a duplicate name is refused naming the existing unit and registered once the form says it is a
 * different one, a merged predecessor is refused until the form corrects it, and "effective
 * 01/07/2025" stays 01/07/2025 on the page and 2025-07-01 in the export.
 */
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { browserHub, screenshot } from '../support/browser.ts';
import type { TestHub } from '../support/hub.ts';

describe('web UI (browser): registering communes keeps the directory clean', function () {
  this.timeout(120_000);
  const hub = browserHub('ui-directory', { username: 'admin', password: 'DEV-ONLY-admin-password' });
  let t: TestHub;
  let page: Page;
  before(() => {
    ({ t, page } = hub);
  });

  /** Fills the register form (a commune People's Committee) and submits it; the response status. */
  async function submit(fields: Record<string, string>): Promise<number> {
    await page.goto('/ui/admin/agencies');
    const form = page.locator('#register-form');
    // The unit type is chosen by its Vietnamese name; the value sent is still the slug.
    await form.locator('select[name=kind]').selectOption({ label: 'UBND xã, phường, đặc khu' });
    for (const [name, value] of Object.entries(fields)) {
      const el = form.locator(`[name=${name}]`);
      if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
      else await el.fill(value);
    }
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      form.locator('button.primary').click(),
    ]);
    // A registration redirects (303) to the new unit's page; a refusal answers with the form.
    if (resp.status() === 303) await page.waitForSelector('#agency-code');
    else await page.waitForLoadState();
    return resp.status();
  }

  it('refuses a duplicate name naming the existing unit, and registers it when the form says it differs', async () => {
    expect(await submit({ name: 'ubnd xa dien chau', parent: 'H41' })).to.equal(409);
    expect(await page.textContent('.flash-error')).to.contain('Đơn vị cùng tên');
    // Next to the name, in Vietnamese, naming the existing unit.
    expect(await page.textContent('#err-name')).to.contain('H41.001 "UBND xã Diễn Châu"');
    expect(await page.getAttribute('#register-form input[name=name]', 'aria-describedby')).to.equal(
      'err-name',
    );
    expect(await page.inputValue('#register-form input[name=name]')).to.equal('ubnd xa dien chau');
    await screenshot(page, 'admin-agencies-duplicate');
    expect(await submit({ name: 'ubnd xa dien chau', parent: 'H41', distinctFrom: 'H41.001' })).to.equal(303);
    expect(await page.textContent('#agency-code')).to.equal('H41.002');
  });

  it('refuses a merged predecessor until the form corrects it, and keeps the effective date', async () => {
    const base = {
      name: 'UBND phường Tân Định',
      parent: 'H29',
      predecessors: '000.02.21.H29',
      validFrom: '01/07/2025', // the UI's one date format
    };
    expect(await submit(base)).to.equal(409);
    expect(await page.textContent('#err-predecessors')).to.contain('H29.21.02');
    expect(
      await submit({ ...base, correctionMode: 'replace', correctionReason: 'Đa Kao nhập vào Tân Định' }),
    ).to.equal(303);
    const code = (await page.textContent('#agency-code'))!;
    expect(await page.textContent('main')).to.contain('01/07/2025');
    const { agency } = await t.hub.directory.get('H29.21.02');
    expect(agency.successors).to.deep.equal([code]);
    const res = await page.request.get('/ui/admin/agencies/export?format=csv');
    const rows = parse<Record<string, string>>(await res.text(), { columns: true, bom: true });
    expect(rows.find((r) => r.code === code)).to.include({ valid_from: '2025-07-01' });
  });
});
