/**
 * hubctl's acting identity (issue 23): mutating admin commands need an authenticated hub user whose
 * role allows them, checked by the web login's own function (lockout included); the audit names that
 * user, not $USER. The first administrator is created without a login while none exists.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { hubctlAsync, passwordFile } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { createUserServices } from '../../src/users/accounts.ts';
import { openUserStores } from '../../src/store/user-store.ts';

/** No operator from the test environment: each case gives (or withholds) its own. */
const NOBODY = { HUBCTL_USER: '', HUBCTL_PASSWORD_FILE: '' };

describe('ops: hubctl admin commands need an authenticated hub user', function () {
  this.timeout(120_000);
  let t: TestHub;
  const clerkPassword = 'clerk-password-for-ops-test';
  const adminPassword = 'second-admin-password-ops';

  before(async () => {
    t = await startTestHub('opsidentity');
    const { users } = createUserServices(await openUserStores(t.hub.mongo), t.hub.stores);
    await users.create('test', {
      username: 'ops-clerk',
      role: 'clerk',
      agencies: ['H29.001'],
      password: clerkPassword,
    });
    await users.create('test', { username: 'ops-admin', role: 'admin', password: adminPassword });
    await users.create('test', { username: 'ops-locked', role: 'admin', password: 'locked-admin-password' });
  });
  after(async () => {
    await t?.close();
  });

  const audit = async (action: string) =>
    (await t.hub.stores.models.Audit.find({ action }).sort({ _id: 1 }).lean()) as unknown as {
      actor: string;
      subject?: string;
      data?: { ip?: string; reason?: string };
    }[];
  /**
   * An account of this test's own for the commands to act on: one test disables its target, so a
   * shared one made the others depend on running before it (shuffled run, seed 7).
   */
  const newTarget = async () => {
    const username = `ops-target-${randomBytes(3).toString('hex')}`;
    const { users } = createUserServices(await openUserStores(t.hub.mongo), t.hub.stores);
    await users.create('test', { username, role: 'auditor', password: 'target-password-ops-1' });
    return username;
  };
  const active = async (username: string) =>
    createUserServices(await openUserStores(t.hub.mongo), t.hub.stores)
      .users.get(username)
      .then((u) => u?.active);

  it('refuses a mutating command without a login, and changes nothing', async () => {
    const target = await newTarget();
    const r = await hubctlAsync(['users', 'disable', target, '--db', t.dbName], {
      ...NOBODY,
      USER: 'root',
    });
    expect(r.code).to.equal(3);
    expect(r.err).to.contain('OPERATOR_LOGIN_REQUIRED');
    expect(await active(target)).to.equal(true);
  });

  it('refuses a wrong password as the web login does (audited), and a role that does not allow it', async () => {
    const target = await newTarget();
    const wrong = await hubctlAsync(['--user', 'ops-admin', 'users', 'disable', target, '--db', t.dbName], {
      ...NOBODY,
      HUBCTL_PASSWORD_FILE: passwordFile('not-the-password'),
    });
    expect(wrong.code).to.equal(3);
    expect(wrong.err).to.contain('LOGIN_FAILED');
    const failed = (await audit('user.login-failed')).filter((a) => a.subject === 'ops-admin');
    expect(failed).to.have.length(1);
    expect(failed[0]!.data).to.include({ reason: 'wrong-password' });
    expect(failed[0]!.data!.ip).to.match(/^hubctl@/);

    const clerk = await hubctlAsync(['--user', 'ops-clerk', 'users', 'disable', target, '--db', t.dbName], {
      ...NOBODY,
      HUBCTL_PASSWORD_FILE: passwordFile(clerkPassword),
    });
    expect(clerk.code).to.equal(3);
    expect(clerk.err).to.contain('FORBIDDEN').and.contain('admin role');
    expect(await active(target)).to.equal(true);
  });

  it('locks the name after repeated failures: then even the right password is refused', async function () {
    this.timeout(300_000); // six hubctl processes
    const target = await newTarget();
    for (let i = 0; i < 5; i++) {
      const r = await hubctlAsync(['users', 'disable', target, '--db', t.dbName], {
        HUBCTL_USER: 'ops-locked',
        HUBCTL_PASSWORD_FILE: passwordFile(`guess-${i}-wrong-password`),
      });
      expect(r.err).to.contain('LOGIN_FAILED');
    }
    const right = await hubctlAsync(['users', 'disable', target, '--db', t.dbName], {
      HUBCTL_USER: 'ops-locked',
      HUBCTL_PASSWORD_FILE: passwordFile('locked-admin-password'),
    });
    expect(right.code).to.equal(3);
    expect(right.err).to.contain('LOGIN_THROTTLED');
    expect(await active(target)).to.equal(true);
  });

  it('acts as the authenticated user (password on standard input): the audit names it, not $USER', async () => {
    const target = await newTarget();
    const r = await hubctlAsync(
      ['--user', 'ops-admin', 'users', 'disable', target, '--db', t.dbName],
      { ...NOBODY, USER: 'root' },
      `${adminPassword}\n`,
    );
    expect(r.code, r.err).to.equal(0);
    expect(await active(target)).to.equal(false);
    const disabled = (await audit('user.disabled')).filter((a) => a.subject === target);
    expect(disabled.map((a) => a.actor)).to.deep.equal(['hubctl:ops-admin']);
    const logins = (await audit('user.login')).filter((a) => a.subject === 'ops-admin');
    expect(logins.map((a) => a.actor)).to.deep.equal(['hubctl:ops-admin']);
  });

  it('creates the first administrator without a login while none exists, and only then', async () => {
    const db = `t_opsboot_${randomBytes(4).toString('hex')}`;
    const empty = t.hub.mongo.useDb(db);
    try {
      const clerkFirst = await hubctlAsync(
        ['users', 'add', 'first-clerk', '--role', 'auditor', '--db', db],
        NOBODY,
      );
      expect(clerkFirst.err).to.contain('OPERATOR_LOGIN_REQUIRED');
      const first = await hubctlAsync(
        ['--json', 'users', 'add', 'first-admin', '--role', 'admin', '--password-stdin', '--db', db],
        NOBODY,
        'first-admin-password-1\n',
      );
      expect(first.code, first.err).to.equal(0);
      const created = await empty.collection('audit').find({ action: 'user.created' }).toArray();
      expect(created.map((a) => String(a.actor))).to.deep.equal(['hubctl:bootstrap']);
      const second = await hubctlAsync(
        ['users', 'add', 'second-admin', '--role', 'admin', '--db', db],
        NOBODY,
      );
      expect(second.code).to.equal(3);
      expect(second.err).to.contain('OPERATOR_LOGIN_REQUIRED');
      const withLogin = await hubctlAsync(['users', 'add', 'second-admin', '--role', 'admin', '--db', db], {
        HUBCTL_USER: 'first-admin',
        HUBCTL_PASSWORD_FILE: passwordFile('first-admin-password-1'),
      });
      expect(withLogin.code, withLogin.err).to.equal(0);
    } finally {
      await empty.dropDatabase();
    }
  });
});
