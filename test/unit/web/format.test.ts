/** Dates shown to people: the UI's one format, dd/mm/yyyy (issue 19 §1). */
import { expect } from 'chai';
import { fmtEdxmlDate } from '../../../src/web/format.ts';

describe('web format: edXML dates', () => {
  it('shows an edXML promulgation date (yyyy/MM/dd) as dd/mm/yyyy, the same day', () => {
    expect(fmtEdxmlDate('2026/11/22')).to.equal('22/11/2026');
    expect(fmtEdxmlDate('2025-07-01')).to.equal('01/07/2025');
  });

  it('shows what it cannot read as written, and a dash for nothing', () => {
    expect(fmtEdxmlDate('22.11.2026')).to.equal('22.11.2026');
    expect(fmtEdxmlDate(undefined)).to.equal('—');
  });
});
