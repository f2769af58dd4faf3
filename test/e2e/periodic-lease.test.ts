/**
 * Cluster-wide periodic jobs: a MongoDB lease per period (unique insert) lets exactly one of several
 * processes run a job in each period. Real FerretDB; each "process" has its own connection.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { loadConfig } from '../../src/config.ts';
import { PeriodicJob, type PeriodLease } from '../../src/ops/periodic.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { MongoPeriodLeases } from '../../src/store/lease-store.ts';
import { connectMongo } from '../../src/store/mongo.ts';

const log = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('periodic jobs once per period across processes (MongoDB lease)', function () {
  this.timeout(60_000);
  const dbName = `t_lease_${randomBytes(4).toString('hex')}`;
  const conns: Connection[] = [];

  before(async () => {
    const uri = loadConfig().mongodb.uri;
    for (let i = 0; i < 3; i++) conns.push(await connectMongo(uri, { dbName }));
  });

  after(async () => {
    await conns[0]?.dropDatabase().catch(() => undefined);
    for (const c of conns) await c.close();
  });

  it('gives a period to exactly one of many concurrent contenders', async () => {
    const stores = conns.map((c) => new MongoPeriodLeases(c));
    const period = new Date(Date.UTC(2026, 10, 22, 10, 0, 0));
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stores[i % 3]!.acquire('race', period, `holder-${i}`)),
    );
    expect(results.filter(Boolean)).to.have.length(1);
    const leases = await stores[0]!.list('race');
    expect(leases).to.have.length(1);
    expect(leases[0]!.periodStart.getTime()).to.equal(period.getTime());
    // The next period is a new lease.
    expect(await stores[1]!.acquire('race', new Date(period.getTime() + 60_000), 'late')).to.equal(true);
    expect(await stores[2]!.acquire('race', new Date(period.getTime() + 60_000), 'later')).to.equal(false);
  });

  it('runs a job once per period while three processes run it, and every period runs', async () => {
    const interval = 1000;
    const runsByPeriod = new Map<number, string[]>();
    let skips = 0;
    const jobs = conns.map(
      (c, i) =>
        new PeriodicJob(
          'tick',
          interval,
          async () => {
            const p = Math.floor(Date.now() / interval);
            runsByPeriod.set(p, [...(runsByPeriod.get(p) ?? []), `p${i}`]);
            await sleep(50);
          },
          log,
          { lease: new MongoPeriodLeases(c), holder: `p${i}`, onSkip: () => skips++ },
        ),
    );
    const t0 = Date.now();
    for (const j of jobs) j.start();
    await sleep(5_500);
    for (const j of jobs) await j.stop();
    const periods = Math.floor(Date.now() / interval) - Math.floor(t0 / interval) + 1;

    const counts = [...runsByPeriod.values()].map((r) => r.length);
    expect(
      counts.every((n) => n === 1),
      JSON.stringify([...runsByPeriod]),
    ).to.equal(true);
    // Every period in the window ran (the first and the last may be cut by start/stop).
    expect(runsByPeriod.size).to.be.at.least(periods - 2);
    expect(jobs.reduce((n, j) => n + j.runs, 0)).to.equal(runsByPeriod.size);
    expect(skips, 'the other processes skipped the periods they lost').to.be.at.least(runsByPeriod.size);
    const leases = await new MongoPeriodLeases(conns[0]!).list('tick');
    expect(leases.map((l) => l.holder).sort()).to.deep.equal(
      [...runsByPeriod.values()].map((r) => r[0]!).sort(),
    );
  });

  it('keeps running in the surviving process when the others stop', async () => {
    const interval = 1000;
    const ran: number[] = [];
    const mk = (c: Connection, holder: string) =>
      new PeriodicJob(
        'survivor',
        interval,
        () => {
          ran.push(Math.floor(Date.now() / interval));
          return Promise.resolve();
        },
        log,
        { lease: new MongoPeriodLeases(c), holder },
      );
    const a = mk(conns[0]!, 'a');
    const b = mk(conns[1]!, 'b');
    a.start();
    b.start();
    await sleep(2_200);
    await a.stop(); // the other process dies: b takes every following period
    const before = ran.length;
    await sleep(3_200);
    await b.stop();
    expect(ran.length - before).to.be.at.least(2);
    expect(new Set(ran).size).to.equal(ran.length);
  });

  it('does not run a period without its lease when the lease store fails, and retries', async () => {
    let calls = 0;
    const failing: PeriodLease = {
      acquire: () => {
        calls++;
        return Promise.reject(new Error('store down'));
      },
    };
    let runs = 0;
    // A clock in the middle of a period: the retry (5 s later) stays within it.
    const t0 = Date.now();
    const now = () => Date.UTC(2026, 10, 22, 10, 0, 30) + (Date.now() - t0);
    const job = new PeriodicJob(
      'no-store',
      60_000,
      () => {
        runs++;
        return Promise.resolve();
      },
      log,
      { lease: failing, now },
    );
    job.start();
    await sleep(300);
    expect(calls, 'asked once, retry not yet due').to.equal(1);
    await sleep(5_000);
    await job.stop();
    expect(calls, 'asked again for the same period').to.equal(2);
    expect(runs).to.equal(0);
  });

  it('runs in every process without a lease (per-process work such as reloading CRLs)', async () => {
    let runs = 0;
    const jobs = [0, 1].map(
      () =>
        new PeriodicJob(
          'crl-load-like',
          200,
          () => {
            runs++;
            return Promise.resolve();
          },
          log,
        ),
    );
    for (const j of jobs) j.start();
    await sleep(500);
    for (const j of jobs) await j.stop();
    expect(jobs.every((j) => j.runs >= 2)).to.equal(true);
    expect(runs).to.equal(jobs[0]!.runs + jobs[1]!.runs);
  });
});
