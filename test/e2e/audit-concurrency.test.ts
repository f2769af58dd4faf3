/**
 * The audit chain with several writers: two processes' stores (own connections) appending at once,
 * each grouping its appends (group commit). Collisions on a sequence number are resolved by keeping
 * the entries that got in and re-chaining the rest: the chain stays whole, nothing is lost or doubled.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mongo, type Connection } from 'mongoose';
import { loadConfig } from '../../src/config.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { createMongoStores } from '../../src/store/stores.ts';

describe('audit chain with concurrent writers in two processes', function () {
  this.timeout(120_000);
  const conns: Connection[] = [];

  const config = loadConfig();

  // Two processes' stores: each test opens its own pair (own audit heads) on a database of its own,
  // whose chain it counts from the start (a shared one made the counts depend on the order).
  async function twoProcesses() {
    const dbName = `t_auditconc_${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 2; i++) conns.push(await connectMongo(config.mongodb.uri, { dbName }));
    return Promise.all(conns.slice(-2).map((c) => createMongoStores(c, config.credentials.key)));
  }

  afterEach(async () => {
    for (const c of conns.splice(0)) {
      await c.dropDatabase().catch(() => undefined);
      await c.close();
    }
  });

  it('keeps one unbroken chain with every append exactly once', async () => {
    const [a, b] = await twoProcesses();
    const appends = Array.from({ length: 60 }, (_, i) =>
      (i % 2 ? a! : b!).audit.append({ actor: `w${i % 2}`, action: 'test.append', subject: `s${i}` }),
    );
    const entries = await Promise.all(appends);
    const seqs = entries.map((e) => e.seq);
    expect(new Set(seqs).size).to.equal(60); // each append got its own number
    expect(entries.map((e) => e.subject)).to.deep.equal(Array.from({ length: 60 }, (_, i) => `s${i}`));
    const check = await a!.audit.verify();
    expect(check).to.include({ ok: true, count: 60 });
    const subjects = (await a!.models.Audit.find({}, { subject: 1 }).lean<{ subject: string }[]>()).map(
      (d) => d.subject,
    );
    expect(subjects.sort()).to.deep.equal(Array.from({ length: 60 }, (_, i) => `s${i}`).sort());
  });

  it('a writer far behind finds the head in a few lookups, not one per entry written meanwhile', async () => {
    const [a, b] = await twoProcesses();
    await a!.audit.append({ actor: 'quiet', action: 'test.append', subject: 'first' }); // a knows the head
    const gap = 700;
    for (let i = 0; i < gap; i += 100)
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          b!.audit.append({ actor: 'busy', action: 'test.append', subject: `b${i + j}` }),
        ),
      );
    // Count a's reads of audit entries by `_id` while it catches up (the adapter reads through the
    // driver: every lookup is a findOne on a's connection's `audit` collection).
    const proto = mongo.Collection.prototype;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- restored below, called with its `this`
    const findOne = proto.findOne;
    let lookups = 0; // b is idle meanwhile: every audit lookup is a's
    proto.findOne = function (this: mongo.Collection, ...args: unknown[]) {
      if (this.collectionName === 'audit') lookups++;
      return (findOne as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof findOne;
    let e;
    try {
      e = await a!.audit.append({ actor: 'quiet', action: 'test.append', subject: 'after' });
    } finally {
      proto.findOne = findOne;
    }
    const before = (await a!.audit.verify()).count;
    expect(e.seq).to.equal(before); // chained on the real head: the last entry
    expect((await a!.audit.verify()).ok).to.equal(true);
    expect(lookups).to.be.within(1, 2 * Math.ceil(Math.log2(gap)) + 4); // ~20, not ~700
  });
});
