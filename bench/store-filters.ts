/**
 * Which filters the store answers from an index and which it scans (issue 20, docs/benchmarks.md
 * "FerretDB backends"): N delivery-like records in a fresh database, then each query shape timed
 * (median of 15) with what the store's `explain` says (FerretDB: `filterPushdown`, `sortPushdown`).
 * Run it against each store to compare (MONGODB_URI chooses it):
 *
 *   MONGODB_URI=mongodb://127.0.0.1:41317/x node bench/store-filters.ts [--records 100000]
 *
 * Figures only; the database it creates is dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { connectMongo } from '../src/store/mongo.ts';

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '100000' } } });
const n = Number(args.records);
const dbName = `bench_filters_${randomBytes(3).toString('hex')}`;
const conn = await connectMongo(loadConfig().mongodb.uri, { dbName });
const db = conn.db!;
try {
  const coll = db.collection<{ _id: string } & Record<string, unknown>>('deliveries');
  await coll.createIndex({ recipientCode: 1, transport: 1 });
  await coll.createIndex({ docId: 1 });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000)
    await coll.insertMany(
      Array.from({ length: Math.min(1000, n - i) }, (_, k) => {
        const j = i + k;
        return {
          _id: `d${String(j).padStart(8, '0')}`,
          docId: `doc${Math.floor(j / 20)}`,
          recipientCode: `H41.${1000 + (j % 1000)}`,
          transport: j % 10 ? 'acknowledged' : 'available',
          queuedAt: new Date(1_790_000_000_000 + j * 1000),
          body: randomBytes(200).toString('base64'),
        };
      }),
    );
  const insertMs = performance.now() - t0;
  const shapes: [string, Record<string, unknown>, Record<string, 1 | -1>?][] = [
    ['_id', { _id: `d${String(Math.floor(n / 2)).padStart(8, '0')}` }],
    ['recipientCode', { recipientCode: 'H41.1500' }],
    ['recipientCode + transport', { recipientCode: 'H41.1500', transport: 'available' }],
    ['docId', { docId: `doc${Math.floor(n / 40)}` }],
    ['docId $in (20)', { docId: { $in: Array.from({ length: 20 }, (_, i) => `doc${i * 7}`) } }],
    ['transport, sorted by queuedAt, limit 50', { transport: 'available' }, { queuedAt: 1 }],
  ];
  const rows: Record<string, unknown>[] = [];
  for (const [name, filter, sort] of shapes) {
    const run = () => {
      const c = coll.find(filter);
      return (sort ? c.sort(sort).limit(50) : c).toArray();
    };
    const found = (await run()).length;
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const s = performance.now();
      await run();
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const c = coll.find(filter);
    const explain = (await (sort ? c.sort(sort).limit(50) : c).explain()) as Record<string, unknown>;
    rows.push({
      shape: name,
      found,
      medianMs: +times[7]!.toFixed(2),
      filterPushdown: explain.filterPushdown ?? explain.pushdown ?? '?',
      sortPushdown: explain.sortPushdown ?? '?',
    });
  }
  const build = (await db.admin().command({ buildInfo: 1 })) as {
    version?: string;
    ferretdbVersion?: string;
  };
  console.log(
    JSON.stringify(
      {
        store: build.ferretdbVersion ?? `MongoDB ${build.version}`,
        records: n,
        insertSeconds: +(insertMs / 1000).toFixed(1),
        rows,
      },
      null,
      2,
    ),
  );
} finally {
  await db.dropDatabase().catch(() => undefined);
  await conn.close();
}
