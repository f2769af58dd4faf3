/**
 * Import files as clerks make them (issue 19 §2): the downloadable template parses back, and
 * semicolon-separated files with a UTF-8 BOM, as Excel writes them in Vietnamese locales, read as
 * comma-separated ones do.
 */
import { expect } from 'chai';
import {
  detectDelimiter,
  importTemplateCsv,
  parseImportCsv,
  splitList,
  TEMPLATE_COLUMNS,
} from '../../../src/directory/csv.ts';

describe('import CSV: template and delimiters', () => {
  it('detects the delimiter from the header line, outside quotes', () => {
    expect(detectDelimiter('name,block,kind\n')).to.equal(',');
    expect(detectDelimiter('\uFEFFname;block;kind\r\n')).to.equal(';');
    expect(detectDelimiter('"a,b,c";block;kind\n')).to.equal(';');
    expect(detectDelimiter('name,block,kind\nx;y;z;w;v\n')).to.equal(',');
  });

  it('reads a semicolon file with a BOM as Excel writes it, lists split by comma or semicolon', () => {
    const text =
      '\uFEFFname;block;kind;parent;predecessors;valid_from\r\n' +
      'UBND xã Vĩnh Kim;state;commune-people-committee;H41;"000.01.21.H41;000.02.21.H41";01/07/2025\r\n' +
      '"UBND xã ""Mới""";state;commune-people-committee;H41;000.03.21.H41, 000.04.21.H41;\r\n';
    const rows = parseImportCsv(text);
    expect(rows).to.have.length(2);
    expect(rows[0]!.values).to.include({ name: 'UBND xã Vĩnh Kim', parent: 'H41', valid_from: '01/07/2025' });
    expect(splitList(rows[0]!.values.predecessors)).to.deep.equal(['000.01.21.H41', '000.02.21.H41']);
    expect(splitList(rows[1]!.values.predecessors)).to.deep.equal(['000.03.21.H41', '000.04.21.H41']);
  });

  it('offers a template with a BOM, the documented columns and one example row that parses', () => {
    const text = importTemplateCsv();
    expect(text.startsWith('\uFEFFname;block;kind;')).to.equal(true);
    const rows = parseImportCsv(text);
    expect(rows).to.have.length(1);
    expect(Object.keys(rows[0]!.values)).to.include.members(['name', 'block', 'kind', 'parent']);
    expect(text.split('\r\n')[0]!.replace('\uFEFF', '').split(';')).to.deep.equal([...TEMPLATE_COLUMNS]);
  });
});
