import { expect } from 'chai';
import { acceptanceDeadline, isOverdue, parseVietnamDate } from '../../../src/domain/deadlines.ts';

const at = new Date('2026-11-22T02:00:00Z'); // 09:00 in Vietnam

describe('deadlines and overdue documents', () => {
  it('reads a DueDate as the end of that day in Vietnam time', () => {
    expect(parseVietnamDate('2026/11/25')!.toISOString()).to.equal('2026-11-25T16:59:59.999Z');
    expect(parseVietnamDate('25/11/2026')).to.equal(null);
  });

  it('gives an immediate (hỏa tốc) document two hours, whatever its DueDate', () => {
    expect(acceptanceDeadline('2026/12/31', 3, at)!.toISOString()).to.equal('2026-11-22T04:00:00.000Z');
    expect(acceptanceDeadline(undefined, 4, at)!.toISOString()).to.equal('2026-11-22T04:00:00.000Z');
  });

  it('uses the earlier of DueDate and the priority rule', () => {
    expect(acceptanceDeadline('2026/11/22', 1, at)!.toISOString()).to.equal('2026-11-22T16:59:59.999Z');
    expect(acceptanceDeadline('2026/11/30', 1, at)!.toISOString()).to.equal('2026-11-23T02:00:00.000Z');
  });

  it('sets no deadline for an ordinary document without DueDate', () => {
    expect(acceptanceDeadline(undefined, 0, at)).to.equal(null);
  });

  it('flags as overdue only what is past due and not yet accepted', () => {
    const deadline = new Date('2026-11-22T04:00:00Z');
    const later = new Date('2026-11-22T05:00:00Z');
    expect(isOverdue(deadline, null, later)).to.equal(true);
    expect(isOverdue(deadline, '01', later)).to.equal(true);
    expect(isOverdue(deadline, '03', later)).to.equal(false);
    expect(isOverdue(deadline, '02', later)).to.equal(false);
    expect(isOverdue(deadline, null, new Date('2026-11-22T03:00:00Z'))).to.equal(false);
  });
});
