/**
 * Issue 19 §2: every refusal the directory forms can show has a field and a text in the page's
 * language. The problems are produced by the real validation functions where they are pure, and
 * quoted from the service (src/directory/service.ts) where they need the store; each must be
 * recognised by the one mapping (src/web/refusals.ts), never fall back to the English sentence.
 */
import { expect } from 'chai';
import { DEFAULT_DIRECTORY_SETTINGS } from '../../../src/directory/settings.ts';
import {
  agencyProblems,
  assignableParentProblem,
  canonicalCodeProblem,
  contactProblems,
  deliveryProblems,
  endpointSchemeProblem,
  legacyCodeProblem,
  nameProblems,
  parentProblem,
} from '../../../src/directory/validation.ts';
import { HubError } from '../../../src/domain/errors.ts';
import { translator } from '../../../src/web/i18n.ts';
import { formErrors, problemRefusal, refusalsOf, rowRefusal } from '../../../src/web/refusals.ts';
import { sampleAgency } from '../../support/directory.ts';

const vi = translator('vi');
const en = translator('en');

const base = sampleAgency();

/** [problem sentence, the field it concerns] */
function producedProblems(): [string, string | null][] {
  const s = DEFAULT_DIRECTORY_SETTINGS;
  const one = (p: string | null | undefined) => {
    if (!p) throw new Error('expected a problem');
    return p;
  };
  return [
    [one(nameProblems('')[0]), 'name'],
    [one(nameProblems('x'.repeat(300))[0]), 'name'],
    [one(nameProblems('x', 'y'.repeat(200))[0]), 'shortName'],
    [one(agencyProblems({ ...base, block: 'government' as 'state' }, s)[0]), 'block'],
    [one(agencyProblems({ ...base, code: 'D29.005', parentCode: 'D29' }, s)[0]), 'block'],
    [one(agencyProblems({ ...base, kind: 'UBND xã' }, s)[0]), 'kind'],
    [one(agencyProblems({ ...base, province: 'Hà Nội' }, s)[0]), 'province'],
    [one(agencyProblems({ ...base, validFrom: new Date(NaN) }, s)[0]), 'validFrom'],
    [one(agencyProblems({ ...base, predecessors: ['H29.005'] }, s)[0]), 'predecessors'],
    [one(canonicalCodeProblem('000.00.78.H29')), 'code'],
    [one(legacyCodeProblem('000.00.78.H29', 'H29.77')), 'legacyCode'],
    [one(assignableParentProblem('Z01')), 'parent'],
    [one(parentProblem('H29.005', 'H41')), 'parent'],
    [one(parentProblem('H29', 'H41')), 'parent'],
    [one(parentProblem('H29.005', null)), 'parent'],
    [one(contactProblems({ email: 'u@' })[0]), 'email'],
    [one(contactProblems({ phone: 'abc' })[0]), 'phone'],
    [one(deliveryProblems({ mode: 'fax' as 'pull' })[0]), 'mode'],
    [one(deliveryProblems({ mode: 'push' })[0]), 'url'],
    [one(deliveryProblems({ mode: 'push', url: 'ftp://x' })[0]), 'url'],
    [one(endpointSchemeProblem({ mode: 'push', url: 'http://dms.example/in' }, s)), 'url'],
    // Sentences of the service (they need the store), as it words them.
    ['kind is required', 'kind'],
    ['a parent (or a province) is required to assign a code', 'parent'],
    ['a parent or a province is required', 'parent'],
    ['parent H99 is not in the directory', 'parent'],
    ['parent H99 is not in the directory nor in the file', 'parent'],
    ['parent H29.21 is closed', 'parent'],
    ['parent D29 is in the party block, not state', 'parent'],
    ['no active level-1 state body in province H77: give the parent', 'province'],
    ['province H29 has several level-1 state bodies (H29, H30): give the parent', 'province'],
    ['predecessor H29.99.01 is not in the directory', 'predecessors'],
    ['predecessor H29.99.01 is not in the directory nor in the file', 'predecessors'],
    ['predecessor H29 is the parent (or an ancestor) of the new unit', 'predecessors'],
    ['predecessor H29.21.01 listed twice', 'predecessors'],
    [
      'predecessor H29.21.02 "UBND phường Đa Kao" is already closed since 2025-07-01 (successors: H29.001); naming it again would change where documents addressed to it go',
      'predecessors',
    ],
    ['successor H29.99 is not in the directory', 'successors'],
    ['successor H29.21.02 is closed', 'successors'],
    ['H29.001 cannot succeed itself', 'successors'],
    ['the correction needs a mode (split or replace) and a reason', 'correctionReason'],
    ['validFrom must be a date (dd/mm/yyyy)', 'validFrom'],
    ['valid_from "32/07/2025" is not a date (dd/mm/yyyy or YYYY-MM-DD)', 'validFrom'],
    ['the date must be dd/mm/yyyy', 'at'],
    ['the closing date is invalid', 'at'],
    ['mode must be pull, push or amqp', 'mode'],
    ['delivery_mode must be one of pull, push, amqp', 'mode'],
    ['code H29.21.01 was already issued (codes are never reused)', 'code'],
    ['code H29.76 also on line 11', 'code'],
    ['legacy code 000.00.76.H29 also on line 11', 'legacyCode'],
    ['legacy_code needs the code it stands for (code column)', 'legacyCode'],
    ['a legacy code needs the code it stands for', 'legacyCode'],
    ['no free code left under H29 for this row (group width 3)', 'parent'],
    ['"UBND xã A" has the name of line 3 under H41', 'name'],
    [
      '"UBND xã Diễn Châu" has the name of active unit H41.001 "UBND xã Diễn Châu" under H41; if it is a different unit, say so (distinctFrom / distinct_from: H41.001)',
      'name',
    ],
    ['malformed CSV: Invalid Closing Quote', null],
    ['the file is empty: a header row is required', null],
    ['the file has no data rows', null],
    ['the file has 300000 rows; the limit is 200000', null],
    ['unknown column(s) ten; the columns are name, block', null],
    ['column name appears twice', null],
    ['column kind is required', null],
    ['a parent or a province column is required', null],
  ];
}

describe('refusals as a clerk can act on them (issue 19 §2)', () => {
  it('maps every problem the directory reports to its field and a Vietnamese and an English text', () => {
    for (const [problem, fieldName] of producedProblems()) {
      const v = problemRefusal(problem, vi);
      const e = problemRefusal(problem, en);
      expect(v, problem).to.not.equal(null);
      expect(v!.field, problem).to.equal(fieldName);
      expect(v!.text, problem).to.not.equal(e!.text);
      expect(v!.text, problem).to.not.match(/\{\w+\}/); // every parameter filled
    }
  });

  it('puts a refused registration next to its fields, the rest on top, in the page language', () => {
    const problems = ['name is required', 'contact email "u@" is not an address', 'unheard-of problem'];
    const err = new HubError('VALIDATION_FAILED', problems.join('; '), { problems });
    const f = formErrors(err, vi, 'vi', ['name', 'email']);
    expect(f.summary).to.equal('Dữ liệu không hợp lệ');
    expect(f.fields.get('name')).to.deep.equal(['Chưa nhập tên.']);
    expect(f.fields.get('email')![0]).to.contain('"u@" không phải địa chỉ thư điện tử');
    // An unknown sentence never shows English on a Vietnamese page.
    expect(f.general).to.deep.equal(['Dữ liệu không hợp lệ']);
    expect(formErrors(err, en, 'en', ['name']).general).to.include(
      'Invalid request data: unheard-of problem',
    );
  });

  it('reads the duplicate, closed-predecessor and https refusals from their codes', () => {
    const dup = new HubError('AGENCY_DUPLICATE_NAME', 'x', {
      parent: 'H41',
      existing: [{ code: 'H41.001', name: 'UBND xã Diễn Châu' }],
    });
    expect(refusalsOf(dup, vi, 'vi')).to.deep.equal([
      {
        field: 'name',
        text: 'Đã có đơn vị cùng tên đang hoạt động: H41.001 "UBND xã Diễn Châu". Nếu đây là đơn vị khác, ghi mã đó vào ô "Khác với đơn vị cùng tên".',
      },
    ]);
    const https = new HubError('ENDPOINT_NOT_HTTPS', 'delivery URL "http://a.b/" must start with https://');
    expect(refusalsOf(https, vi, 'vi')[0]).to.include({ field: 'url' });
    expect(
      rowRefusal({ reason: 'delivery URL "http://a.b/" must start with https://' }, vi, 'vi'),
    ).to.deep.equal({
      field: 'delivery_url',
      text: 'Địa chỉ điểm nhận phải bắt đầu bằng https:// (đang là "http://a.b/").',
    });
  });
});
