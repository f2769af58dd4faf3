/**
 * Forms and errors a clerk can act on (issue 19 §2), in a real browser on the real store: every
 * refusal next to the field it concerns in the page's language with what was typed kept; the unit
 * type by its Vietnamese name; parent and province by search-as-you-type; the next code shown
 * before confirming without burning it; the import template, a semicolon file as Excel writes it,
 * Vietnamese reasons per row and the dry run's codes; https-only endpoints (the hub runs with the
 * production rule); a unit's page pages through all its subordinate units.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { browserHub, screenshot } from '../support/browser.ts';
import { eventually, type TestHub } from '../support/hub.ts';

describe('web UI (browser): directory forms a clerk can act on', function () {
  this.timeout(120_000);
  const hub = browserHub(
    'ui-forms',
    { username: 'admin', password: 'DEV-ONLY-admin-password' },
    { directory: { allowHttpEndpoints: false } },
  );
  let t: TestHub;
  let page: Page;
  before(() => {
    ({ t, page } = hub);
  });

  const form = () => page.locator('#register-form');

  /** Submits a form with its primary (or given) button; the response status. */
  async function send(button: string): Promise<number> {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.locator(button).click(),
    ]);
    await page.waitForLoadState();
    return resp.status();
  }

  it('shows each refusal next to its field in Vietnamese and keeps what was typed', async () => {
    await page.goto('/ui/admin/agencies');
    await form().locator('[name=name]').fill('UBND xã Thử Lỗi');
    await form().locator('[name=parent]').fill('H41');
    await form().locator('[name=phone]').fill('gọi văn thư');
    await form().locator('[name=mode]').selectOption('push');
    expect(await send('#register-form button.primary')).to.equal(400);
    expect(await page.textContent('#err-phone')).to.contain('"gọi văn thư" không phải số điện thoại');
    expect(await page.textContent('#err-url')).to.contain('cần địa chỉ điểm nhận');
    const phone = form().locator('[name=phone]');
    expect(await phone.getAttribute('aria-invalid')).to.equal('true');
    expect(await phone.getAttribute('aria-describedby')).to.equal('err-phone');
    expect(await page.textContent('.flash-error')).to.contain('Dữ liệu không hợp lệ');
    expect(await page.textContent('main')).to.not.contain('is not a number');
    expect(await form().locator('[name=name]').inputValue()).to.equal('UBND xã Thử Lỗi');
    expect(await form().locator('[name=parent]').inputValue()).to.equal('H41');
    expect(await form().locator('[name=mode]').inputValue()).to.equal('push');
    await form().locator('#err-phone').scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-agencies-field-error');

    // The close form: its date, in Vietnamese, next to the date; the successors typed are kept.
    await page.goto('/ui/admin/agencies/H41.001');
    await page.fill('#close input[name=successors]', 'H41.999');
    await page.fill('#close input[name=at]', '31/02/2025');
    page.once('dialog', (d) => void d.accept());
    expect(await send('#close button[type=submit]')).to.equal(400);
    expect(await page.textContent('#err-at')).to.equal('Ngày không hợp lệ (dd/mm/yyyy).');
    expect(await page.inputValue('#close input[name=successors]')).to.equal('H41.999');

    // The same refusal on an English page is in English.
    await page.goto('/ui/lang/en?next=/ui/admin/agencies');
    await form().locator('[name=name]').fill('UBND xã Thử Lỗi');
    await form().locator('[name=parent]').fill('H41');
    await form().locator('[name=phone]').fill('gọi văn thư');
    expect(await send('#register-form button.primary')).to.equal(400);
    expect(await page.textContent('#err-phone')).to.contain('is not a phone number');
    await page.goto('/ui/lang/vi?next=/ui/admin/agencies');
  });

  it('refuses an http:// endpoint next to the field, outside development', async () => {
    await page.goto('/ui/admin/agencies/H41.001');
    await page.selectOption('#delivery select[name=mode]', 'push');
    await page.fill('#delivery input[name=url]', 'http://dms.example.vn/inbox');
    expect(await send('#delivery button[type=submit]')).to.equal(422);
    expect(await page.textContent('#err-url')).to.contain('phải bắt đầu bằng https://');
    expect(await page.inputValue('#delivery input[name=url]')).to.equal('http://dms.example.vn/inbox');
    expect((await t.hub.directory.get('H41.001')).agency.delivery.mode).to.equal('pull');
    // The endpoints page's form: the same rule, the same place for the refusal.
    await page.goto('/ui/admin/endpoints');
    const form = page.locator('form[action="/ui/admin/endpoints"]');
    await form.locator('input[name=code]').fill('H41.001');
    await form.locator('select[name=mode]').selectOption('push');
    await form.locator('input[name=url]').fill('http://dms.example.vn/inbox');
    expect(await send('form[action="/ui/admin/endpoints"] button[type=submit]')).to.equal(422);
    expect(await page.textContent('#err-url')).to.contain('phải bắt đầu bằng https://');
    expect(await page.getAttribute('input[name=url]', 'aria-invalid')).to.equal('true');
    expect(await page.inputValue('form[action="/ui/admin/endpoints"] input[name=code]')).to.equal('H41.001');
    expect(await page.inputValue('form[action="/ui/admin/endpoints"] input[name=url]')).to.equal(
      'http://dms.example.vn/inbox',
    );
    expect((await t.hub.directory.get('H41.001')).agency.delivery.mode).to.equal('pull');
  });

  it('takes the unit type by name, the parent by search-as-you-type, and shows the next code without burning it', async () => {
    await page.goto('/ui/admin/agencies');
    const kinds = await form().locator('select[name=kind] option').allTextContents();
    expect(kinds).to.include.members(['UBND xã, phường, đặc khu', 'Đảng ủy xã, phường, đặc khu']);
    // Search-as-you-type: a name without diacritics finds the unit by code and name.
    await form().locator('[name=parent]').pressSequentially('dien chau');
    await page.waitForSelector('#parent-options option[value="H41.001"]', { state: 'attached' });
    const provinces = await page.request.get('/ui/admin/agencies/lookup?scope=province&q=nghe an');
    const found = ((await provinces.json()) as { items: { code: string }[] }).items.map((a) => a.code);
    expect(found).to.include('H41').and.not.include('H41.001');

    // Live preview of the code, then the no-JS preview step: the same code, nothing reserved.
    const expected = (await t.hub.directory.peekCodes('H41', 1))[0]!;
    await form().locator('[name=parent]').fill('H41');
    await eventually(
      async () => (await page.textContent('#next-code'))?.trim() === expected,
      5_000,
      'preview',
    );
    await form().locator('[name=name]').fill('UBND xã Thử Mã');
    expect(await send('#register-form button[name=preview]')).to.equal(200);
    expect((await page.textContent('#next-code'))!.trim()).to.equal(expected);
    expect(await form().locator('[name=name]').inputValue()).to.equal('UBND xã Thử Mã');
    expect((await t.hub.directory.peekCodes('H41', 1))[0]).to.equal(expected);

    await form().locator('select[name=kind]').selectOption({ label: 'UBND xã, phường, đặc khu' });
    expect(await send('#register-form button.primary')).to.equal(303);
    expect(await page.textContent('#agency-code')).to.equal(expected);
    const { agency } = await t.hub.directory.get(expected);
    expect(agency.kind).to.equal('commune-people-committee'); // the slug, as the API and CLI send it
    expect(await page.textContent('main')).to.contain('UBND xã, phường, đặc khu');
  });

  it('imports a semicolon file as Excel writes it: template, Vietnamese reasons per row, dry-run codes', async () => {
    const template = await page.request.get('/ui/admin/agencies/import/template.csv');
    const body = await template.body();
    expect(body.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).to.equal(true);
    expect(body.toString('utf8')).to.match(/^\uFEFFname;block;kind;parent;/);

    const importFile = async (csv: string, dryRun: boolean) => {
      await page.goto('/ui/admin/agencies/import');
      await page.fill('#import-form textarea[name=csv]', csv);
      if (dryRun) await page.check('#import-form input[name=dryRun]');
      await page.click('#import-form button[type=submit]');
      await page.waitForSelector('#job[data-state=done], #job[data-state=failed]', { timeout: 30_000 });
    };

    const bad =
      '\uFEFFname;block;kind;parent;email\r\n' +
      'Ủy ban MTTQ xã Một;front;commune-front-committee;M99;\r\n' +
      'Ủy ban MTTQ xã Hai;front;commune-front-committee;M41;mttq@\r\n';
    await importFile(bad, true);
    const rows = await page.locator('#import-errors tbody tr').allTextContents();
    expect(rows).to.have.length(2); // one reason each: no echo of the unknown parent
    expect(rows[0]).to.contain('parent').and.contain('Không có cơ quan M99 trong danh bạ');
    expect(rows[1]).to.contain('email').and.contain('"mttq@" không phải địa chỉ thư điện tử');
    expect(await page.textContent('#job')).to.not.contain('is not');

    const before = await t.hub.directory.peekCodes('M41', 2);
    const good =
      '\uFEFFname;block;kind;parent;valid_from\r\n' +
      'Ủy ban MTTQ xã Ba;front;commune-front-committee;M41;01/07/2025\r\n' +
      'Ủy ban MTTQ xã Bốn;front;commune-front-committee;M41;01/07/2025\r\n';
    await importFile(good, true);
    const preview = await page.locator('#import-preview tbody tr').allTextContents();
    expect(preview).to.have.length(2);
    expect(preview[0]).to.contain(before[0]).and.contain('Ủy ban MTTQ xã Ba');
    expect(preview[1]).to.contain(before[1]).and.contain('Ủy ban MTTQ xã Bốn');
    expect(await page.locator('#job a[href$="result.csv"]').count()).to.equal(0); // a dry run has no result file
    await screenshot(page, 'admin-import-dry-run');
    expect(await t.hub.directory.peekCodes('M41', 2)).to.deep.equal(before); // nothing reserved
  });

  it("pages through all of a unit's subordinate units", async () => {
    const rows = Array.from(
      { length: 55 },
      (_, i) => `Đảng ủy xã Thử ${i + 1},party,commune-party-committee,D41`,
    );
    await t.hub.directory.importCsv('test', ['name,block,kind,parent', ...rows].join('\n'));
    await page.goto('/ui/admin/agencies/D41');
    expect(await page.locator('#children-list li').count()).to.equal(50);
    await page.click('#children ~ nav.pager a[rel=next], nav.pager a[rel=next]');
    await page.waitForLoadState();
    // 56 units under D41 (D41.001 and the 55 imported): the last 6 on page 2, none twice.
    expect(await page.locator('#children-list li').count()).to.equal(6);
    expect(await page.textContent('#children-list')).to.contain('D41.056');
    expect(await page.locator('nav.pager a[rel=next]').count()).to.equal(0);
  });
});
