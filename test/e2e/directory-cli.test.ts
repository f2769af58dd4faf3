/** hubctl directory: import with a result CSV, refusals with every bad line, export, show (real FerretDB). */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { PROJECT_ROOT } from '../../src/config.ts';
import { openTestDirectory, type TestDirectory } from '../support/directory.ts';

describe('hubctl directory', function () {
  this.timeout(120_000);
  let t: TestDirectory;
  let dir: string;

  function hubctl(...args: string[]) {
    const r = spawnSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        path.join(PROJECT_ROOT, 'src/cli/hubctl.ts'),
        ...args,
        '--db',
        t.dbName,
      ],
      { encoding: 'utf8', env: { ...process.env, USER: 'clerk-a' } },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  before(async () => {
    t = await openTestDirectory('dircli');
    dir = mkdtempSync(path.join(os.tmpdir(), 'hubctl-directory-'));
  });
  after(async () => {
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
    const file = path.join(dir, 'hcmc.csv');
    writeFileSync(
      file,
      'name,block,kind,province,predecessors,valid_from\n' +
        'UBND phường Bến Thành,state,commune-people-committee,H29,000.01.21.H29,2025-07-01\n' +
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
      ['2', 'H29.002', 'H29.21.01'],
      ['3', 'M29.002', ''],
    ]);
    const audit = await t.mongo.db!.collection('audit').findOne({ action: 'agency.imported' });
    expect(audit!.actor).to.equal('hubctl:clerk-a');

    const show = hubctl('directory', 'show', '000.01.21.H29');
    expect(show.stdout).to.contain('successors: H29.001, H29.002');
    expect(show.stdout).to.contain('routing: refused');
  });

  it('exports the directory as CSV', () => {
    const out = path.join(dir, 'export.csv');
    const r = hubctl('directory', 'export', '--format', 'csv', '--out', out);
    expect(r.code, r.stderr).to.equal(0);
    const rows = parse<Record<string, string>>(readFileSync(out, 'utf8'), { columns: true, bom: true });
    expect(rows).to.have.length(17);
    expect(rows.find((x) => x.code === 'H29.002')).to.include({
      name: 'UBND phường Bến Thành',
      predecessors: 'H29.21.01',
    });
  });
});
