/**
 * The store itself under more concurrent writers than FerretDB's SQLite backend has pooled connections
 * (100). With the project's write queue (scripts/ferretdb-patches/0002-sqlite-write-queue.patch) an
 * update used to hold its read open while it waited for the write token: with 100 updates waiting, the
 * one holding the token never got a connection and the store hung (seen in the benchmark). Every
 * operation here must complete, and with the right result; a hang fails the test by its timeout.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { mongo } from 'mongoose';
import { loadConfig } from '../../src/config.ts';

describe('the store under more concurrent writers than its connection pool', function () {
  this.timeout(120_000);
  const WRITERS = 300;
  let client: mongo.MongoClient;
  const dbName = `storewriters_${randomBytes(4).toString('hex')}`;

  before(async () => {
    // One client connection per operation in flight, so that all of them reach the store at once.
    client = await mongo.MongoClient.connect(loadConfig().mongodb.uri, { maxPoolSize: WRITERS + 10 });
  });
  after(async () => {
    await client?.db(dbName).dropDatabase();
    await client?.close();
  });

  it(`completes ${WRITERS} updates, ${WRITERS} find-and-modifies and ${WRITERS} deletes issued at once`, async () => {
    const c = client.db(dbName).collection<{ _id: string; n: number; by?: string; tag?: string }>('rows');
    await c.insertMany(Array.from({ length: 3 * WRITERS }, (_, i) => ({ _id: `r${i}`, n: i })));
    await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => [
        c.updateOne({ _id: `r${i}` }, { $set: { by: 'update' }, $inc: { n: 1 } }),
        c.findOneAndUpdate({ _id: `r${WRITERS + i}` }, { $set: { by: 'findAndModify' } }),
        c.deleteOne({ _id: `r${2 * WRITERS + i}` }),
      ]).flat(),
    );
    const rows = await c.find({}).sort({ n: 1 }).toArray();
    expect(rows).to.have.length(2 * WRITERS);
    expect(rows.filter((r) => r.by === 'update').map((r) => r.n)).to.deep.equal(
      Array.from({ length: WRITERS }, (_, i) => i + 1),
    );
    expect(rows.filter((r) => r.by === 'findAndModify')).to.have.length(WRITERS);
    // And a findAndModify that removes, also issued at once.
    await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => c.findOneAndDelete({ _id: `r${WRITERS + i}` })),
    );
    expect(await c.countDocuments({})).to.equal(WRITERS);
  });
});
