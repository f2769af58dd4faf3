/** Bulk import from CSV: all or nothing per file (real FerretDB). */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import type { AuditEvent } from '../../../src/domain/types.ts';
import { openTestDirectory, refusalOf, type TestDirectory } from '../../support/directory.ts';

const HEADER = 'name,block,kind,province,parent,predecessors,short_name,valid_from,code,legacy_code,email';

async function snapshot(t: TestDirectory) {
  const db = t.mongo.db!;
  return {
    agencies: await db.collection('agencies').countDocuments(),
    codes: await db.collection('agency_codes').countDocuments(),
    counters: JSON.stringify(
      await db
        .collection('directory_counters')
        .find({ _id: { $ne: 'lock' } as never })
        .toArray(),
    ),
    imports: await db.collection('directory_imports').countDocuments(),
    audit: await db.collection('audit').countDocuments(),
  };
}

describe('bulk import of a CSV file (FerretDB)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  before(async () => {
    t = await openTestDirectory('dirimport');
    const svc = t.service();
    for (const n of [1, 2, 3, 4, 5, 6])
      await svc.register('seeder', {
        code: `H29.40.0${n}`,
        legacyCode: `000.0${n}.40.H29`,
        name: `UBND xã ${n} huyện 40 (cũ)`,
        block: 'state',
        kind: 'commune-people-committee',
        parentCode: 'H29',
      });
  });
  after(async () => {
    await t?.close();
  });

  it('refuses a file with bad rows, reports every one with its line, and writes nothing', async () => {
    const csv = [
      HEADER,
      'UBND xã Bình Chánh,state,commune-people-committee,H29,,H29.40.01,,2025-07-01,,,', // good
      ',state,commune-people-committee,H29,,,,,,,', // 3: no name
      'UBND xã X,government,commune-people-committee,H29,,,,,,,', // 4: bad block
      'UBND xã Y,state,commune-people-committee,H29,,H29.99.01,,,,,', // 5: unknown predecessor
      'UBND xã Z,state,commune-people-committee,H29,,,,32/07/2025,,,', // 6: bad date (dd/mm/yyyy is read)
      '"UBND xã ""W""",state,commune-people-committee,H29,,,,,H29.21.01,,', // 7: code already issued
      'Đảng ủy xã V,party,commune-party-committee,,H29,,,,,,', // 8: parent of another block
      'UBND xã U,state,commune-people-committee,H29,,,,,,,u@', // 9: bad email
      'UBND xã T,state,commune-people-committee,H29,,,,,H29.77,000.00.78.H29,', // 10: legacy mismatch
      'UBND xã S,state,commune-people-committee,H29,,,,,H29.76,,', // 11: good (explicit code)
      'UBND xã R,state,commune-people-committee,H29,,,,,H29.76,,', // 12: same code as line 11
    ].join('\n');
    const before = await snapshot(t);
    const err = await refusalOf(t.service().importCsv('admin-1', csv));
    expect(err.code).to.equal('VALIDATION_FAILED');
    const errors = err.details!.errors as { line: number; reason: string }[];
    const lines = [...new Set(errors.map((e) => e.line))];
    expect(lines).to.deep.equal([3, 4, 5, 6, 7, 8, 9, 10, 12]);
    const reason = (line: number) =>
      errors
        .filter((e) => e.line === line)
        .map((e) => e.reason)
        .join(' | ');
    expect(reason(3)).to.contain('name is required');
    expect(reason(4)).to.contain('block "government"');
    expect(reason(5)).to.contain('predecessor H29.99.01 is not in the directory');
    expect(reason(6)).to.contain('valid_from "32/07/2025"');
    expect(reason(7)).to.contain('H29.21.01 was already issued');
    expect(reason(8)).to.contain('parent H29 is in the state block, not party');
    expect(reason(9)).to.contain('email "u@"');
    expect(reason(10)).to.contain('stands for H29.78');
    expect(reason(12)).to.contain('code H29.76 also on line 11');
    expect(await snapshot(t)).to.deep.equal(before);
  });

  it('refuses a file with an unknown column before reading any row', async () => {
    const err = await refusalOf(
      t.service().importCsv('admin-1', 'name,block,kind,province,colour\nA,state,x,H29,red\n'),
    );
    expect(err.message).to.contain('unknown column(s) colour');
    expect((err.details!.errors as { line: number }[])[0]!.line).to.equal(1);
  });

  it('imports communes with predecessors, reports splits and returns the result CSV', async () => {
    const csv = [
      HEADER,
      'UBND xã Bình Hưng,state,commune-people-committee,H29,,H29.40.02;000.03.40.H29,,2025-07-01,,,binhhung@example.invalid',
      'UBND xã Hưng Long,state,commune-people-committee,H29,,H29.40.04,,2025-07-01,,,',
      'UBND xã Đa Phước,state,commune-people-committee,H29,,H29.40.04,,2025-07-01,,,',
      'Đảng ủy xã Bình Hưng,party,commune-party-committee,H29,,,ĐU Bình Hưng,2025-07-01,,,',
    ].join('\r\n');
    const progress: string[] = [];
    const r = await t.service().importCsv('admin-1', `\uFEFF${csv}`, {
      onProgress: (p) => progress.push(`${p.phase}:${p.done}/${p.total}`),
    });
    expect(r.created.map((c) => c.line)).to.deep.equal([2, 3, 4, 5]);
    const [bh, hl, dp, dubh] = r.created;
    expect(bh!.code).to.match(/^H29\.\d{3}$/);
    expect(dubh!.code).to.match(/^D29\.\d{3}$/);
    expect(bh!.predecessors).to.deep.equal(['H29.40.02', 'H29.40.03']);
    expect(r.splits).to.deep.equal([{ code: 'H29.40.04', successors: [hl!.code, dp!.code] }]);
    expect(progress).to.include('write:4/4');
    const rows = parse<Record<string, string>>(r.resultCsv, { columns: true });
    expect(rows.map((x) => [x.line, x.name, x.code, x.predecessors])).to.deep.equal([
      ['2', 'UBND xã Bình Hưng', bh!.code, 'H29.40.02;H29.40.03'],
      ['3', 'UBND xã Hưng Long', hl!.code, 'H29.40.04'],
      ['4', 'UBND xã Đa Phước', dp!.code, 'H29.40.04'],
      ['5', 'Đảng ủy xã Bình Hưng', dubh!.code, ''],
    ]);
    const svc = t.service();
    expect((await svc.get('000.03.40.H29')).routing).to.include({
      outcome: 'rerouted',
      deliveredTo: bh!.code,
    });
    expect((await svc.get('H29.40.04')).routing.reason).to.contain(`split between ${hl!.code}, ${dp!.code}`);
    expect((await svc.get(bh!.code)).agency.contact.email).to.equal('binhhung@example.invalid');
    expect((await svc.get(dubh!.code)).agency.shortName).to.equal('ĐU Bình Hưng');
    expect((await t.stores.agencies.getImport(r.importId!))?.state).to.equal('done');
    // Audited: the created units in the import's records, their digest chained in the audit log.
    type Entry = { actor: string; data: { after: object; codes: string[]; before: object[] } };
    const log = t.mongo.db!.collection<Entry>('audit');
    const audit = await log.findOne({ action: 'agency.imported', subject: r.importId });
    const records = await t.stores.agencies.importRecords(r.importId!);
    expect(records.map((x) => x.code)).to.deep.equal(r.created.map((c) => c.code));
    const digest = createHash('sha256').update(JSON.stringify(records)).digest('hex');
    expect(audit!.actor).to.equal('admin-1');
    expect(audit!.data.after).to.include({ created: 4, recordsSha256: digest });
    const closedAudit = (await log.findOne({ action: 'agency.closed', subject: r.importId })) as unknown as {
      data: { codes: string[]; before: Record<string, unknown>[]; after: { successors: string[] }[] };
    };
    expect(closedAudit.data.codes).to.have.members(['H29.40.02', 'H29.40.03', 'H29.40.04']);
    const i = closedAudit.data.codes.indexOf('H29.40.04');
    expect(closedAudit.data.before[i]).to.include({ status: 'active' });
    expect(closedAudit.data.after[i]!.successors).to.deep.equal([hl!.code, dp!.code]);
    expect(await t.stores.audit.verify()).to.include({ ok: true });
  });

  it('undoes everything when applying fails half-way: created units removed, predecessors restored', async () => {
    const failingAudit = {
      append: async (e: AuditEvent) => {
        if (e.action === 'agency.imported') throw new Error('audit store down');
        return t.stores.audit.append(e);
      },
    };
    const before = await t.service().get('H29.40.05');
    const feedBefore = (await t.service().changes(0, 500)).next;
    const csv = [
      HEADER,
      'UBND xã Lê Minh Xuân,state,commune-people-committee,H29,,H29.40.05,,2025-07-01,,,',
    ].join('\n');
    const err = await refusalOf(t.service({ audit: failingAudit }).importCsv('admin-1', csv));
    expect(err.message).to.equal('audit store down');
    const after = await t.service().get('H29.40.05');
    expect(after.agency.status).to.equal('active');
    expect(after.agency.successors).to.deep.equal([]);
    expect(after.agency.version).to.be.greaterThan(before.agency.version); // the restore is a change too
    expect((await t.service().search({ q: 'le minh xuan' })).items).to.deep.equal([]);
    // The code it had reserved stays burnt: still in the register, and the next commune gets another one.
    const db = t.mongo.db!;
    // This file's job (another test rolls back a file of its own for the same reason).
    const job = await db.collection('directory_imports').findOne({
      state: 'rolled-back',
      fileSha256: createHash('sha256').update(csv).digest('hex'),
    });
    const burnt = (await db.collection('agency_codes').find({ by: job!._id }).toArray()).map((c) =>
      String(c._id),
    );
    expect(burnt).to.have.length(1);
    expect(burnt[0]).to.match(/^H29\.\d{3}$/);
    const next = await t.service().register('admin-1', {
      name: 'UBND xã Tân Nhựt',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H29',
    });
    expect(next.agency.code).to.not.equal(burnt[0]);
    expect(next.agency.code > burnt[0]!).to.equal(true);
    // Feed readers never saw the rolled-back unit.
    const feed = await t.service().changes(feedBefore, 500);
    expect(feed.items.map((a) => a.name)).to.not.include('UBND xã Lê Minh Xuân');
  });

  it('frees the codes a failed file gave, so that the corrected file imports them', async () => {
    let fail = true;
    const flakyAudit = {
      append: async (e: AuditEvent) => {
        if (fail && e.action === 'agency.imported') throw new Error('audit store down');
        return t.stores.audit.append(e);
      },
    };
    const csv = [
      HEADER,
      'UBND xã Vĩnh Lộc (cũ),state,commune-people-committee,,H29,,,2003-01-01,H29.41.07,000.07.41.H29,',
    ].join('\n');
    await refusalOf(t.service({ audit: flakyAudit }).importCsv('admin-1', csv));
    expect(await t.stores.agencies.findByCode('H29.41.07')).to.equal(null);
    fail = false;
    const r = await t.service({ audit: flakyAudit }).importCsv('admin-1', csv);
    expect(r.created.map((c) => [c.code, c.legacyCode])).to.deep.equal([['H29.41.07', '000.07.41.H29']]);
    expect((await t.stores.agencies.findByCode('000.07.41.H29'))!.name).to.equal('UBND xã Vĩnh Lộc (cũ)');
  });

  it('rolls back an import whose process died, when the change feed finds its writer dead', async () => {
    const store = t.stores.agencies;
    const db = t.mongo.db!;
    const pred = (await store.findByCode('H29.40.06'))!;
    // A process takes the writer lock, starts an import, writes half of it… and dies.
    await store.withWriter('doomed import', async (w) => {
      await store.startImport({
        id: 'doomed',
        actor: 'admin-1',
        fileSha256: 'x',
        rows: 1,
        startedAt: new Date(),
      });
      const from = await w.versions(2);
      await store.saveUndo('doomed', [{ before: pred, appliedVersion: from + 1 }]);
      await store.reserveCodes([{ code: 'H29.900', canonical: 'H29.900', kind: 'canonical' }], 'doomed');
      await store.insertAgencies(
        [{ ...pred, code: 'H29.900', legacyCode: undefined, version: from, successors: [] }],
        'doomed',
      );
      await store.update(pred.code, pred.version, from + 1, {
        set: { status: 'closed', closedAt: new Date() },
        addSuccessors: ['H29.900'],
      });
    });
    // …without releasing its lock: simulate the crash by undoing the release and ageing the heartbeats.
    const old = new Date(Date.now() - 10 * 60_000);
    const lock = await db.collection('directory_locks').find().sort({ n: -1 }).limit(1).next();
    await db
      .collection('directory_locks')
      .updateOne({ _id: lock!._id }, { $unset: { releasedAt: '' }, $set: { heartbeatAt: old } });
    await db
      .collection('directory_imports')
      .updateOne({ _id: 'doomed' as never }, { $set: { heartbeatAt: old } });
    expect((await store.watermark()).stalled).to.equal(true);

    const feed = await t.service().changes(0, 500);
    expect(feed.items.map((a) => a.code)).to.not.include('H29.900');
    expect(await store.findByCode('H29.900')).to.equal(null);
    expect((await store.findByCode('H29.40.06'))!.status).to.equal('active');
    expect((await store.getImport('doomed'))?.state).to.equal('rolled-back');
    expect((await store.watermark()).stalled).to.equal(false);
  });
});
