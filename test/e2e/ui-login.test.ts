/**
 * Logging in to the web UI over plain HTTP (issue 18 §3, §4, §6): the lockout holds against a
 * parallel burst on the real FerretDB, failed logins are audited, form bodies are capped before the
 * session and CSRF checks read them, and the address the lockout counts is the client's only when
 * `http.trustProxy` says the proxy in front may tell it.
 */
import { request } from 'node:http';
import { expect } from 'chai';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { createUserServices } from '../../src/users/accounts.ts';
import { openUserStores } from '../../src/store/user-store.ts';

const PASSWORD = 'a-good-password-1234';

/** One login as a browser does it: the form (its double-submit cookie), then the POST. */
async function postLogin(
  url: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = await fetch(`${url}/ui/login`, { headers });
  const cookie = form.headers.getSetCookie().find((c) => c.startsWith('hub_login_csrf='))!;
  const token = decodeURIComponent(cookie.split(';')[0]!.slice('hub_login_csrf='.length));
  await form.arrayBuffer();
  return fetch(`${url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `hub_login_csrf=${token}`,
      ...headers,
    },
    body: new URLSearchParams({ _csrf: token, username, password }).toString(),
  });
}

/** The session cookie of a successful login. */
async function sessionCookie(url: string, username: string): Promise<string> {
  const r = await postLogin(url, username, PASSWORD);
  expect(r.status).to.equal(303);
  return r.headers
    .getSetCookie()
    .find((c) => c.startsWith('hub_session='))!
    .split(';')[0]!;
}

/** A form's anti-forgery token, read from the page. */
async function csrfOfPage(url: string, cookie: string): Promise<string> {
  const page = await (await fetch(url, { headers: { cookie } })).text();
  return /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
}

/**
 * Sends the headers of a `declared`-byte form and its first 64 KiB, then waits for the answer
 * without ever finishing the body: only a server that answers without reading the body answers.
 */
function answerBeforeBody(
  url: string,
  path: string,
  declared: number,
): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(declared) },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer while the body was still coming'));
    }, 5_000);
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      resolve({
        status: res.statusCode!,
        ...(res.headers.location ? { location: res.headers.location } : {}),
      });
      req.destroy();
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.write(Buffer.alloc(64 * 1024, 'a'));
  });
}

async function createAdmin(t: TestHub, username: string): Promise<void> {
  const accounts = createUserServices(await openUserStores(t.hub.mongo), t.hub.stores);
  await accounts.users.create('test', { username, role: 'admin', password: PASSWORD });
}

interface AuditRow {
  actor: string;
  action: string;
  subject: string;
  data?: { ip?: string; reason?: string; locked?: string[] };
}

function auditOf(t: TestHub, subject: string): Promise<AuditRow[]> {
  return t.hub.stores.models.Audit.find({ subject }).sort({ _id: 1 }).lean<AuditRow[]>();
}

async function createClerk(t: TestHub, username: string): Promise<void> {
  const accounts = createUserServices(await openUserStores(t.hub.mongo), t.hub.stores);
  await accounts.users.create('test', {
    username,
    role: 'clerk',
    agencies: ['H41.001'],
    password: PASSWORD,
  });
}

describe('web UI login over HTTP', function () {
  this.timeout(120_000);

  describe('with the default configuration (no proxy trusted)', () => {
    let t: TestHub;
    before(async () => {
      t = await startTestHub('ui-login');
    });
    after(async () => {
      await t?.close();
    });

    it('checks at most 5 of 25 parallel wrong passwords for one account, then refuses the right one as locked', async () => {
      await createClerk(t, 'burst');
      const statuses = await Promise.all(
        Array.from({ length: 25 }, (_, i) => postLogin(t.url, 'burst', `wrong-${i}`).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 401)).to.have.length(5);
      expect(statuses.filter((s) => s === 429)).to.have.length(20);
      const right = await postLogin(t.url, 'burst', PASSWORD);
      expect(right.status).to.equal(429);
      expect(Number(right.headers.get('retry-after'))).to.be.greaterThan(0);
      const audit = await auditOf(t, 'burst');
      expect(audit.filter((a) => a.action === 'user.login-failed')).to.have.length(5);
      expect(audit.filter((a) => a.action === 'user.login-locked')).to.have.length(1);
      expect(audit.filter((a) => a.action === 'user.login')).to.have.length(0);
    });

    it('audits a failed login with the account name, the address and the reason, never the password', async () => {
      await createClerk(t, 'audited');
      const r = await postLogin(t.url, 'audited', 'not-the-password-42');
      expect(r.status).to.equal(401);
      const [entry, ...rest] = await auditOf(t, 'audited').then((a) =>
        a.filter((e) => e.action === 'user.login-failed'),
      );
      expect(rest).to.have.length(0);
      expect(entry).to.deep.include({ actor: 'ip:127.0.0.1', subject: 'audited' });
      expect(entry!.data).to.deep.equal({ ip: '127.0.0.1', reason: 'wrong-password' });
      expect(JSON.stringify(await auditOf(t, 'audited'))).not.to.contain('not-the-password-42');
      // A right password afterwards still logs in (one failure locks nothing).
      expect((await postLogin(t.url, 'audited', PASSWORD)).status).to.equal(303);
    });

    it('ignores X-Forwarded-For: the lockout counts the socket address', async () => {
      const r = await postLogin(t.url, 'forwarded', 'wrong', { 'x-forwarded-for': '203.0.113.5' });
      expect(r.status).to.equal(401);
      const [entry] = await auditOf(t, 'forwarded');
      expect(entry!.data).to.deep.include({ ip: '127.0.0.1' });
    });

    it('answers a 2 MiB form post without a session before reading its body', async () => {
      const r = await answerBeforeBody(t.url, '/ui/admin/users', 2 * 1024 * 1024);
      expect(r).to.deep.equal({ status: 303, location: '/ui/login' });
    });

    it('refuses a 32 KiB login form with 413 PAYLOAD_TOO_LARGE', async () => {
      const r = await postLogin(t.url, 'audited', 'x'.repeat(32 * 1024));
      expect(r.status).to.equal(413);
      expect(await r.text()).to.contain('PAYLOAD_TOO_LARGE');
    });

    it('refuses a 100 KiB form of a logged-in administrator with 413, creating nothing', async () => {
      await createAdmin(t, 'big-form-admin');
      const cookie = await sessionCookie(t.url, 'big-form-admin');
      const _csrf = await csrfOfPage(`${t.url}/ui/admin/users`, cookie);
      const r = await fetch(`${t.url}/ui/admin/users`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({
          _csrf,
          username: 'padded',
          role: 'auditor',
          displayName: 'x'.repeat(100 * 1024),
        }).toString(),
      });
      expect(r.status).to.equal(413);
      expect(await r.text()).to.contain('PAYLOAD_TOO_LARGE');
      expect(await t.hub.mongo.collection('users').findOne({ _id: 'padded' as never })).to.equal(null);
    });

    it('still takes a bulk import larger than a form from an administrator', async () => {
      // An administrator of this test's own (the one of the 413 test may not exist yet).
      await createAdmin(t, 'big-import-admin');
      const cookie = await sessionCookie(t.url, 'big-import-admin');
      const _csrf = await csrfOfPage(`${t.url}/ui/admin/agencies/import`, cookie);
      const csv = 'code,name\n' + 'X99.001,Không có thật\n'.repeat(8000); // about 200 KiB
      const r = await fetch(`${t.url}/ui/admin/agencies/import`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ _csrf, csv, dryRun: '1' }).toString(),
      });
      expect(r.status).to.equal(303);
      expect(r.headers.get('location')).to.match(/^\/ui\/admin\/imports\//);
    });
  });

  describe('with http.trustProxy set to loopback', () => {
    let t: TestHub;
    before(async () => {
      t = await startTestHub('ui-login-proxy', {
        http: { port: 0, host: '127.0.0.1', trustProxy: ['loopback'] },
      });
    });
    after(async () => {
      await t?.close();
    });

    it('locks the client address the proxy forwards after 30 failures, and only that address', async () => {
      await createClerk(t, 'behind-proxy');
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      const statuses = await Promise.all(
        Array.from({ length: 35 }, (_, i) =>
          postLogin(t.url, `guess-${i}`, 'wrong', from('203.0.113.5')).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 401)).to.have.length(30);
      expect(statuses.filter((s) => s === 429)).to.have.length(5);
      expect((await postLogin(t.url, 'behind-proxy', PASSWORD, from('203.0.113.5'))).status).to.equal(429);
      expect((await postLogin(t.url, 'behind-proxy', PASSWORD, from('203.0.113.6'))).status).to.equal(303);
      const failed = await t.hub.stores.models.Audit.find({ action: 'user.login-failed' }).lean<AuditRow[]>();
      expect(failed.map((a) => a.data?.ip)).to.deep.equal(Array(30).fill('203.0.113.5'));
    });
  });
});
