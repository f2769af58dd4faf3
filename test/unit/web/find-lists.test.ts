/** Pure pieces of finding documents (issue 19 §3): number keys, pagers, sorting, CSV cells, codes vs names. */
import { expect } from 'chai';
import { nameKey, numberKey, numberKeyPattern } from '../../../src/domain/text.ts';
import { translator } from '../../../src/web/i18n.ts';
import { listCsv, spreadsheetSafe } from '../../../src/web/list-csv.ts';
import {
  looksLikeCode,
  MAX_COUNTERPART_CODES,
  MAX_EXPORT_ROWS,
  WebQueries,
} from '../../../src/web/queries.ts';
import { pageWindow } from '../../../src/web/widgets.ts';
import { sortSpec, type DocumentListQuery, type MongoWebQueryStore } from '../../../src/store/web-store.ts';
import { HubError } from '../../../src/domain/errors.ts';
import type { UserView } from '../../../src/users/types.ts';
import type { DeliveryRecord, DocumentRecord } from '../../../src/domain/types.ts';

const matches = (typed: string, n?: string, notation?: string) =>
  new RegExp(numberKeyPattern(typed)!).test(numberKey(n, notation)!);

describe('finding documents: pure helpers', () => {
  it('folds number and notation like unit names (Đ → d, case, spacing)', () => {
    expect(numberKey('15', 'QĐ-VPCP')).to.equal('15/qd-vpcp');
    expect(numberKey('15', 'QĐ-VPCP')).to.equal(nameKey('15/QĐ-VPCP'));
    expect(numberKey(undefined, undefined)).to.equal(undefined);
    expect(numberKey('7', undefined)).to.equal('7/');
  });

  it('matches typed numbers without case or diacritics, anchored', () => {
    expect(matches('qd-vpcp', '15', 'QĐ-VPCP')).to.equal(true);
    expect(matches('QĐ-VPCP', '15', 'QĐ-VPCP')).to.equal(true);
    expect(matches('15/qd', '15', 'QĐ-VPCP')).to.equal(true);
    expect(matches('15 / QĐ', '15', 'QĐ-VPCP')).to.equal(true);
    expect(matches('15', '15', 'QĐ-VPCP')).to.equal(true);
    expect(matches('vpcp', '15', 'QĐ-VPCP')).to.equal(true);
    // Anchored: a number is a whole number, a slash pattern a prefix.
    expect(matches('5', '15', 'QĐ-VPCP')).to.equal(false);
    expect(matches('5/qd', '15', 'QĐ-VPCP')).to.equal(false);
    expect(matches('16', '15', 'QĐ-VPCP')).to.equal(false);
    // Everything typed is escaped: regex syntax is text.
    expect(matches('.*', '15', 'QĐ-VPCP')).to.equal(false);
    expect(matches('(', '15', 'QĐ-(VPCP')).to.equal(true);
    expect(numberKeyPattern('   ')).to.equal(null);
  });

  it('tells codes from names', () => {
    for (const c of ['H29', 'h29.001', 'H29.001', '000.00.00.H29', '0312345678-001'])
      expect(looksLikeCode(c)).to.equal(true, c);
    for (const n of ['Sài Gòn', 'phuong sai gon', 'UBND', 'Đảng ủy'])
      expect(looksLikeCode(n)).to.equal(false, n);
  });

  it('pages: first, last and a window around the current page', () => {
    expect(pageWindow(1, 1)).to.deep.equal([1]);
    expect(pageWindow(1, 3)).to.deep.equal([1, 2, 3]);
    expect(pageWindow(7, 20)).to.deep.equal([1, null, 5, 6, 7, 8, 9, null, 20]);
    expect(pageWindow(1, 20)).to.deep.equal([1, 2, 3, null, 20]);
    expect(pageWindow(20, 20)).to.deep.equal([1, null, 18, 19, 20]);
  });

  it('sorts on whitelisted fields with _id as the stable tiebreak', () => {
    expect(sortSpec(undefined)).to.deep.equal({ receivedAt: -1, _id: 1 });
    expect(sortSpec({ key: 'number', dir: 'asc' })).to.deep.equal({ 'meta.numberKey': 1, _id: 1 });
    expect(Object.keys(sortSpec({ key: 'subject', dir: 'desc' }))).to.deep.equal([
      'meta.subjectFolded',
      '_id',
    ]);
  });

  it('defuses spreadsheet formulas in CSV cells', () => {
    expect(spreadsheetSafe('=HYPERLINK("http://x")')).to.equal(`'=HYPERLINK("http://x")`);
    for (const c of ['+1', '-1', '@SUM(A1)', '\tx']) expect(spreadsheetSafe(c)[0]).to.equal("'");
    expect(spreadsheetSafe('Về việc — 12/QĐ')).to.equal('Về việc — 12/QĐ');
  });

  it('writes a CSV with a BOM, Vietnam dates and the recipient of each status', () => {
    const doc = {
      id: 'd1',
      documentId: 'H29.001,2026/11/22,15/QĐ-VPCP',
      senderCode: 'H29.001',
      receivedAt: new Date('2026-11-30T18:30:00Z'), // 01/12/2026 01:30 in Vietnam
      meta: { subject: '=cmd', codeNumber: '15', codeNotation: 'QĐ-VPCP', priority: 2 },
    } as unknown as DocumentRecord;
    const delivery = {
      recipientCode: 'H41.001',
      transport: 'available',
      business: { code: '03', pending: null },
    } as unknown as DeliveryRecord;
    const csv = listCsv(
      {
        rows: [{ doc, deliveries: [delivery], overdue: false }],
        names: new Map([['H29.001', 'UBND phường Sài Gòn']]),
      },
      'received',
      'vi',
      translator('vi'),
    );
    expect(csv.charCodeAt(0)).to.equal(0xfeff);
    const lines = csv.slice(1).trim().split('\r\n');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.contain('Trích yếu');
    expect(lines[1]).to.contain('15/QĐ-VPCP');
    expect(lines[1]).to.contain("'=cmd");
    expect(lines[1]).to.contain('H29.001 UBND phường Sài Gòn');
    expect(lines[1]).to.contain('01/12/2026');
    expect(lines[1]).to.contain('H41.001: 03');
    expect(lines[0]).to.match(/,Mới$/);
    expect(lines[1]).to.match(/,có$/);
  });
});

describe('finding documents: WebQueries over a fake store', () => {
  const clerk = { username: 'c', role: 'clerk', agencies: ['H41.001'] } as unknown as UserView;
  function queries(matching: number, agencies: { code: string }[] = []) {
    const calls: DocumentListQuery[] = [];
    const store = {
      listDocuments: (q: DocumentListQuery) => {
        calls.push(q);
        const n = Math.max(0, Math.min(q.limit, matching - q.skip));
        const items = Array.from({ length: n }, (_, i) => ({ id: `d${q.skip + i}`, senderCode: 'H29.001' }));
        return Promise.resolve({ items, total: matching });
      },
      deliveriesOf: () => Promise.resolve([]),
    } as unknown as MongoWebQueryStore;
    const q = new WebQueries({
      store,
      documents: {} as never,
      originals: {} as never,
      deliveries: {} as never,
      agencies: {
        findMany: () => Promise.resolve(new Map()),
        search: () => Promise.resolve(agencies),
      } as never,
    });
    return { q, calls };
  }

  it('exports every matching row, and refuses rather than cuts a larger export', async () => {
    const ok = queries(MAX_EXPORT_ROWS);
    expect((await ok.q.exportRows(clerk, 'received', { page: 1 })).rows).to.have.length(MAX_EXPORT_ROWS);
    expect(ok.calls[0]).to.include({ skip: 0, limit: MAX_EXPORT_ROWS + 1 });
    const big = queries(MAX_EXPORT_ROWS + 1);
    const err = await big.q.exportRows(clerk, 'received', { page: 3 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HubError).with.property('code', 'EXPORT_TOO_LARGE');
  });

  it('resolves a typed name to directory codes, bounded, and a code to a prefix', async () => {
    const many = Array.from({ length: MAX_COUNTERPART_CODES + 1 }, (_, i) => ({ code: `H29.${i}` }));
    const named = queries(0, many);
    const r = await named.q.list(clerk, 'received', { page: 1, counterpart: 'phuong sai gon' });
    expect(r.counterpartTruncated).to.equal(true);
    expect(named.calls[0]!.counterpart!.codes).to.have.length(MAX_COUNTERPART_CODES);
    const coded = queries(0);
    await coded.q.list(clerk, 'received', { page: 1, counterpart: 'h29.001' });
    expect(coded.calls[0]!.counterpart).to.deep.equal({ prefix: 'H29.001', codes: [] });
    // A name matching no unit finds nothing, without asking the store.
    const none = queries(5, []);
    expect((await none.q.list(clerk, 'received', { page: 1, counterpart: 'khong co' })).total).to.equal(0);
    expect(none.calls).to.have.length(0);
  });
});
