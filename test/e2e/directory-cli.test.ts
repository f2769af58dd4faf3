/** hubctl directory: import with a result CSV, refusals with every bad line, export, show (real FerretDB). */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { PROJECT_ROOT } from '../../src/config.ts';
import { openTestDirectory, type TestDirectory } from '../support/directory.ts';
import { addTestOperator, OPERATOR_ENV } from '../support/hubctl.ts';

describe('hubctl directory', function () {
  this.timeout(120_000);
  let t: TestDirectory;
  let dir: string;

  function hubctl(...args: string[]) {
    return hubctlIn({}, ...args);
  }

  function hubctlIn(env: Record<string, string>, ...args: string[]) {
    const r = spawnSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        path.join(PROJECT_ROOT, 'src/cli/hubctl.ts'),
        ...args,
        '--db',
        t.dbName,
      ],
      // $USER is not who acts: the authenticated hub user is (issue 23).
      { encoding: 'utf8', env: { ...process.env, USER: 'clerk-a', ...OPERATOR_ENV, ...env } },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  // A fresh seeded directory for each test: they register, close and import units, and the codes
  // the hub assigns depend on what is there (a shared one made each test depend on the order).
  beforeEach(async () => {
    t = await openTestDirectory('dircli');
    await addTestOperator(t.mongo, t.stores);
    dir = mkdtempSync(path.join(os.tmpdir(), 'hubctl-directory-'));
  });
  afterEach(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a file with bad rows, listing every line, and exits 3', () => {
    const file = path.join(dir, 'bad.csv');
    writeFileSync(
      file,
      'name,block,kind,province,predecessors\nUBND xã Một,state,commune-people-committee,H29,H29.77.77\n,party,commune-party-committee,H29,\n',
    );
    const r = hubctl('directory', 'import', file);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.contain('nothing was imported (2 problem(s))');
    expect(r.stderr).to.contain('line 2: predecessor H29.77.77 is not in the directory');
    expect(r.stderr).to.contain('line 3: name is required');
    const j = hubctl('--json', 'directory', 'import', file);
    expect(j.code).to.equal(3);
    const out = JSON.parse(j.stdout) as { ok: boolean; errors: { line: number }[] };
    expect(out.ok).to.equal(false);
    expect(out.errors.map((e) => e.line)).to.deep.equal([2, 3]);
  });

  it('imports a file, writes the result CSV and audits as the user', async () => {
    // An old ward still active (the seed's H29.21.01 and .02 are merged already).
    await t.service().register('seeder', {
      code: 'H29.21.03',
      legacyCode: '000.03.21.H29',
      name: 'UBND phường Bến Thành (cũ)',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H29',
    });
    const file = path.join(dir, 'hcmc.csv');
    writeFileSync(
      file,
      'name,block,kind,province,predecessors,valid_from\n' +
        'UBND phường Bến Thành,state,commune-people-committee,H29,000.03.21.H29,2025-07-01\n' +
        'Ủy ban MTTQ Việt Nam phường Bến Thành,front,commune-front-committee,H29,,2025-07-01\n',
    );
    const r = hubctl('--json', 'directory', 'import', file);
    expect(r.code, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout) as { created: number; closed: number; resultFile: string };
    expect(summary).to.include({ created: 2, closed: 1 });
    expect(summary.resultFile).to.equal(path.join(dir, 'hcmc.result.csv'));
    const rows = parse<Record<string, string>>(readFileSync(summary.resultFile, 'utf8'), {
      columns: true,
      bom: true,
    });
    expect(rows.map((x) => [x.line, x.code, x.predecessors])).to.deep.equal([
      ['2', 'H29.002', 'H29.21.03'],
      ['3', 'M29.002', ''],
    ]);
    const audit = await t.mongo.db!.collection('audit').findOne({ action: 'agency.imported' });
    expect(audit!.actor).to.equal('hubctl:admin');

    const show = hubctl('directory', 'show', '000.03.21.H29');
    expect(show.stdout).to.contain('successors: H29.002');
    expect(show.stdout).to.contain('until 2025-07-01');
    expect(show.stdout).to.contain('routing: rerouted → H29.002');
  });

  it('exports the directory as CSV', async () => {
    const out = path.join(dir, 'export.csv');
    const r = hubctl('directory', 'export', '--format', 'csv', '--out', out);
    expect(r.code, r.stderr).to.equal(0);
    const rows = parse<Record<string, string>>(readFileSync(out, 'utf8'), { columns: true, bom: true });
    expect(rows).to.have.length(await t.mongo.db!.collection('agencies').countDocuments());
    expect(rows.find((x) => x.code === 'H29.001')).to.include({
      name: 'UBND phường Sài Gòn',
      status: 'active',
      valid_from: '2025-07-01',
    });
    // A unit of the seed merged into H29.001: calendar dates and successors as the CSV carries them.
    expect(rows.find((x) => x.code === 'H29.21.01')).to.include({
      legacy_code: '000.01.21.H29',
      status: 'closed',
      closed_at: '2025-07-01',
      successors: 'H29.001',
    });
  });

  // ---- issue 19 §1: registration keeps the directory clean ----

  /** `hubctl directory register` of a commune People's Committee under H41, `--json` unless `plain`. */
  const COMMUNE = ['--block', 'state', '--kind', 'commune-people-committee', '--province', 'H41'];
  const registerIn = (env: Record<string, string>, ...extra: string[]) =>
    hubctlIn(env, '--json', 'directory', 'register', ...COMMUNE, ...extra);
  const register = (...extra: string[]) => registerIn({}, ...extra);

  it('refuses an http:// push endpoint outside development (ENDPOINT_NOT_HTTPS), accepts https://', () => {
    // ALLOW_HTTP_ENDPOINTS=false is what production runs with (config/production.json).
    const env = { ALLOW_HTTP_ENDPOINTS: 'false' };
    const args = ['--json', 'directory', 'update', 'H41.001', '--delivery-mode', 'push'];
    const plain = hubctlIn(env, ...args, '--delivery-url', 'http://dms.example.vn/inbox');
    expect(plain.code).to.equal(3);
    expect(JSON.parse(plain.stdout)).to.include({ code: 'ENDPOINT_NOT_HTTPS' });
    const tls = hubctlIn(env, ...args, '--delivery-url', 'https://dms.example.vn/inbox');
    expect(tls.code, tls.stderr).to.equal(0);
    expect(JSON.parse(tls.stdout)).to.deep.include({
      delivery: { mode: 'push', url: 'https://dms.example.vn/inbox' },
    });
  });

  it('refuses a wrong kind, a duplicate name and a closed predecessor with their codes, burning no code', () => {
    const kind = register('--name', 'UBND xã Vinh Kim', '--kind', 'Xã');
    expect(kind.code).to.equal(3);
    expect(JSON.parse(kind.stdout)).to.include({ code: 'VALIDATION_FAILED' });
    const dup = hubctl('directory', 'register', ...COMMUNE, '--name', 'ubnd xa DIEN  chau');
    expect(dup.code).to.equal(3);
    expect(dup.stderr).to.contain('AGENCY_DUPLICATE_NAME');
    expect(dup.stderr).to.contain('H41.001 "UBND xã Diễn Châu"');
    expect(dup.stderr).to.contain('--distinct-from');
    const closed = register('--name', 'UBND xã Vinh Kim', '--predecessors', '000.02.21.H29');
    expect(closed.code).to.equal(3);
    const refusal = JSON.parse(closed.stdout) as { code: string; message: string };
    expect(refusal.code).to.equal('PREDECESSOR_CLOSED');
    expect(refusal.message).to.contain('successors: H29.001');

    const ok = register('--name', 'UBND xã Vinh Kim', '--valid-from', '2025-07-01');
    expect(ok.code, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout)).to.include({ code: 'H41.002', validFrom: '2025-07-01' });
    const distinct = register('--name', 'UBND xã Vinh Kim', '--distinct-from', 'H41.002');
    expect(distinct.code, distinct.stderr).to.equal(0);
    expect(JSON.parse(distinct.stdout)).to.include({ code: 'H41.003' });
  });

  it('corrects a closed predecessor with --correct-closed and a reason, audited as the user', async () => {
    const split = [
      '--name',
      'UBND xã Đa Kao mới',
      '--predecessors',
      'H29.21.02',
      '--correct-closed',
      'split',
    ];
    expect(register(...split).code, 'a correction needs its reason').to.equal(3);
    const r = register(...split, '--correction-reason', 'Đa Kao chia cho hai đơn vị');
    expect(r.code, r.stderr).to.equal(0);
    const code = (JSON.parse(r.stdout) as { code: string }).code;
    const show = hubctl('directory', 'show', 'H29.21.02');
    expect(show.stdout).to.contain(`successors: H29.001, ${code}`);
    expect(show.stdout).to.contain('routing: refused');
    const audit = await t.mongo.db!.collection('audit').findOne({ action: 'agency.successors.corrected' });
    expect(audit).to.deep.include({ actor: 'hubctl:admin', subject: 'H29.21.02' });
    const close = hubctl('directory', 'close', 'H29.21.01', '--successors', code);
    expect(close.code).to.equal(3);
    expect(close.stderr).to.contain('PREDECESSOR_CLOSED');
    expect(close.stderr).to.contain('--correct-closed');
    expect(audit!.data).to.deep.include({
      mode: 'split',
      successorsBefore: ['H29.001'],
      successorsAfter: ['H29.001', code],
    });
  });

  it('lists in the import dry run the rows that duplicate an active unit, and reserves nothing', async () => {
    const { agency } = await t.service().register('seeder', {
      name: 'UBND xã Vinh Kim',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H41',
    });
    const file = path.join(dir, 'dup.csv');
    writeFileSync(
      file,
      'name,block,kind,province\nUBND xã Hưng Nguyên,state,commune-people-committee,H41\nUBND XÃ VINH KIM,state,commune-people-committee,H41\n',
    );
    const before = await t.stores.agencies.lastOrdinal('H41');
    const r = hubctl('directory', 'import', '--dry-run', file);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.contain(
      `line 3: "UBND XÃ VINH KIM" has the name of active unit ${agency.code} "UBND xã Vinh Kim"`,
    );
    expect(r.stderr).not.to.contain('line 2');
    expect(hubctl('directory', 'import', file).code).to.equal(3);
    expect(await t.stores.agencies.lastOrdinal('H41')).to.equal(before);
  });

  it('keeps a date the same day whatever the time zone of the machine running hubctl', () => {
    for (const TZ of ['Asia/Ho_Chi_Minh', 'UTC', 'America/New_York']) {
      const r = registerIn({ TZ }, '--name', `UBND xã Thử ${TZ}`, '--valid-from', '2025-07-01');
      expect(r.code, r.stderr).to.equal(0);
      const { code, validFrom } = JSON.parse(r.stdout) as { code: string; validFrom: string };
      expect(validFrom, TZ).to.equal('2025-07-01');
      const out = path.join(dir, `export-${code}.csv`);
      expect(hubctlIn({ TZ }, 'directory', 'export', '--out', out).code).to.equal(0);
      const rows = parse<Record<string, string>>(readFileSync(out, 'utf8'), { columns: true, bom: true });
      expect(
        rows.find((x) => x.code === code),
        TZ,
      ).to.include({ valid_from: '2025-07-01' });
    }
  });
});
