/**
 * The one-use ledger of signed /v1 requests (src/store/signature-ledger.ts) on the real FerretDB, with
 * a connection per "api process": one of many identical requests gets through, expired entries go.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { loadConfig } from '../../src/config.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { MongoSignatureLedger, SIGNATURE_COLLECTION } from '../../src/store/signature-ledger.ts';

describe('signature ledger: each signed request accepted once across processes', function () {
  this.timeout(60_000);
  const dbName = `t_sigledger_${randomBytes(4).toString('hex')}`;
  const conns: Connection[] = [];

  before(async () => {
    const uri = loadConfig().mongodb.uri;
    for (let i = 0; i < 2; i++) conns.push(await connectMongo(uri, { dbName }));
    await new MongoSignatureLedger(conns[0]!).ensureIndexes();
  });
  after(async () => {
    await conns[0]?.dropDatabase().catch(() => undefined);
    for (const c of conns) await c.close();
  });

  it('lets exactly one of 20 concurrent uses of a signature through, whichever process gets it', async () => {
    const ledgers = conns.map((c) => new MongoSignatureLedger(c));
    const expiresAt = new Date(Date.now() + 300_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ledgers[i % 2]!.firstUse('dms-H29.001:' + 'ab'.repeat(32), expiresAt),
      ),
    );
    expect(results.filter(Boolean)).to.have.length(1);
    expect(await ledgers[1]!.firstUse('dms-H29.001:' + 'cd'.repeat(32), expiresAt)).to.equal(true);
  });

  it('group-commits concurrent uses into few inserts, with a duplicate flag per signature', async () => {
    const uri = loadConfig().mongodb.uri;
    let inserts = 0;
    const counted = await connectMongo(uri, {
      dbName,
      onStatement: (s) => {
        if (s.command === 'insert' && s.collection === SIGNATURE_COLLECTION) inserts++;
      },
    });
    conns.push(counted);
    const ledger = new MongoSignatureLedger(counted);
    const expiresAt = new Date(Date.now() + 300_000);
    // Ten signatures, each used twice at once: exactly one use of each gets through.
    const keys = Array.from({ length: 10 }, (_, i) => `dms-G22:group-${i}`);
    const results = await Promise.all([...keys, ...keys].map((k) => ledger.firstUse(k, expiresAt)));
    expect(results.filter(Boolean)).to.have.length(10);
    for (let i = 0; i < 10; i++) expect([results[i], results[i + 10]].filter(Boolean)).to.have.length(1);
    // One statement at a time (signature-ledger.ts): the first goes alone, the nineteen others share
    // the next, whatever the store's other pipelines keep in flight.
    expect(inserts).to.equal(2);
  });

  it('deletes the entries whose window has closed, and only those', async () => {
    const ledger = new MongoSignatureLedger(conns[0]!);
    // A day ahead: the ledger's own pruning (at the real time) leaves both entries alone.
    const at = new Date(Date.now() + 86_400_000);
    await ledger.firstUse('dms-G22:old', new Date(at.getTime() - 1000));
    await ledger.firstUse('dms-G22:current', new Date(at.getTime() + 1000));
    expect(await ledger.prune(at)).to.be.greaterThan(0);
    const left = await conns[0]!
      .db!.collection<{ _id: string }>(SIGNATURE_COLLECTION)
      .find({ _id: /^dms-G22:/ })
      .toArray();
    expect(left.map((d) => d._id)).to.deep.equal(['dms-G22:current']);
  });
});
