/** Login throttling (src/users/throttle.ts) and the login use case, on an in-memory attempt store. */
import { expect } from 'chai';
import { LoginThrottle } from '../../../src/users/throttle.ts';
import type { LoginAttemptStore, Session, SessionStore, User, UserStore } from '../../../src/users/types.ts';
import { UserService } from '../../../src/users/service.ts';
import { HubError } from '../../../src/domain/errors.ts';
import { SessionService, sessionIdOf } from '../../../src/users/sessions.ts';

class MemoryAttempts implements LoginAttemptStore {
  readonly rows: { id: string; key: string; at: Date; released?: boolean }[] = [];
  #n = 0;
  reserve(key: string, at: Date, since: Date, max: number) {
    const live = this.#live(key, since);
    if (live.length >= max) return Promise.resolve({ locked: live });
    const id = `${key}#${++this.#n}`;
    this.rows.push({ id, key, at });
    return Promise.resolve({ id, count: live.length + 1 });
  }
  release(id: string) {
    for (const r of this.rows) if (r.id === id) r.released = true;
    return Promise.resolve();
  }
  #live(key: string, since: Date) {
    return this.rows
      .filter((r) => r.key === key && !r.released && r.at >= since)
      .map((r) => r.at)
      .sort((a, b) => +a - +b);
  }
  since(key: string, since: Date) {
    return Promise.resolve(this.#live(key, since));
  }
  clear(key: string) {
    for (const r of this.rows) if (r.key === key) r.released = true;
    return Promise.resolve();
  }
  purge(before: Date) {
    const n = this.rows.length;
    for (let i = this.rows.length - 1; i >= 0; i--) if (this.rows[i]!.at < before) this.rows.splice(i, 1);
    return Promise.resolve(n - this.rows.length);
  }
}

class MemoryUsers implements UserStore {
  readonly m = new Map<string, User>();
  get(u: string) {
    return Promise.resolve(this.m.get(u) ?? null);
  }
  insert(u: User) {
    if (this.m.has(u.username)) return Promise.resolve(false);
    this.m.set(u.username, u);
    return Promise.resolve(true);
  }
  update(u: string, set: Partial<User>) {
    const x = this.m.get(u);
    if (!x) return Promise.resolve(null);
    const y = { ...x, ...set };
    this.m.set(u, y);
    return Promise.resolve(y);
  }
  list() {
    return Promise.resolve([...this.m.values()]);
  }
}

class MemorySessions implements SessionStore {
  readonly m = new Map<string, Session>();
  create(s: Session) {
    this.m.set(s.id, s);
    return Promise.resolve();
  }
  get(id: string) {
    return Promise.resolve(this.m.get(id) ?? null);
  }
  touch(id: string, at: Date) {
    const s = this.m.get(id);
    if (s) this.m.set(id, { ...s, lastSeenAt: at });
    return Promise.resolve();
  }
  delete(id: string) {
    this.m.delete(id);
    return Promise.resolve();
  }
  deleteForUser(u: string) {
    let n = 0;
    for (const [k, s] of this.m) if (s.username === u && this.m.delete(k)) n++;
    return Promise.resolve(n);
  }
  purgeExpired(now: Date, idleBefore: Date) {
    let n = 0;
    for (const [k, s] of this.m)
      if ((s.expiresAt <= now || s.lastSeenAt < idleBefore) && this.m.delete(k)) n++;
    return Promise.resolve(n);
  }
}

const policy = { windowMs: 15 * 60_000, maxPerUser: 5, maxPerIp: 8 };

describe('login throttling', () => {
  let now: Date;
  let store: MemoryAttempts;
  let throttle: LoginThrottle;
  beforeEach(() => {
    now = new Date('2026-11-22T08:00:00Z');
    store = new MemoryAttempts();
    throttle = new LoginThrottle(store, policy, () => now);
  });
  /** An attempt that is let through and then fails (its reservation stays). */
  async function fail(username: string, ip: string) {
    expect((await throttle.reserve(username, ip)).allowed).to.equal(true);
  }

  it('locks a user name after maxPerUser failures within the window, until they age out', async () => {
    for (let i = 0; i < 4; i++) {
      await fail('clerk', '10.0.0.1');
      now = new Date(now.getTime() + 60_000);
    }
    expect((await throttle.check('clerk', '10.0.0.1')).allowed).to.equal(true);
    await fail('clerk', '10.0.0.1'); // 5th failure at t0 + 4 min
    const d = await throttle.check('clerk', '10.0.0.2');
    expect(d.allowed).to.equal(false);
    // Unlocked when the oldest of the last five (t0) leaves the 15-minute window: 11 minutes from now.
    expect(d.allowed === false && d.retryAfterMs).to.equal(11 * 60_000);
    now = new Date(now.getTime() + 11 * 60_000 + 1);
    expect((await throttle.check('clerk', '10.0.0.1')).allowed).to.equal(true);
  });

  it('treats user names case-insensitively and keeps other users free', async () => {
    for (let i = 0; i < 5; i++) await fail('Clerk', `10.0.0.${i}`);
    expect((await throttle.check('CLERK', '192.0.2.1')).allowed).to.equal(false);
    expect((await throttle.check('other', '192.0.2.1')).allowed).to.equal(true);
  });

  it('locks an address that tries many user names', async () => {
    for (let i = 0; i < 8; i++) await fail(`user${i}`, '203.0.113.7');
    expect((await throttle.check('fresh-user', '203.0.113.7')).allowed).to.equal(false);
    expect((await throttle.check('fresh-user', '203.0.113.8')).allowed).to.equal(true);
  });

  it('refuses a locked address without leaving an attempt on the user name', async () => {
    for (let i = 0; i < 8; i++) await fail(`user${i}`, '203.0.113.7');
    const d = await throttle.reserve('innocent', '203.0.113.7');
    expect(d.allowed).to.equal(false);
    expect(await store.since('user:innocent', new Date(0))).to.have.length(0);
  });

  it('releases only its own address attempt on success (other names from there stay counted)', async () => {
    for (let i = 0; i < 3; i++) await fail(`user${i}`, '203.0.113.7');
    const r = await throttle.reserve('clerk', '203.0.113.7');
    expect(r.allowed).to.equal(true);
    if (r.allowed) await throttle.succeeded('clerk', r);
    expect(await store.since('ip:203.0.113.7', new Date(0))).to.have.length(3);
  });

  it('clears a user’s failures on success and purges old records', async () => {
    for (let i = 0; i < 4; i++) await fail('clerk', '10.0.0.1');
    await throttle.succeeded('clerk');
    expect(store.rows.filter((r) => r.key === 'user:clerk' && !r.released)).to.have.length(0);
    for (let i = 0; i < 4; i++) await fail('clerk', '10.0.0.1');
    expect((await throttle.check('clerk', '10.0.0.9')).allowed).to.equal(true);
    now = new Date(now.getTime() + policy.windowMs + 1);
    expect(await throttle.purge()).to.equal(16); // 8 user records (the first 4 released) + 8 address records
  });

  describe('through the login use case', function () {
    this.timeout(30_000);
    let users: UserService;
    let sessions: MemorySessions;
    beforeEach(async () => {
      sessions = new MemorySessions();
      users = new UserService({
        users: new MemoryUsers(),
        sessions,
        throttle,
        audit: { append: () => Promise.resolve({} as never) },
        resolveAgencies: (codes) => Promise.resolve(new Map(codes.map((c) => [c, c]))),
        now: () => now,
      });
      await users.create('test', {
        username: 'vanthu',
        role: 'clerk',
        agencies: ['H29.001'],
        password: 'right-password-1',
      });
    });

    async function code(p: Promise<unknown>): Promise<string> {
      try {
        await p;
        return 'OK';
      } catch (e) {
        expect(e).to.be.instanceOf(HubError);
        return (e as HubError).code;
      }
    }

    it('answers LOGIN_FAILED alike for unknown users and wrong passwords, then LOGIN_THROTTLED even for the right one', async () => {
      expect(await code(users.authenticate('nobody', 'x', '10.1.1.1'))).to.equal('LOGIN_FAILED');
      for (let i = 0; i < 5; i++)
        expect(await code(users.authenticate('vanthu', `wrong-${i}`, '10.1.1.1'))).to.equal('LOGIN_FAILED');
      expect(await code(users.authenticate('vanthu', 'right-password-1', '10.1.1.2'))).to.equal(
        'LOGIN_THROTTLED',
      );
      now = new Date(now.getTime() + policy.windowMs + 1);
      expect(await code(users.authenticate('VanThu', 'right-password-1', '10.1.1.2'))).to.equal('OK');
    });

    it('refuses disabled accounts and ends their sessions; sessions store only a hash of the token', async () => {
      const svc = new SessionService(
        sessions,
        { get: (u) => users.get(u).then(() => null) },
        undefined,
        () => now,
      );
      const { token, session } = await svc.create('vanthu');
      expect(session.id).to.equal(sessionIdOf(token));
      expect([...sessions.m.keys()]).to.deep.equal([sessionIdOf(token)]);
      expect(JSON.stringify([...sessions.m.values()])).not.to.contain(token);
      await users.setActive('test', 'vanthu', false);
      expect(sessions.m.size).to.equal(0);
      expect(await code(users.authenticate('vanthu', 'right-password-1', '10.1.1.3'))).to.equal(
        'LOGIN_FAILED',
      );
    });
  });
});
