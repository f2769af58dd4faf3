/**
 * The worker's writes at fan-out through the group-commit pipelines (src/store/group-commit.ts) with
 * 1, 2 and 4 statements in flight, alternated in rounds on the same store so that a shared, busy machine
 * loads every setting alike: documents arrive at a steady pace, each bringing `--fanout` deliveries;
 * a pool of `--workers` tasks (the worker's prefetch) makes each delivery available as the FerretDB
 * dialect does (read by `_id`, group-committed update by `_id`, group-committed inbox insert), while
 * the acknowledgements of the deliveries made update the same collection. A setting ending in `L`
 * (e.g. `1L`) gives the acknowledgements a lane of their own: their own pipeline on the same
 * collection (records.ts keys its pipelines by the collection object, so another handle is another
 * pipeline), so that availability updates never wait behind them.
 *
 *   npx node bench/group-commit.ts [--docs 40] [--fanout 20] [--per-second 4] [--workers 32]
 *                                  [--rounds 2] [--in-flight 1,2,4,1L]
 *
 * Prints, per setting and round, the time from a delivery's arrival to its inbox entry written (p50,
 * p95) and the statements per delivery; with every round, the median of the rounds.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { mongo } from 'mongoose';
import { loadConfig } from '../src/config.ts';
import { connectMongo } from '../src/store/mongo.ts';
import { setGroupCommitInFlight } from '../src/store/group-commit.ts';
import { insertGrouped, updateGrouped } from '../src/store/records.ts';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '40' },
    fanout: { type: 'string', default: '20' },
    'per-second': { type: 'string', default: '4' },
    workers: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    'in-flight': { type: 'string', default: '1,2,4,1L' },
  },
});
const DOCS = Number(args.docs);
const FANOUT = Number(args.fanout);
const PACE_MS = 1000 / Number(args['per-second']);
const WORKERS = Number(args.workers);
const SETTINGS = args['in-flight'].split(',');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? NaN);
};
const byId = (id: string) => ({ _id: id }) as unknown as mongo.Filter<mongo.Document>;

const runId = randomBytes(3).toString('hex');
let statements = 0;
const conn = await connectMongo(loadConfig().mongodb.uri, {
  dbName: `lanes_gc_${runId}`,
  onStatement: (s) => {
    if (s.command === 'update' || s.command === 'insert') statements++;
  },
});

async function round(k: string, r: number) {
  setGroupCommitInFlight(parseInt(k, 10));
  // New collections per round: the pipelines are per collection, and no round reads another's records.
  const deliveries = conn.db!.collection(`deliveries_${k}_${r}`);
  const inbox = conn.db!.collection(`inbox_${k}_${r}`);
  const ackLane = k.endsWith('L') ? conn.db!.collection(`deliveries_${k}_${r}`) : deliveries;
  const all = Array.from({ length: DOCS * FANOUT }, (_, i) => ({
    _id: `d${i}`,
    transport: 'queued',
    version: 0,
  }));
  const seed = deliveries as unknown as mongo.Collection<{ _id: string }>;
  for (let i = 0; i < all.length; i += 500) await seed.insertMany(all.slice(i, i + 500));
  const tasks: { id: string; at: number }[] = [];
  const latency: number[] = [];
  const acks: Promise<unknown>[] = [];
  let arrived = 0;
  let done = 0;
  const s0 = statements;
  const t0 = performance.now();
  const arrivals = (async () => {
    for (let d = 0; d < DOCS; d++) {
      const at = performance.now();
      for (let j = 0; j < FANOUT; j++) tasks.push({ id: `d${arrived++}`, at });
      await sleep(Math.max(0, t0 + (d + 1) * PACE_MS - performance.now()));
    }
  })();
  const worker = async () => {
    while (done + tasks.length < all.length || tasks.length > 0) {
      const t = tasks.shift();
      if (!t) {
        await sleep(2);
        continue;
      }
      done++;
      const current = await deliveries.findOne(byId(t.id));
      if (current?.transport !== 'queued') throw new Error(`${t.id} not queued`);
      await updateGrouped(deliveries, {
        id: t.id,
        update: { $set: { transport: 'available', availableAt: new Date() }, $inc: { version: 1 } },
      });
      await insertGrouped(inbox, [{ _id: t.id, r: 'H41', at: new Date() }]);
      latency.push(performance.now() - t.at);
      // The recipient acknowledges a while later: an update of the same collection.
      acks.push(
        sleep(50).then(() =>
          updateGrouped(ackLane, { id: t.id, update: { $set: { transport: 'acknowledged' } } }),
        ),
      );
    }
  };
  await Promise.all([arrivals, ...Array.from({ length: WORKERS }, worker)]);
  await Promise.all(acks);
  const ms = performance.now() - t0;
  return {
    k,
    round: r,
    p50: q(latency, 0.5),
    p95: q(latency, 0.95),
    deliveriesPerSec: Math.round((latency.length / ms) * 1000),
    writesPerDelivery: +((statements - s0) / latency.length).toFixed(2),
  };
}

const results: Awaited<ReturnType<typeof round>>[] = [];
try {
  for (let r = 1; r <= Number(args.rounds); r++)
    for (const k of r % 2 ? SETTINGS : [...SETTINGS].reverse()) {
      const res = await round(k, r);
      results.push(res);
      console.error('[group-commit]', JSON.stringify(res));
    }
} finally {
  await conn.dropDatabase().catch(() => undefined);
  await conn.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
console.log(
  `| in flight | arrival → inbox entry p50 / p95 ms (each round) | deliveries/s | writes per delivery |`,
);
console.log(`|---|---|---|---|`);
for (const k of SETTINGS) {
  const rs = results.filter((x) => x.k === k);
  console.log(
    `| ${k} | ${rs.map((x) => `${x.p50} / ${x.p95}`).join(' · ')} | ${median(rs.map((x) => x.deliveriesPerSec))} | ${median(rs.map((x) => x.writesPerDelivery))} |`,
  );
}
