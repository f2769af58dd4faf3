/**
 * New communes with predecessors: the predecessors close, record their successors, and routing
 * (src/directory/routing.ts, reading this store) reroutes or refuses (real FerretDB).
 */
import { expect } from 'chai';
import { routeRecipients } from '../../../src/directory/routing.ts';
import { openTestDirectory, refusalOf, type TestDirectory } from '../../support/directory.ts';

const oldWard = (n: number) => ({
  code: `H29.30.${String(n).padStart(2, '0')}`,
  legacyCode: `000.${String(n).padStart(2, '0')}.30.H29`,
  name: `UBND phường ${n} quận 30 (cũ)`,
  block: 'state' as const,
  kind: 'commune-people-committee',
  parentCode: 'H29',
  validFrom: new Date('2008-01-01'),
});

describe('registering a commune with predecessors (FerretDB)', function () {
  this.timeout(60_000);
  // Each test gets its own database with the four old wards open: the tests close and link them, so
  // sharing one database made a test depend on another having run first (shuffle seed 7).
  let t: TestDirectory | undefined;
  beforeEach(async () => {
    t = await openTestDirectory('dirsucc');
    const svc = t.service();
    for (const n of [1, 2, 3, 4]) await svc.register('seeder', oldWard(n));
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const dir = (): TestDirectory => {
    if (!t) throw new Error('no test directory open');
    return t;
  };

  it('closes the predecessors at the date, links them to the new commune, and routing reroutes to it', async () => {
    const svc = dir().service();
    const validFrom = new Date('2025-07-01T00:00:00+07:00');
    const { agency, closed } = await svc.register('admin-1', {
      name: 'UBND phường Bàn Cờ',
      block: 'state',
      kind: 'commune-people-committee',
      province: 'H29',
      predecessors: ['H29.30.01', '000.02.30.H29'], // canonical and legacy codes alike
      validFrom,
    });
    expect(agency.predecessors).to.deep.equal(['H29.30.01', 'H29.30.02']);
    expect(closed.map((c) => c.code)).to.deep.equal(['H29.30.01', 'H29.30.02']);
    for (const c of closed) {
      expect(c.status).to.equal('closed');
      expect(c.successors).to.deep.equal([agency.code]);
      // A calendar date: the Vietnam day of the instant given, stored as that day (UTC midnight).
      expect(c.closedAt!.toISOString()).to.equal('2025-07-01T00:00:00.000Z');
    }
    const routed = await routeRecipients(dir().stores.agencies, ['000.01.30.H29', 'H29.30.02']);
    expect(routed[0]).to.include({ code: '000.01.30.H29', outcome: 'rerouted', deliveredTo: agency.code });
    // Both predecessors lead to the same commune: delivered once.
    expect(routed[1]).to.include({ outcome: 'refused' });
    expect(routed[1]!.reason).to.contain(`duplicate of recipient ${agency.code}`);
    const view = await svc.get('H29.30.01');
    expect(view.agency.successors).to.deep.equal([agency.code]);
    expect(view.routing).to.include({ outcome: 'rerouted', deliveredTo: agency.code });
  });

  it('refuses documents to a predecessor split between two communes by an explicit correction, listing the successors', async () => {
    const svc = dir().service();
    const a = await svc.register('admin-1', {
      name: 'UBND xã Tân Nhựt',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H29',
      predecessors: ['H29.30.03'],
    });
    const b = await svc.register('admin-1', {
      name: 'UBND xã Bình Lợi',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H29',
      predecessors: ['H29.30.03'],
      predecessorCorrection: { mode: 'split', reason: 'Nghị quyết chia phường 3 giữa hai xã' },
    });
    const old = (await svc.get('000.03.30.H29')).agency;
    expect(old.status).to.equal('closed');
    expect(old.successors).to.deep.equal([a.agency.code, b.agency.code]);
    const [r] = await routeRecipients(dir().stores.agencies, ['000.03.30.H29']);
    expect(r!.outcome).to.equal('refused');
    expect(r!.reason).to.contain(`split between ${a.agency.code}, ${b.agency.code}`);
  });

  it('merges through the close endpoint, and closing again changes nothing', async () => {
    const svc = dir().service();
    const merged = await svc.close('admin-1', 'H29.30.04', {
      successors: ['H29.001'],
      at: new Date('2025-07-01'),
      reason: 'Nghị quyết 1685/NQ-UBTVQH15',
    });
    expect(merged).to.include({ status: 'closed' });
    expect(merged.successors).to.deep.equal(['H29.001']);
    const again = await svc.close('admin-1', 'H29.30.04', { successors: ['H29.001'] });
    expect(again.version).to.equal(merged.version);
    const [r] = await routeRecipients(dir().stores.agencies, ['H29.30.04']);
    expect(r).to.include({ outcome: 'rerouted', deliveredTo: 'H29.001' });
  });

  it('refuses unknown predecessors, a predecessor that is the parent, and closed successors', async () => {
    const svc = dir().service();
    await svc.close('admin-1', 'H29.30.01', { successors: ['H29.001'], at: new Date('2025-07-01') });
    const unknown = await refusalOf(
      svc.register('admin-1', {
        name: 'UBND xã ma',
        block: 'state',
        kind: 'commune-people-committee',
        parentCode: 'H29',
        predecessors: ['H29.99.99'],
      }),
    );
    expect(unknown.message).to.contain('predecessor H29.99.99 is not in the directory');
    const parent = await refusalOf(
      svc.register('admin-1', {
        name: 'UBND xã lạ',
        block: 'state',
        kind: 'commune-people-committee',
        parentCode: 'H29',
        predecessors: ['H29'],
      }),
    );
    expect(parent.message).to.contain('predecessor H29 is the parent');
    const closedSuccessor = await refusalOf(svc.close('admin-1', 'H41.001', { successors: ['H29.30.01'] }));
    expect(closedSuccessor.message).to.contain('successor H29.30.01 is closed');
    expect((await svc.get('H41.001')).agency.status).to.equal('active');
  });
});
