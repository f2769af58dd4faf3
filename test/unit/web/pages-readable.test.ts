/** Readable names of the operations pages and the Vietnam day ranges of their filters (issue 19 §4). */
import { expect } from 'chai';
import { reasonKind } from '../../../src/delivery/dead-letters.ts';
import type { DayRangeError } from '../../../src/web/day-range.ts';
import { parseDayRange } from '../../../src/web/day-range.ts';
import { translator } from '../../../src/web/i18n.ts';
import { spreadsheetSafe as csvCell } from '../../../src/web/list-csv.ts';
import { actionLabel, attachmentKind, hubText, subjectHref } from '../../../src/web/readable.ts';

const vi = translator('vi');
const en = translator('en');

describe('readable names (web UI)', () => {
  it('names attachment types by MIME type, or by extension when the type is generic', () => {
    expect(attachmentKind('application/pdf', 'a.bin')).to.equal('mime.pdf');
    expect(
      attachmentKind('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'x'),
    ).to.equal('mime.word');
    expect(attachmentKind('application/octet-stream', 'bang-ke.XLSX')).to.equal('mime.excel');
    expect(attachmentKind('image/jpeg; name=a.jpg', undefined)).to.equal('mime.image');
    expect(attachmentKind(undefined, 'chuky.p7s')).to.equal('mime.signature');
    expect(attachmentKind('application/x-unknown', 'noextension')).to.equal('mime.binary');
  });

  it('puts the hub’s own English texts in the page’s language and leaves agencies’ words alone', () => {
    expect(hubText('revoke: Ban hành nhầm', vi)).to.equal('Thu hồi văn bản: Ban hành nhầm');
    expect(hubText('update', en)).to.equal('Document updated');
    expect(hubText('endpoint refused the document: HTTP 422', vi)).to.contain('HTTP 422');
    expect(hubText('The status transition is not allowed: 13 after 02: the delivery has ended', vi)).to.equal(
      'lượt chuyển đã kết thúc',
    );
    expect(hubText('15 after no status: 15 only answers a recall (13) or an update', vi)).to.contain(
      'mã 15 chỉ dùng để trả lời',
    );
    expect(hubText('push to https://dms.x/hub answered HTTP 503 (after 2 attempts)', vi)).to.equal(
      'Điểm nhận https://dms.x/hub trả lời lỗi HTTP 503 (sau 2 lần thử)',
    );
    expect(hubText('push to https://dms.x/hub failed: fetch failed', en)).to.equal(
      'Could not reach the endpoint https://dms.x/hub: fetch failed',
    );
    expect(hubText('Đã nhận, đang xử lý', vi)).to.equal('Đã nhận, đang xử lý');
  });

  it('classifies dead-letter reasons into plain kinds', () => {
    expect(reasonKind('task is not JSON')).to.equal('unreadable');
    expect(reasonKind('agency H41.001 is in push mode without an endpoint URL')).to.equal('noEndpointUrl');
    expect(reasonKind('push to https://x/hub answered HTTP 503 (after 10 attempts)')).to.equal(
      'endpointDown',
    );
    expect(reasonKind('push to https://x/hub failed: fetch failed')).to.equal('endpointDown');
    expect(reasonKind('circuit open for https://x')).to.equal('circuitOpen');
    expect(reasonKind('dead-lettered by the broker (rejected)')).to.equal('broker');
    expect(reasonKind('something else')).to.equal('unknown');
    for (const k of ['unreadable', 'noDelivery', 'broker', 'unknown'] as const)
      expect(vi(`dl.why.${k}`)).not.to.equal(en(`dl.why.${k}`));
  });

  it('names audit actions and links their subjects', () => {
    expect(actionLabel('user.login-failed', vi)).to.equal('Đăng nhập thất bại');
    expect(actionLabel('some.new-action', vi)).to.equal('some.new-action');
    const doc = '0b5a1f52-3c0e-4d8e-9a57-0c1d2e3f4a5b';
    expect(subjectHref('document.accepted', doc)).to.equal(`/ui/documents/${doc}`);
    expect(subjectHref('deadletter.replayed', `${doc}:H41.001`)).to.equal(`/ui/documents/${doc}`);
    expect(subjectHref('agency.registered', 'H41.132')).to.equal('/ui/admin/agencies/H41.132');
    expect(subjectHref('certificate.registered', 'G22')).to.equal('/ui/admin/certificates?agency=G22');
    expect(subjectHref('system.added', 'dms-x')).to.equal(null);
  });

  it('neutralises spreadsheet formulas in CSV cells', () => {
    for (const v of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=x']) expect(csvCell(v)).to.equal(`'${v}`);
    expect(csvCell('admin')).to.equal('admin');
  });
});

describe('Vietnam day ranges of filter forms', () => {
  const now = new Date('2026-12-05T18:30:00Z'); // 06/12/2026 01:30 in Vietnam

  it('defaults to the last N Vietnam days up to today', () => {
    const r = parseDayRange('', '', { defaultDays: 30, now })!;
    expect(r).to.include({ fromDay: '2026-11-07', toDay: '2026-12-06', days: 30 });
    expect(r.start.toISOString()).to.equal('2026-11-06T17:00:00.000Z');
    expect(r.end.toISOString()).to.equal('2026-12-06T17:00:00.000Z');
    expect(parseDayRange('', '', { now })).to.equal(null);
  });

  it('reads dd/mm/yyyy and ISO days, ends inclusive', () => {
    const r = parseDayRange('01/07/2025', '2025-07-01', { now })!;
    expect(r).to.include({ fromDay: '2025-07-01', toDay: '2025-07-01', days: 1 });
    expect(r.start.toISOString()).to.equal('2025-06-30T17:00:00.000Z');
  });

  it('refuses a reversed range, a bad date and a range too long, naming the field', () => {
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as DayRangeError;
      }
      throw new Error('not refused');
    };
    const reversed = refusal(() => parseDayRange('02/07/2025', '01/07/2025', { now }));
    expect(reversed).to.include({ code: 'DATE_RANGE_REVERSED', field: 'to', problem: 'reversed' });
    expect(refusal(() => parseDayRange('31/02/2025', '', { now }))).to.include({
      code: 'VALIDATION_FAILED',
      field: 'from',
    });
    expect(refusal(() => parseDayRange('01/01/2024', '01/01/2026', { now, maxDays: 366 }))).to.include({
      problem: 'tooLong',
    });
  });
});
