/**
 * Registration keeps the directory clean (issue 19 §1), on the real FerretDB: a refused registration
 * or import burns no code, duplicate names are caught, closed units are not silently re-closed, and
 * dates without time stay the same day whatever the machine's time zone (run with TZ=Asia/Ho_Chi_Minh,
 * TZ=UTC and TZ=America/New_York).
 */
import { expect } from 'chai';
import { exportCsvRow } from '../../../src/directory/csv.ts';
import { adminView } from '../../../src/directory/views.ts';
import { routeRecipients } from '../../../src/directory/routing.ts';
import type { DirectoryStore } from '../../../src/domain/ports.ts';
import type { Agency } from '../../../src/domain/types.ts';
import { DirectoryService } from '../../../src/directory/service.ts';
import { fmtDate } from '../../../src/web/format.ts';
import { openTestDirectory, refusalOf, type TestDirectory } from '../../support/directory.ts';

const commune = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  block: 'state' as const,
  kind: 'commune-people-committee',
  ...extra,
});

/** The store with one method failing: a write that fails after the code was reserved. */
function failing(store: DirectoryStore, method: keyof DirectoryStore): DirectoryStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === method) return () => Promise.reject(new Error('disk full'));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('a refused registration burns no code (FerretDB)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  // A fresh directory per test: each counts codes and changes from the seed, in any order.
  beforeEach(async () => {
    t = await openTestDirectory('dirnogap');
  });
  afterEach(async () => {
    await t?.close();
  });

  it('gives the next unit the next code after refusals for a wrong kind, a duplicate and a closed predecessor', async () => {
    const svc = t.service();
    const kind = await refusalOf(
      svc.register('admin-1', commune('UBND xã Vinh Kim', { province: 'H41', kind: 'Xã' })),
    );
    expect(kind.code).to.equal('VALIDATION_FAILED');
    expect(kind.message).to.contain('kind "Xã" must be a lower-case slug');
    const dup = await refusalOf(svc.register('admin-1', commune('UBND xã Diễn Châu', { province: 'H41' })));
    expect(dup.code).to.equal('AGENCY_DUPLICATE_NAME');
    const closed = await refusalOf(
      svc.register('admin-1', commune('UBND xã Vinh Kim', { province: 'H41', predecessors: ['H29.21.02'] })),
    );
    expect(closed.code).to.equal('PREDECESSOR_CLOSED');
    expect(await t.stores.agencies.lastOrdinal('H41')).to.equal(0);
    expect([...(await t.stores.agencies.issued(['H41.002', 'H41.003']))]).to.deep.equal([]);

    const { agency } = await svc.register('admin-1', commune('UBND xã Vinh Kim', { province: 'H41' }));
    expect(agency.code).to.equal('H41.002'); // H41.001 is the seed's: skipped, not a gap
  });

  it('gives the code back when the write after the reservation fails', async () => {
    const broken = new DirectoryService({
      store: failing(t.stores.agencies, 'insertAgencies'),
      audit: t.stores.audit,
      settings: t.settings,
    });
    const err = await refusalOf(
      broken.register('admin-1', commune('UBND xã Hưng Nguyên', { province: 'H41' })),
    );
    expect(err.message).to.equal('disk full');
    expect([...(await t.stores.agencies.issued(['H41.002']))]).to.deep.equal([]);
    const { agency } = await t
      .service()
      .register('admin-1', commune('UBND xã Hưng Nguyên', { province: 'H41' }));
    expect(agency.code).to.equal('H41.002'); // the code the failed write had reserved
  });

  it('gives back the codes of an import that fails before writing any unit', async () => {
    const broken = new DirectoryService({
      store: failing(t.stores.agencies, 'saveUndo'),
      audit: t.stores.audit,
      settings: t.settings,
    });
    const csv = 'name,block,kind,province\nUBND xã Nam Đàn,state,commune-people-committee,H41\n';
    const err = await refusalOf(broken.importCsv('admin-1', csv));
    expect(err.message).to.equal('disk full');
    expect(await t.stores.agencies.lastOrdinal('H41')).to.equal(0);
    const result = await t.service().importCsv('admin-1', csv);
    expect(result.created.map((r) => r.code)).to.deep.equal(['H41.002']);
  });
});

describe('duplicate names under one parent (FerretDB)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  // A fresh directory per test: each counts codes and changes from the seed, in any order.
  beforeEach(async () => {
    t = await openTestDirectory('dirdup');
  });
  afterEach(async () => {
    await t?.close();
  });

  it('refuses a name that matches an active unit of the parent without diacritics, case and spacing, naming it', async () => {
    const svc = t.service();
    const err = await refusalOf(
      svc.register('admin-1', commune('ubnd  XA Dien   chau', { province: 'H41' })),
    );
    expect(err.code).to.equal('AGENCY_DUPLICATE_NAME');
    expect(err.details).to.deep.equal({
      parent: 'H41',
      existing: [{ code: 'H41.001', name: 'UBND xã Diễn Châu' }],
    });
    expect(err.message).to.contain('H41.001 "UBND xã Diễn Châu"');
    // Đ folds to D: the Party committee's name too.
    const party = await refusalOf(
      svc.register('admin-1', {
        name: 'DANG UY XA DIENCHAU',
        block: 'party',
        kind: 'commune-party-committee',
        province: 'H41',
      }),
    );
    expect(party.details!.existing).to.deep.equal([{ code: 'D41.001', name: 'Đảng ủy xã Diễn Châu' }]);
  });

  it('refuses the same unit registered twice, and registers it when the request says it is a different one', async () => {
    const svc = t.service();
    const first = await svc.register('admin-1', commune('UBND xã Vinh Kim', { province: 'H41' }));
    const again = await refusalOf(svc.register('admin-1', commune('UBND xã Vinh Kim', { province: 'H41' })));
    expect(again.code).to.equal('AGENCY_DUPLICATE_NAME');
    expect(again.details!.existing).to.deep.equal([{ code: first.agency.code, name: 'UBND xã Vinh Kim' }]);
    const second = await svc.register(
      'admin-1',
      commune('UBND xã Vinh Kim', { province: 'H41', distinctFrom: [first.agency.code] }),
    );
    expect(second.agency.code).to.not.equal(first.agency.code);
    const audit = await t.stores.models.Audit.findOne({
      action: 'agency.registered',
      subject: second.agency.code,
    }).lean();
    expect((audit as unknown as { data: { distinctFrom: string[] } }).data.distinctFrom).to.deep.equal([
      first.agency.code,
    ]);
  });

  it('accepts the name of a unit under another parent, of a closed unit, or of the predecessor it succeeds', async () => {
    const svc = t.service();
    await svc.register('admin-1', commune('UBND xã Diễn Châu', { province: 'H29' }));
    // Đa Kao (H29.21.02) is closed: its name is free.
    await svc.register('admin-1', commune('UBND phường Đa Kao (cũ)', { province: 'H29' }));
    const { agency } = await svc.register(
      'admin-1',
      commune('UBND xã Diễn Châu', { province: 'H41', predecessors: ['H41.001'] }),
    );
    expect(agency.predecessors).to.deep.equal(['H41.001']);
  });

  it('lists in the import dry run the rows that repeat an active unit or an earlier row, and reserves nothing', async () => {
    const svc = t.service();
    const csv = [
      'name,block,kind,province,predecessors,distinct_from',
      'UBND phường SÀI GÒN,state,commune-people-committee,H29,,', // 2: H29.001
      'UBND xã Hưng Nguyên,state,commune-people-committee,H41,,', // 3: fine
      'UBND xã  hung nguyen,state,commune-people-committee,H41,,', // 4: line 3
      'UBND phường Sài Gòn,state,commune-people-committee,H29,,H29.001', // 5: declared distinct
      'UBND phường Tân Định,state,commune-people-committee,H29,H29.21.02,', // 6: closed predecessor
    ].join('\n');
    const before = await t.stores.agencies.lastOrdinal('H29');
    const err = await refusalOf(svc.importCsv('admin-1', csv, { dryRun: true }));
    expect(err.code).to.equal('VALIDATION_FAILED');
    const errors = err.details!.errors as { line: number; code?: string; existing?: unknown }[];
    expect(errors.map((e) => [e.line, e.code])).to.deep.equal([
      [2, 'AGENCY_DUPLICATE_NAME'],
      [4, 'AGENCY_DUPLICATE_NAME'],
      [5, 'AGENCY_DUPLICATE_NAME'],
      [6, 'PREDECESSOR_CLOSED'],
    ]);
    expect(errors[0]!.existing).to.deep.equal([{ code: 'H29.001', name: 'UBND phường Sài Gòn' }]);
    // Line 5 is distinct from H29.001 but repeats line 2 of the same file.
    expect(JSON.stringify(errors[2])).to.contain('line 2');
    expect(await t.stores.agencies.lastOrdinal('H29')).to.equal(before);
    const real = await refusalOf(svc.importCsv('admin-1', csv));
    expect(real.details!.errors).to.deep.equal(errors);
    expect(await t.stores.agencies.lastOrdinal('H29')).to.equal(before);
  });
});

describe('closed predecessors are not silently re-closed (FerretDB)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  // A fresh directory per test: each counts codes and changes from the seed, in any order.
  beforeEach(async () => {
    t = await openTestDirectory('dirclosed');
  });
  afterEach(async () => {
    await t?.close();
  });

  it('refuses a predecessor that was merged already, naming its successor, and changes nothing', async () => {
    const svc = t.service();
    const err = await refusalOf(
      svc.register(
        'admin-1',
        commune('UBND phường Tân Định', { province: 'H29', predecessors: ['000.02.21.H29'] }),
      ),
    );
    expect(err.code).to.equal('PREDECESSOR_CLOSED');
    expect(err.details).to.deep.equal({
      predecessors: [
        {
          code: 'H29.21.02',
          name: 'UBND phường Đa Kao (cũ)',
          closedAt: '2025-07-01',
          successors: ['H29.001'],
        },
      ],
    });
    expect(err.message).to.contain('successors: H29.001');
    const [r] = await routeRecipients(t.stores.agencies, ['H29.21.02']);
    expect(r).to.include({ outcome: 'rerouted', deliveredTo: 'H29.001' });
    expect(await t.stores.agencies.lastOrdinal('H29')).to.equal(0);
  });

  it('corrects a closed predecessor only when asked, and audits what routing changes', async () => {
    const svc = t.service();
    const noReason = await refusalOf(
      svc.register(
        'admin-1',
        commune('UBND phường Tân Định', {
          province: 'H29',
          predecessors: ['H29.21.02'],
          predecessorCorrection: { mode: 'replace', reason: ' ' },
        }),
      ),
    );
    expect(noReason.code).to.equal('VALIDATION_FAILED');
    const { agency } = await svc.register(
      'admin-9',
      commune('UBND phường Tân Định', {
        province: 'H29',
        predecessors: ['H29.21.02'],
        predecessorCorrection: { mode: 'replace', reason: 'Đa Kao nhập vào Tân Định, không phải Sài Gòn' },
      }),
    );
    const daKao = (await svc.get('H29.21.02')).agency;
    expect(daKao.successors).to.deep.equal([agency.code]);
    expect(daKao.closedAt!.toISOString()).to.equal('2025-07-01T00:00:00.000Z'); // its closing date is kept
    const [r] = await routeRecipients(t.stores.agencies, ['000.02.21.H29']);
    expect(r).to.include({ outcome: 'rerouted', deliveredTo: agency.code });
    const audit = (await t.stores.models.Audit.findOne({
      action: 'agency.successors.corrected',
    }).lean()) as unknown as {
      actor: string;
      subject: string;
      data: Record<string, unknown>;
    };
    expect(audit).to.include({ actor: 'admin-9', subject: 'H29.21.02' });
    expect(audit.data).to.deep.include({
      mode: 'replace',
      reason: 'Đa Kao nhập vào Tân Định, không phải Sài Gòn',
      successorsBefore: ['H29.001'],
      successorsAfter: [agency.code],
      successorOf: agency.code,
    });
    expect(audit.data.routingBefore).to.include({ outcome: 'rerouted', deliveredTo: 'H29.001' });
    expect(audit.data.routingAfter).to.include({ outcome: 'rerouted', deliveredTo: agency.code });
  });

  it('refuses to give a merged unit other successors through close, unless the request corrects it', async () => {
    const svc = t.service();
    const err = await refusalOf(svc.close('admin-1', 'H29.21.01', { successors: ['H29.001', 'H41.001'] }));
    expect(err.code).to.equal('PREDECESSOR_CLOSED');
    expect((await svc.get('H29.21.01')).agency.successors).to.deep.equal(['H29.001']);
    const again = await svc.close('admin-1', 'H29.21.01', { successors: ['H29.001'] });
    expect(again.successors).to.deep.equal(['H29.001']); // the same successors: nothing to correct
    const split = await svc.close('admin-2', 'H29.21.01', {
      successors: ['H41.001'],
      correction: { mode: 'split', reason: 'một phần Bến Nghé chuyển về H41.001' },
    });
    expect(split.successors).to.deep.equal(['H29.001', 'H41.001']);
    const audit = (await t.stores.models.Audit.findOne({
      action: 'agency.successors.corrected',
      subject: 'H29.21.01',
    }).lean()) as unknown as { actor: string; data: Record<string, unknown> };
    expect(audit.actor).to.equal('admin-2');
    expect(audit.data.routingAfter).to.include({ outcome: 'refused' });
  });
});

describe('dates without time are dates (FerretDB, any TZ)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  before(async () => {
    t = await openTestDirectory('dirdates');
  });
  after(async () => {
    await t?.close();
  });

  it('registers "effective 01/07/2025" from the web form and shows and exports 2025-07-01', async () => {
    // The web form sends 00:00 Vietnam time of the day picked (vnDayStart): 2025-06-30T17:00Z.
    const { agency } = await t
      .service()
      .register(
        'admin-1',
        commune('UBND phường Bến Thành', { province: 'H29', validFrom: new Date('2025-06-30T17:00:00Z') }),
      );
    expect(agency.validFrom!.toISOString()).to.equal('2025-07-01T00:00:00.000Z');
    const stored = (await t.stores.agencies.findByCode(agency.code))!;
    expect(exportCsvRow(stored).split(',')[9]).to.equal('2025-07-01');
    expect(adminView(stored)).to.include({ validFrom: '2025-07-01' });
    expect(fmtDate(stored.validFrom, 'vi')).to.equal('01/07/2025');
  });

  it('reads records stored before the fix at Vietnam midnight as the right day', async () => {
    const old: Agency = {
      ...(await t.stores.agencies.findByCode('H29.001'))!,
      code: 'H29.21.09',
      name: 'UBND phường 9 quận 1 (cũ)',
      status: 'closed',
      validFrom: new Date('2008-01-01T00:00:00+07:00'),
      closedAt: new Date('2025-07-01T00:00:00+07:00'),
      successors: ['H29.001'],
    };
    await t.stores.agencies.insertAgencies([old]);
    const stored = (await t.stores.agencies.findByCode('H29.21.09'))!;
    const row = exportCsvRow(stored).split(',');
    expect([row[9], row[10]]).to.deep.equal(['2008-01-01', '2025-07-01']);
    expect(adminView(stored)).to.include({ validFrom: '2008-01-01', closedAt: '2025-07-01' });
    expect(fmtDate(stored.closedAt, 'vi')).to.equal('01/07/2025');
  });
});
