/**
 * Cluster-wide periodic jobs: a MongoDB lease per period (unique insert) lets exactly one of several
 * processes run a job in each period. Real FerretDB; each "process" has its own connection. Time is a
 * manual scheduler (test/support/manual-scheduler.ts): periods pass when the test fires them, no sleeps.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { loadConfig } from '../../src/config.ts';
import { PeriodicJob, type PeriodLease } from '../../src/ops/periodic.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { MongoPeriodLeases } from '../../src/store/lease-store.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { ManualScheduler } from '../support/manual-scheduler.ts';

const log = createLogger('silent');
/** Clocks start a little into a period, as a process would. */
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0, 250);
/** Leases whatever their (manual) period: the store prunes by the real clock, keep a century. */
const leases = (c: Connection) => new MongoPeriodLeases(c, { retainMs: 100 * 365 * 86_400_000 });

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
    const clock = new ManualScheduler(T0);
    const runsByPeriod = new Map<number, string[]>();
    let skips = 0;
    const jobs = conns.map(
      (c, i) =>
        new PeriodicJob(
          'tick',
          interval,
          () => {
            const p = Math.floor(clock.now() / interval);
            runsByPeriod.set(p, [...(runsByPeriod.get(p) ?? []), `p${i}`]);
            return Promise.resolve();
          },
          log,
          { lease: leases(c), holder: `p${i}`, onSkip: () => skips++, scheduler: clock },
        ),
    );
    for (const j of jobs) j.start();
    // Six periods: the three processes wake up together in each, and race for its lease.
    for (let period = 0; period < 6; period++) {
      clock.fireDue();
      await clock.until(jobs.length);
    }
    for (const j of jobs) await j.stop();

    expect(
      [...runsByPeriod.values()].every((r) => r.length === 1),
      JSON.stringify([...runsByPeriod]),
    ).to.equal(true);
    expect(runsByPeriod.size, 'every period ran').to.equal(6);
    expect(jobs.reduce((n, j) => n + j.runs, 0)).to.equal(6);
    expect(skips, 'the other processes skipped the periods they lost').to.equal(12);
    const held = await leases(conns[0]!).list('tick');
    expect(held.map((l) => l.holder).sort()).to.deep.equal(
      [...runsByPeriod.values()].map((r) => r[0]!).sort(),
    );
  });

  it('keeps running in the surviving process when the others stop', async () => {
    const interval = 1000;
    const clock = new ManualScheduler(T0);
    const ran: { period: number; holder: string }[] = [];
    const mk = (c: Connection, holder: string) =>
      new PeriodicJob(
        'survivor',
        interval,
        () => {
          ran.push({ period: Math.floor(clock.now() / interval), holder });
          return Promise.resolve();
        },
        log,
        { lease: leases(c), holder, scheduler: clock },
      );
    const a = mk(conns[0]!, 'a');
    const b = mk(conns[1]!, 'b');
    a.start();
    b.start();
    for (let period = 0; period < 2; period++) {
      clock.fireDue();
      await clock.until(2);
    }
    await a.stop(); // the other process dies: b takes every following period
    const before = ran.length;
    for (let period = 0; period < 3; period++) {
      clock.fireDue();
      await clock.until(1);
    }
    await b.stop();
    expect(before).to.equal(2);
    expect(ran.slice(before).map((r) => r.holder)).to.deep.equal(['b', 'b', 'b']);
    expect(new Set(ran.map((r) => r.period)).size, 'one run per period').to.equal(5);
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
    const clock = new ManualScheduler(Date.UTC(2026, 10, 22, 10, 0, 30));
    const job = new PeriodicJob(
      'no-store',
      60_000,
      () => {
        runs++;
        return Promise.resolve();
      },
      log,
      { lease: failing, scheduler: clock },
    );
    job.start();
    clock.fireDue();
    await clock.until(1);
    expect(calls, 'asked once, retry not yet due').to.equal(1);
    expect(clock.nextDelay, 'retried 5 s later').to.equal(5_000);
    clock.fireDue();
    await clock.until(1);
    await job.stop();
    expect(calls, 'asked again for the same period').to.equal(2);
    expect(runs).to.equal(0);
  });

  it('runs in every process without a lease (per-process work such as reloading CRLs)', async () => {
    const clock = new ManualScheduler(T0);
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
          { scheduler: clock },
        ),
    );
    for (const j of jobs) j.start();
    for (let wake = 0; wake < 3; wake++) {
      clock.fireDue();
      await clock.until(2);
      expect(clock.nextDelay, 'next run one interval later').to.equal(200);
    }
    for (const j of jobs) await j.stop();
    expect(jobs.map((j) => j.runs)).to.deep.equal([3, 3]);
    expect(runs).to.equal(6);
  });
});
