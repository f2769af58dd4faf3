/** The signature ledger behaves the same on every adapter (harness.ts). */
import { expect } from 'chai';
import { MongoSignatureLedger } from '../../src/store/signature-ledger.ts';
import { describeAdapters } from './harness.ts';

const T0 = new Date('2026-12-06T05:00:00Z');
const plus = (ms: number) => new Date(T0.getTime() + ms);
/** No pruning in the background (it runs at the real time): the tests prune at pinned times. */
const NO_AUTO_PRUNE = { pruneEveryMs: Number.POSITIVE_INFINITY };

describeAdapters('SignatureLedger', (ctx) => {
  it('answers true on first use and false on every later use, across processes', async () => {
    const { conn } = ctx();
    const a = new MongoSignatureLedger(conn, NO_AUTO_PRUNE);
    const b = new MongoSignatureLedger(conn, NO_AUTO_PRUNE);
    await a.ensureIndexes();
    expect(await a.firstUse('dms-1:abcd', plus(300_000))).to.equal(true);
    expect(await a.firstUse('dms-1:abcd', plus(300_000))).to.equal(false);
    expect(await b.firstUse('dms-1:abcd', plus(300_000))).to.equal(false);
    const race = await Promise.all([a, b, a, b].map((l) => l.firstUse('dms-1:ef01', plus(300_000))));
    expect(race.filter(Boolean)).to.have.length(1);
  });

  it('forgets entries once their window has closed', async () => {
    const { conn } = ctx();
    const ledger = new MongoSignatureLedger(conn, NO_AUTO_PRUNE);
    await ledger.firstUse('dms-1:old', plus(1_000));
    await ledger.firstUse('dms-1:new', plus(600_000));
    expect(await ledger.prune(plus(2_000))).to.equal(1);
    expect(await ledger.firstUse('dms-1:old', plus(700_000))).to.equal(true);
    expect(await ledger.firstUse('dms-1:new', plus(600_000))).to.equal(false);
  });
});
