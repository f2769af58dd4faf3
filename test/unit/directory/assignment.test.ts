/** Atomic assignment of the next free code under a parent, on the real FerretDB. */
import { expect } from 'chai';
import { openTestDirectory, refusalOf, type TestDirectory } from '../../support/directory.ts';

const commune = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  block: 'state' as const,
  kind: 'commune-people-committee',
  ...extra,
});

describe('code assignment under a parent (FerretDB)', function () {
  this.timeout(120_000);
  let t: TestDirectory;
  // A fresh directory per test: each counts codes and changes from the seed, in any order.
  beforeEach(async () => {
    t = await openTestDirectory('dirassign', {
      // Nghệ An gives its direct units two-digit groups: their codes also fit the legacy format.
      settings: { codeWidths: { default: [3], byLevel1: { H41: [2, 3] } } },
    });
  });
  afterEach(async () => {
    await t?.close();
  });

  it('gives 50 parallel registrations from three processes 50 distinct codes, skipping the code already taken', async () => {
    // Three independent connections and stores on the same database, as three hub processes.
    const others = await Promise.all([t.attach(), t.attach()]);
    const services = [t.service(), ...others.map((o) => o.service)];
    let results;
    try {
      results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          services[i % 3]!.register('tester', commune(`UBND phường số ${i + 1}`, { parentCode: 'H29' })),
        ),
      );
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
    const codes = results.map((r) => r.agency.code);
    expect(new Set(codes).size).to.equal(50);
    // H29.001 is in the development seed: the counter skips it; the 50 codes are H29.002 … H29.051.
    expect([...codes].sort()).to.deep.equal(
      Array.from({ length: 50 }, (_, i) => `H29.${String(i + 2).padStart(3, '0')}`),
    );
    for (const r of results)
      expect(r.agency.legacyCode, 'a 3-digit level-2 group has no legacy form').to.equal(undefined);
    // Every code is in the register of issued codes, once.
    expect((await t.stores.agencies.issued(codes)).size).to.equal(50);
    // And the versions of the change feed are distinct too.
    expect(new Set(results.map((r) => r.agency.version)).size).to.equal(50);
  });

  it('uses the group width configured for the level-1 body and produces the legacy code where it fits', async () => {
    const svc = t.service();
    const { agency } = await svc.register('tester', commune('UBND xã Quỳnh Lưu', { province: 'H41' }));
    expect(agency.code).to.equal('H41.01'); // two-digit groups for Nghệ An's units
    expect(agency.legacyCode).to.equal('000.00.01.H41');
    expect((await svc.get('000.00.01.H41')).agency.code).to.equal('H41.01');
    const { agency: child } = await svc.register('tester', {
      name: 'Phòng Văn hóa - Xã hội xã Quỳnh Lưu',
      block: 'state',
      kind: 'department',
      parentCode: 'H41.01',
    });
    expect(child.code).to.equal('H41.01.001');
    expect(child.legacyCode, 'level 3 is two digits in QCVN 102: 001 does not fit').to.equal(undefined);
  });

  it('resolves the parent from the province and the block', async () => {
    const svc = t.service();
    const { agency } = await svc.register('tester', {
      name: 'Ủy ban MTTQ Việt Nam xã Quỳnh Lưu',
      block: 'front',
      kind: 'commune-front-committee',
      province: 'H41',
    });
    expect(agency.parentCode).to.equal('M41');
    expect(agency.code).to.match(/^M41\.\d{3}$/);
    expect(agency.province).to.equal('H41');
  });

  it('never hands out a code again once issued, even after the unit is closed', async () => {
    const svc = t.service();
    const { agency: first } = await svc.register('tester', commune('UBND xã tạm', { parentCode: 'H29' }));
    await svc.close('tester', first.code, { at: new Date('2025-07-01') });
    const { agency: next } = await svc.register('tester', commune('UBND xã mới', { parentCode: 'H29' }));
    expect(next.code).to.not.equal(first.code);
    expect(next.code > first.code).to.equal(true);
    expect((await svc.get(first.code)).agency.status).to.equal('closed');
  });

  it('refuses to assign when the parent has no free code left in its group width', async () => {
    const svc = t.service({ settings: { codeWidths: { default: [3], byLevel1: { G22: [1] } } } });
    const codes: string[] = [];
    for (let i = 0; i < 9; i++)
      codes.push(
        (
          await svc.register('tester', {
            name: `Vụ ${i}`,
            block: 'state',
            kind: 'department',
            parentCode: 'G22',
          })
        ).agency.code,
      );
    expect(codes).to.deep.equal([
      'G22.1',
      'G22.2',
      'G22.3',
      'G22.4',
      'G22.5',
      'G22.6',
      'G22.7',
      'G22.8',
      'G22.9',
    ]);
    const err = await refusalOf(
      svc.register('tester', { name: 'Vụ 10', block: 'state', kind: 'department', parentCode: 'G22' }),
    );
    expect(err.code).to.equal('CONFLICT');
    expect(err.message).to.contain('no free code left under G22');
  });

  it('hands out change-feed versions from one counter, distinct and gapless under concurrency', async () => {
    const store = t.stores.agencies;
    const ranges = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.withWriter(`test ${i}`, async (w) => {
          const n = 1 + (i % 3);
          const from = await w.versions(n);
          return Array.from({ length: n }, (_, k) => from + k);
        }),
      ),
    );
    const taken = ranges.flat();
    expect(new Set(taken).size).to.equal(taken.length);
    expect(Math.max(...taken) - Math.min(...taken) + 1).to.equal(taken.length); // no gap, no overlap
  });
});
