/**
 * Validation of both code formats on every write: the pure rules, and the service refusing what
 * breaks them (real FerretDB).
 */
import { expect } from 'chai';
import { DEFAULT_DIRECTORY_SETTINGS } from '../../../src/directory/settings.ts';
import {
  agencyProblems,
  canonicalCodeProblem,
  legacyCodeProblem,
  parentProblem,
} from '../../../src/directory/validation.ts';
import { openTestDirectory, refusalOf, sampleAgency, type TestDirectory } from '../../support/directory.ts';

const agency = sampleAgency;

describe('directory validation rules', () => {
  it('accepts Decision 20/2020 codes and refuses malformed ones with the reason', () => {
    for (const ok of ['G22', 'H29', 'H29.001', 'H29.12.003', 'Z01ABC', '0301234567'])
      expect(canonicalCodeProblem(ok), ok).to.equal(null);
    expect(canonicalCodeProblem('h29.001')).to.contain('upper case');
    expect(canonicalCodeProblem('H29.00_1')).to.contain('only A-Z, 0-9');
    expect(canonicalCodeProblem('H2.001')).to.contain('level-1');
    expect(canonicalCodeProblem('H29..001')).to.contain('empty group');
    expect(canonicalCodeProblem(`H29.${'1'.repeat(33)}`)).to.contain('35');
    expect(canonicalCodeProblem('000.00.00.H29')).to.contain('legacy 13-character code');
  });

  it('accepts a legacy code only where it stands for the canonical code', () => {
    expect(legacyCodeProblem('000.01.21.H29', 'H29.21.01')).to.equal(null);
    expect(legacyCodeProblem('000.00.00.G22', 'G22')).to.equal(null);
    expect(legacyCodeProblem('000.02.21.H29', 'H29.21.01')).to.contain('stands for H29.21.02');
    expect(legacyCodeProblem('00.01.21.H29', 'H29.21.01')).to.contain('invalid');
    expect(legacyCodeProblem('001.00.24.H44', 'H44.24.00.001')).to.contain('zero');
  });

  it('requires the parent to be an ancestor of the code, and no parent for a level-1 body', () => {
    expect(parentProblem('H29.001', 'H29')).to.equal(null);
    expect(parentProblem('H29.21.01', 'H29')).to.equal(null); // district level abolished
    expect(parentProblem('H29.001', 'H41')).to.contain('not a unit of H41');
    expect(parentProblem('H29.001', null)).to.contain('parent is required');
    expect(parentProblem('H29', 'G22')).to.contain('no parent');
  });

  it('finds every problem of a record at once', () => {
    const problems = agencyProblems(
      agency({
        code: 'D29.009',
        parentCode: 'D29',
        block: 'state',
        name: ' ',
        kind: 'People Committee',
        delivery: { mode: 'push' },
        contact: { email: 'not-an-address' },
      }),
      DEFAULT_DIRECTORY_SETTINGS,
    );
    expect(problems.join('\n')).to.match(/letter D is reserved to the party block/);
    expect(problems.join('\n')).to.match(/name is required/);
    expect(problems.join('\n')).to.match(/kind "People Committee"/);
    expect(problems.join('\n')).to.match(/push delivery needs the endpoint URL/);
    expect(problems.join('\n')).to.match(/email "not-an-address"/);
    expect(agencyProblems(agency(), DEFAULT_DIRECTORY_SETTINGS)).to.deep.equal([]);
  });
});

describe('the directory service validates every write (FerretDB)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  before(async () => {
    t = await openTestDirectory('dirvalid');
  });
  after(async () => {
    await t?.close();
  });

  it('registers an agency with both formats and finds it by either', async () => {
    const svc = t.service();
    const { agency: a } = await svc.register('tester', {
      code: 'H29.22.05',
      legacyCode: '000.05.22.H29',
      name: 'UBND phường 5 (cũ)',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H29',
    });
    expect(a.legacyCode).to.equal('000.05.22.H29');
    expect((await svc.get('000.05.22.H29')).agency.code).to.equal('H29.22.05');
    expect((await svc.get('h29.22.05')).agency.legacyCode).to.equal('000.05.22.H29');
  });

  it('refuses an invalid code, a mismatched legacy code and an inconsistent parent, writing nothing', async () => {
    const svc = t.service();
    const before = await t.stores.agencies.count();
    const base = { name: 'UBND xã thử', block: 'state' as const, kind: 'commune-people-committee' };
    const bad = await refusalOf(svc.register('tester', { ...base, code: 'H29.0-1', parentCode: 'H29' }));
    expect(bad.code).to.equal('VALIDATION_FAILED');
    expect(bad.message).to.contain('H29.0-1');
    const mismatch = await refusalOf(
      svc.register('tester', { ...base, code: 'H29.22.06', legacyCode: '000.07.22.H29', parentCode: 'H29' }),
    );
    expect(mismatch.message).to.contain('stands for H29.22.07');
    const parent = await refusalOf(svc.register('tester', { ...base, code: 'H41.900', parentCode: 'H29' }));
    expect(parent.message).to.contain('not a unit of H29');
    expect(await t.stores.agencies.count()).to.equal(before);
    // The mismatched registration reserved nothing: the code is still free.
    expect([...(await t.stores.agencies.issued(['H29.22.06', '000.07.22.H29']))]).to.deep.equal([]);
  });

  it('refuses a unit whose block differs from its parent’s, or whose parent is closed', async () => {
    const svc = t.service();
    const block = await refusalOf(
      svc.register('tester', {
        name: 'Đảng ủy xã thử',
        block: 'party',
        kind: 'commune-party-committee',
        parentCode: 'H29',
      }),
    );
    expect(block.message).to.contain('parent H29 is in the state block, not party');
    const closed = await refusalOf(
      svc.register('tester', {
        name: 'Tổ dân phố',
        block: 'state',
        kind: 'residential-group',
        parentCode: 'H29.21.02',
      }),
    );
    expect(closed.message).to.contain('parent H29.21.02 is closed');
  });

  it('never registers a code that was already issued, even a closed one', async () => {
    const svc = t.service();
    const err = await refusalOf(
      svc.register('tester', {
        code: 'H29.21.02',
        name: 'UBND phường Đa Kao (mới)',
        block: 'state',
        kind: 'commune-people-committee',
        parentCode: 'H29',
      }),
    );
    expect(err.code).to.equal('CONFLICT');
    expect(err.message).to.contain('never reused');
    expect((await svc.get('H29.21.02')).agency.name).to.equal('UBND phường Đa Kao (cũ)');
  });
});
