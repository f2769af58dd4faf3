/** The audit log behaves the same on every adapter (harness.ts): one unbroken chain. */
import { expect } from 'chai';
import { MongoAuditLog } from '../../src/store/audit-log.ts';
import { describeAdapters } from './harness.ts';

describeAdapters('AuditLog', (ctx) => {
  it('appends chained entries and verifies the chain', async () => {
    const log = new MongoAuditLog(ctx().conn);
    expect(await log.verify()).to.deep.equal({ ok: true, count: 0 });
    const a = await log.append({ actor: 'admin', action: 'test.one', subject: 'H29.001', data: { n: 1 } });
    const b = await log.append({ actor: 'admin', action: 'test.two', subject: 'H29.001' });
    expect([a.seq, b.seq]).to.deep.equal([1, 2]);
    expect(b.prevHash).to.equal(a.hash);
    expect(await log.verify()).to.deep.equal({ ok: true, count: 2 });
  });

  it('finds a tampered entry', async () => {
    const { conn } = ctx();
    const log = new MongoAuditLog(conn);
    for (let i = 0; i < 3; i++) await log.append({ actor: 'admin', action: 'test', subject: `s${i}` });
    await conn.db!.collection('audit').updateOne({ _id: 2 as never }, { $set: { subject: 'changed' } });
    const v = await log.verify();
    expect(v).to.deep.include({ ok: false, brokenAt: 2 });
  });

  it('two concurrent appenders (two processes) never fork the chain', async () => {
    const { conn } = ctx();
    const p1 = new MongoAuditLog(conn);
    const p2 = new MongoAuditLog(conn);
    await p1.append({ actor: 'p1', action: 'test.start', subject: 'x' }); // p2 starts behind the head
    const writes = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? p1 : p2).append({ actor: i % 2 ? 'p1' : 'p2', action: 'test.race', subject: `e${i}` }),
    );
    const entries = await Promise.all(writes);
    const seqs = entries.map((e) => e.seq).sort((x, y) => x - y);
    expect(new Set(seqs).size).to.equal(40);
    expect(seqs[0]).to.equal(2);
    expect(seqs[39]).to.equal(41);
    expect(await p2.verify()).to.deep.equal({ ok: true, count: 41 });
    const subjects = (await conn.db!.collection('audit').find({ action: 'test.race' }).toArray()).map(
      (d) => d.subject as string,
    );
    expect(subjects.sort()).to.deep.equal(Array.from({ length: 40 }, (_, i) => `e${i}`).sort());
  });

  it('finds entries by prefix and period, newest first (the query side)', async () => {
    const log = new MongoAuditLog(ctx().conn);
    await log.append({ actor: 'admin', action: 'certificate.registered', subject: 'H29.001' });
    await log.append({
      actor: 'dms-1',
      action: 'submission.refused',
      subject: 'H29.002',
      data: { code: 'X' },
    });
    await log.append({ actor: 'admin', action: 'certificate.unregistered', subject: 'H29.001' });
    const certs = await log.page({ action: 'certificate.', limit: 10 });
    expect(certs.map((e) => e.seq)).to.deep.equal([3, 1]);
    expect(certs[0]).to.deep.include({ actor: 'admin', subject: 'H29.001' });
    expect(certs[0]!.at).to.be.instanceOf(Date);
    expect((await log.page({ actor: 'dms', limit: 10 }))[0]!.data).to.deep.equal({ code: 'X' });
    expect((await log.page({ beforeSeq: 3, limit: 1 })).map((e) => e.seq)).to.deep.equal([2]);
    expect(await log.page({ subject: 'H29.00', until: new Date(0), limit: 10 })).to.deep.equal([]);
    expect((await log.page({ from: new Date(0), limit: 10 })).length).to.equal(3);
    expect(await log.page({ action: '.*', limit: 10 })).to.deep.equal([]); // a prefix, not a pattern
  });
});
