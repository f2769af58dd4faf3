/** The user, session and UI-job stores behave the same on every adapter (harness.ts). */
import { expect } from 'chai';
import { openUserStores } from '../../src/store/user-store.ts';
import type { User } from '../../src/users/types.ts';
import { describeAdapters } from './harness.ts';

const T0 = new Date('2026-12-06T05:00:00Z');

const user = (username: string): User => ({
  username,
  displayName: `Cán bộ ${username}`,
  role: 'clerk',
  agencies: ['H29.001'],
  passwordHash: 'scrypt$not-a-real-hash',
  active: true,
  createdAt: T0,
  updatedAt: T0,
  passwordChangedAt: T0,
});

describeAdapters('UserStore', (ctx) => {
  it('inserts a user once, reads, updates and lists them', async () => {
    const s = await openUserStores(ctx().conn);
    expect(await s.users.insert(user('van.thu'))).to.equal(true);
    expect(await s.users.insert(user('van.thu'))).to.equal(false);
    expect(await s.users.insert(user('an.nguyen'))).to.equal(true);
    const got = await s.users.get('van.thu');
    expect(got).to.deep.include({ username: 'van.thu', role: 'clerk', active: true });
    expect(got!.agencies).to.deep.equal(['H29.001']);
    expect(got!.createdAt.toISOString()).to.equal(T0.toISOString());
    const later = new Date(T0.getTime() + 60_000);
    const upd = await s.users.update('van.thu', { active: false, updatedAt: later, agencies: ['H29.002'] });
    expect(upd).to.deep.include({ active: false });
    expect(upd!.agencies).to.deep.equal(['H29.002']);
    expect(await s.users.update('nobody', { active: false })).to.equal(null);
    expect((await s.users.list()).map((u) => u.username).sort()).to.deep.equal(['an.nguyen', 'van.thu']);
  });

  it('keeps sessions until they expire or are deleted', async () => {
    const s = await openUserStores(ctx().conn);
    const session = {
      id: 'a'.repeat(64),
      username: 'van.thu',
      csrf: 'c'.repeat(32),
      createdAt: T0,
      lastSeenAt: T0,
      expiresAt: new Date(T0.getTime() + 3_600_000),
    };
    await s.sessions.create(session);
    await s.sessions.create({ ...session, id: 'b'.repeat(64), expiresAt: new Date(T0.getTime() + 60_000) });
    expect(await s.sessions.get(session.id)).to.deep.include({ username: 'van.thu' });
    expect(await s.sessions.purgeExpired(new Date(T0.getTime() + 120_000), new Date(0))).to.equal(1);
    expect(await s.sessions.get('b'.repeat(64))).to.equal(null);
    expect(await s.sessions.deleteForUser('van.thu')).to.equal(1);
    expect(await s.sessions.get(session.id)).to.equal(null);
  });

  it('records the progress of a UI job', async () => {
    const s = await openUserStores(ctx().conn);
    const id = await s.jobs.start('agency-import', 'admin', 10);
    await s.jobs.progress(id, { phase: 'apply', done: 4, total: 10 });
    expect(await s.jobs.get(id)).to.deep.include({ state: 'running', phase: 'apply', done: 4 });
    await s.jobs.finish(id, { state: 'done', result: { created: 10 }, resultCsv: 'code\nH29.001\n' });
    const done = await s.jobs.get(id);
    expect(done).to.deep.include({ state: 'done', resultCsv: 'code\nH29.001\n' });
    const recent = await s.jobs.recent('agency-import', 5);
    expect(recent.map((j) => j.id)).to.deep.equal([id]);
    expect(recent[0]).not.to.have.property('resultCsv');
  });
});
