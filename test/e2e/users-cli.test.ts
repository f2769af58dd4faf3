/**
 * hubctl users add|reset|disable|enable|list (child processes, directly on MongoDB) and sessions
 * shared by several api processes through MongoDB: a session opened on one process is valid on
 * another, and a logout or a password reset on one ends it everywhere.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createHub, type Hub } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { hubctlAsync } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { createUserServices } from '../../src/users/accounts.ts';
import { openUserStores } from '../../src/store/user-store.ts';

/** Logs in over plain HTTP (form + CSRF cookie) and returns the session cookie, or the status. */
async function httpLogin(
  base: string,
  username: string,
  password: string,
): Promise<{ status: number; cookie?: string }> {
  const form = await fetch(`${base}/ui/login`);
  const loginCookie = form.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const r = await fetch(`${base}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
    body: new URLSearchParams({ _csrf: csrf, username, password }),
  });
  const session = r.headers
    .getSetCookie()
    .find((c) => c.startsWith('hub_session=') && !c.startsWith('hub_session=;'));
  return { status: r.status, ...(session ? { cookie: session.split(';')[0] } : {}) };
}

async function page(
  base: string,
  cookie: string,
  p = '/ui/received',
): Promise<{ status: number; body: string; location: string | null }> {
  const r = await fetch(`${base}${p}`, { headers: { cookie }, redirect: 'manual' });
  return { status: r.status, body: await r.text(), location: r.headers.get('location') };
}

describe('hubctl users, and sessions shared by api processes', function () {
  this.timeout(120_000);
  let t: TestHub;
  let second: Hub;

  /**
   * A clerk of the calling test's own, with a known password: the tests reset, disable and log out
   * their account, so one shared account made each depend on the others' order (shuffled, seed 7).
   */
  const newClerk = async () => {
    const username = `clerk-${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(9).toString('hex')}`;
    const { users } = createUserServices(await openUserStores(t.hub.mongo), t.hub.stores);
    await users.create('test', { username, role: 'clerk', agencies: ['H29.001'], password });
    return { username, password };
  };

  before(async () => {
    t = await startTestHub('userscli');
    // A second api process on the same database (another port, no worker).
    const config = loadConfig(process.env, {
      roles: ['api'],
      http: { port: 0, host: '127.0.0.1', opsPort: 0 },
      amqp: { prefix: t.hub.config.amqp.prefix, shards: 2 },
      crypto: { verifyWorkers: 0 },
      log: { level: 'silent' },
    });
    second = await createHub(config, {
      dbName: t.dbName,
      log: createLogger('silent'),
      defaultMetrics: false,
    });
  });
  after(async () => {
    await second?.stop();
    await t?.close();
  });

  it('adds a clerk with a generated password shown once; the clerk can log in', async () => {
    const r = await hubctlAsync([
      '--json',
      'users',
      'add',
      'vanthu-saigon',
      '--role',
      'clerk',
      '--agency',
      'H29.001',
      'D29.001',
      '--name',
      'Văn thư phường Sài Gòn',
      '--db',
      t.dbName,
    ]);
    expect(r.code, r.err).to.equal(0);
    const out = JSON.parse(r.out) as { username: string; role: string; agencies: string[]; password: string };
    expect(out).to.include({ username: 'vanthu-saigon', role: 'clerk' });
    expect(out.agencies).to.deep.equal(['H29.001', 'D29.001']);
    expect(out.password).to.have.length(20);
    const login = await httpLogin(t.url, 'vanthu-saigon', out.password);
    expect(login.status).to.equal(303);
    const p = await page(t.url, login.cookie!);
    expect(p.status).to.equal(200);
    expect(p.body).to.contain('Văn thư phường Sài Gòn');
  });

  it('shares sessions between api processes: logged in on one, valid on the other; logout ends it on both', async () => {
    const { username, password } = await newClerk();
    const { cookie } = await httpLogin(t.url, username, password);
    expect((await page(second.url!, cookie!)).status).to.equal(200);
    // Log out on the second process (with the session's CSRF token from a page it served).
    const body = (await page(second.url!, cookie!)).body;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(body)![1]!;
    const out = await fetch(`${second.url!}/ui/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie! },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(out.status).to.equal(303);
    const after = await page(t.url, cookie!);
    expect(after.status).to.equal(303);
    expect(after.location).to.match(/^\/ui\/login/);
  });

  it('resets a password: the old one stops working, sessions end, the new one (from stdin) works', async () => {
    const { username, password } = await newClerk();
    const { cookie } = await httpLogin(t.url, username, password);
    const r = await hubctlAsync(
      ['users', 'reset', username, '--password-stdin', '--db', t.dbName],
      {},
      'a-new-password-for-sg\n',
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('set');
    expect((await page(t.url, cookie!)).status).to.equal(303); // the session ended
    expect((await httpLogin(t.url, username, password)).status).to.equal(401);
    expect((await httpLogin(second.url!, username, 'a-new-password-for-sg')).status).to.equal(303);
  });

  it('disables and enables an account; lists accounts', async () => {
    const { username, password } = await newClerk();
    const d = await hubctlAsync(['users', 'disable', username, '--db', t.dbName]);
    expect(d.code, d.err).to.equal(0);
    expect((await httpLogin(t.url, username, password)).status).to.equal(401);
    const list = await hubctlAsync(['users', 'list', '--db', t.dbName]);
    expect(list.out).to.match(new RegExp(`${username}\\s+clerk\\s+DISABLED`));
    expect(list.out).to.match(/admin\s+admin\s+active/); // the development seed
    const e = await hubctlAsync(['--json', 'users', 'enable', username, '--db', t.dbName]);
    expect(JSON.parse(e.out)).to.deep.equal({ username, active: true });
    expect((await httpLogin(t.url, username, password)).status).to.equal(303);
  });

  it('refuses bad accounts with a stable code (exit 3) and writes nothing', async () => {
    const existing = (await newClerk()).username;
    const cases: [string[], string][] = [
      [['users', 'add', existing, '--role', 'clerk', '--agency', 'H29.001'], 'CONFLICT'],
      [['users', 'add', 'x-unknown', '--role', 'clerk', '--agency', 'Z99.999'], 'VALIDATION_FAILED'],
      [['users', 'add', 'x-noagency', '--role', 'clerk'], 'VALIDATION_FAILED'],
      [['users', 'add', 'x-badrole', '--role', 'root'], 'VALIDATION_FAILED'],
      [['users', 'add', 'Bad Name!', '--role', 'admin'], 'VALIDATION_FAILED'],
      [['users', 'add', 'x-admin-agency', '--role', 'admin', '--agency', 'H29.001'], 'VALIDATION_FAILED'],
      [['users', 'reset', 'nobody'], 'NOT_FOUND'],
    ];
    for (const [args, code] of cases) {
      const r = await hubctlAsync([...args, '--db', t.dbName]);
      expect(r.code, args.join(' ')).to.equal(3);
      expect(r.err, args.join(' ')).to.contain(code);
    }
    const weak = await hubctlAsync(
      ['users', 'add', 'x-weak', '--role', 'auditor', '--password-stdin', '--db', t.dbName],
      {},
      'short\n',
    );
    expect(weak.code).to.equal(3);
    expect(weak.err).to.contain('12 characters');
    const list = JSON.parse((await hubctlAsync(['--json', 'users', 'list', '--db', t.dbName])).out) as {
      username: string;
    }[];
    expect(list.map((u) => u.username).filter((u) => u.startsWith('x-'))).to.deep.equal([]);
  });
});
