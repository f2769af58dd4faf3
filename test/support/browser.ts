/**
 * The real browser for the web UI tests: Debian's chromium driven by playwright-core (no browser
 * download). Screenshots go to SCREENSHOT_DIR (`npm run screenshots` sets docs/screenshots), else
 * to a temporary folder.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import { PROJECT_ROOT, type ConfigOverrides } from '../../src/config.ts';
import { startTestHub, type TestHub } from './hub.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium); .ci/run does`,
    );
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/**
 * A fresh browser profile (its own cookies) with a laptop-sized window, Vietnamese by default;
 * `options` change that (e.g. PHONE).
 */
export function newContext(
  browser: Browser,
  baseURL: string,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  return browser.newContext({ baseURL, viewport: { width: 1366, height: 860 }, locale: 'vi-VN', ...options });
}

/** A phone held upright: 390 × 844 CSS pixels, touch, the page's meta viewport honoured. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
};

export async function login(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/ui/login');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/ui/login')),
    page.click('button[type=submit]'),
  ]);
}

export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR
  ? path.resolve(PROJECT_ROOT, process.env.SCREENSHOT_DIR)
  : path.join(tmpdir(), 'hub-ui-screenshots');

/** Saves a full-page PNG and checks it is one. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const head = readFileSync(file).subarray(0, 8);
  expect(head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).to.equal(true);
  return file;
}

/** The CSRF token of the page's forms. */
export async function csrfOf(page: Page): Promise<string> {
  const v = await page.locator('input[name=_csrf]').first().getAttribute('value');
  if (!v) throw new Error('no CSRF token on the page');
  return v;
}

/** A test hub and a logged-in browser page for a describe block: started before, closed after. */
export interface BrowserHub {
  readonly t: TestHub;
  readonly page: Page;
}

export function browserHub(
  name: string,
  user: { username: string; password: string },
  overrides: ConfigOverrides = {},
): BrowserHub {
  const s = {} as { t: TestHub; page: Page; browser?: Browser; ctx?: BrowserContext };
  before(async () => {
    s.t = await startTestHub(name, overrides);
    s.browser = await launchBrowser();
    s.ctx = await newContext(s.browser, s.t.url);
    s.page = await s.ctx.newPage();
    await login(s.page, user.username, user.password);
  });
  after(async () => {
    await s.ctx?.close().catch(() => undefined);
    await s.browser?.close().catch(() => undefined);
    await s.t?.close();
  });
  return s;
}
