/** Period leases behave the same on every adapter (harness.ts): one holder per job and period. */
import { expect } from 'chai';
import { MongoPeriodLeases } from '../../src/store/lease-store.ts';
import { describeAdapters } from './harness.ts';

const P1 = new Date('2026-12-06T05:00:00Z');
const P2 = new Date('2026-12-06T05:05:00Z');

describeAdapters('PeriodLease', (ctx) => {
  it('gives each period of a job to exactly one of many contenders', async () => {
    const { conn } = ctx();
    const processes = [1, 2, 3].map(() => new MongoPeriodLeases(conn));
    const won = await Promise.all(
      processes.flatMap((p, i) => [0, 1].map((k) => p.acquire('crl-refresh', P1, `proc-${i}-${k}`))),
    );
    expect(won.filter(Boolean)).to.have.length(1);
    expect(await processes[0]!.acquire('crl-refresh', P1, 'late')).to.equal(false);
    // another period, another job: free again
    expect(await processes[1]!.acquire('crl-refresh', P2, 'proc-1')).to.equal(true);
    expect(await processes[2]!.acquire('cert-expiry', P1, 'proc-2')).to.equal(true);
    const leases = await processes[0]!.list('crl-refresh');
    expect(leases.map((l) => l.periodStart.toISOString())).to.deep.equal([
      P1.toISOString(),
      P2.toISOString(),
    ]);
  });

  it('prunes the leases older than the retention, never the period just won', async () => {
    const { conn } = ctx();
    const leases = new MongoPeriodLeases(conn, { retainMs: 0 });
    expect(await leases.acquire('job', P1, 'a')).to.equal(true);
    expect(await leases.acquire('job', P2, 'a')).to.equal(true);
    expect((await leases.list('job')).map((l) => l.periodStart.toISOString())).to.deep.equal([
      P2.toISOString(),
    ]);
  });
});
