import { expect } from 'chai';
import {
  currentToLegacy,
  formatChildCode,
  isCurrentCode,
  isLegacyCode,
  legacyToCurrent,
  parseAgencyCode,
  validateAgencyCode,
} from '../../src/domain/codes.ts';

describe('agency identification codes', () => {
  it('accepts legacy 13-character codes and derives their parents right to left', () => {
    expect(isLegacyCode('000.46.24.H44')).to.equal(true);
    const p = parseAgencyCode('000.46.24.H44');
    expect(p).to.include({ format: 'legacy', level1: 'H44', level: 3, parent: '000.00.24.H44' });
    expect(parseAgencyCode('000.00.24.H44').parent).to.equal('000.00.00.H44');
    expect(parseAgencyCode('000.00.00.H29').parent).to.equal(null);
    expect(parseAgencyCode('001.46.24.H44').parent).to.equal('000.46.24.H44');
  });

  it('accepts current codes and derives their parents left to right', () => {
    expect(parseAgencyCode('H29.12.003')).to.include({
      format: 'current',
      level: 3,
      parent: 'H29.12',
      level1: 'H29',
    });
    expect(parseAgencyCode('G22').parent).to.equal(null);
    expect(parseAgencyCode('Z01ABC.12').kind).to.equal('other-org');
    expect(parseAgencyCode('0301234567').kind).to.equal('enterprise');
  });

  it('refuses malformed codes with a reason naming the defect', () => {
    const cases: [string, RegExp][] = [
      ['h29.001', /upper case/],
      ['Z29.001'.replace('Z', 'ZZ'), /Z followed by two digits/],
      ['H29..001', /empty group/],
      ['H29.001.', /empty group/],
      ['A' + '1'.repeat(40), /longer than 35/],
      ['29.22.H17', /level-1 code/],
      ['001.00.24.H44', /level 3 is zero/],
      ['H2.001', /level-1 code/],
    ];
    for (const [code, why] of cases) {
      const r = validateAgencyCode(code);
      expect(r.ok, code).to.equal(false);
      if (!r.ok) expect(r.reason, code).to.match(why);
    }
    expect(isCurrentCode('28.22.H17')).to.equal(false);
    expect(isLegacyCode('002.00.20.H1')).to.equal(false);
  });

  it('maps between the legacy and the current forms where they fit', () => {
    expect(legacyToCurrent('000.00.00.H29')).to.equal('H29');
    expect(legacyToCurrent('000.46.24.H44')).to.equal('H44.24.46');
    expect(legacyToCurrent('H29')).to.equal(null);
    expect(currentToLegacy('H44.24.46')).to.equal('000.46.24.H44');
    expect(currentToLegacy('H29')).to.equal('000.00.00.H29');
    expect(currentToLegacy('H29.001')).to.equal(null);
  });

  it('formats child codes with a fixed group width', () => {
    expect(formatChildCode('H29', 7, 3)).to.equal('H29.007');
    expect(() => formatChildCode('H29', 1000, 3)).to.throw(/does not fit/);
  });
});
