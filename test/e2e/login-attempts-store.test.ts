/**
 * The login-attempt store on the real FerretDB (issue 18 §3): reserving attempts must hold the limit
 * however many processes reserve at once. FerretDB 1.x updates are read-modify-write without a lock,
 * so this is the test that a counter would fail (see MongoLoginAttemptStore).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { loadConfig } from '../../src/config.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { openUserStores, type UserStores } from '../../src/store/user-store.ts';

describe('login attempts in the store', function () {
  this.timeout(60_000);
  let conns: Connection[] = [];
  let stores: UserStores[] = [];
  const dbName = `t_loginattempts_${randomBytes(4).toString('hex')}`;
  const now = new Date('2026-12-06T01:00:00Z');
  const since = new Date(now.getTime() - 15 * 60_000);

  before(async () => {
    // Two connections, as two api processes would have.
    conns = [
      await connectMongo(loadConfig().mongodb.uri, { dbName }),
      await connectMongo(loadConfig().mongodb.uri, { dbName }),
    ];
    stores = [await openUserStores(conns[0]!), await openUserStores(conns[1]!)];
  });
  after(async () => {
    await conns[0]?.dropDatabase();
    for (const c of conns) await c.close();
  });

  it('grants exactly 5 of 25 reservations issued at once from two connections', async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => stores[i % 2]!.attempts.reserve('user:burst', now, since, 5)),
    );
    const granted = results.filter((r) => 'id' in r);
    expect(granted).to.have.length(5);
    expect(granted.map((r) => ('id' in r ? r.count : 0)).sort()).to.deep.equal([1, 2, 3, 4, 5]);
    expect(await stores[0]!.attempts.since('user:burst', since)).to.have.length(5);
  });

  it('frees a place when an attempt is released, and every place when the key is cleared', async () => {
    const a = stores[0]!.attempts;
    const r = await a.reserve('user:freed', now, since, 2);
    await a.reserve('user:freed', now, since, 2);
    expect(await a.reserve('user:freed', now, since, 2)).to.have.property('locked');
    await a.release('id' in r ? r.id : '');
    expect(await a.reserve('user:freed', now, since, 2)).to.have.property('id');
    await a.clear('user:freed');
    expect(await a.since('user:freed', since)).to.have.length(0);
    const after = await a.reserve('user:freed', now, since, 2);
    expect(after).to.include({ count: 1 });
  });
});
