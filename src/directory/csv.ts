/**
 * CSV formats of the directory (docs/directory.md): the import file, the import result and the
 * export. UTF-8 (a BOM is accepted), RFC 4180 quoting, a header row naming columns. Import files may
 * be comma- or semicolon-separated (Excel writes `;` in Vietnamese locales): the header says which.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { vnCalendarDay as isoDate } from '../domain/calendar.ts';
import type { Agency } from '../domain/types.ts';

/** Columns of an import file. `name`, `block`, `kind` and one of `parent`/`province` are required. */
export const IMPORT_COLUMNS = [
  'name',
  'block',
  'kind',
  'parent',
  'province',
  'predecessors',
  'short_name',
  'valid_from',
  'code',
  'legacy_code',
  'email',
  'phone',
  'fax',
  'address',
  'website',
  'delivery_mode',
  'delivery_url',
  'distinct_from',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export interface CsvRow {
  /** Line number in the file (1 = the header). */
  readonly line: number;
  readonly values: Partial<Record<ImportColumn, string>>;
}

export class CsvFormatError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.name = 'CsvFormatError';
    this.line = line;
  }
}

/**
 * The delimiter of a CSV file, read from its header line (outside quotes): `;` when it has more
 * semicolons than commas (Excel in a Vietnamese locale, where the comma is the decimal separator).
 */
export function detectDelimiter(text: string): ',' | ';' {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const ch of text.replace(/^\uFEFF/, '')) {
    if (ch === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (ch === '\n' || ch === '\r') break;
    else if (ch === ',') commas++;
    else if (ch === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

/** Parses an import file. Header problems and malformed CSV throw CsvFormatError. */
export function parseImportCsv(text: string): CsvRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      delimiter: detectDelimiter(text),
      info: true,
      relax_column_count: false,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as { lines?: number; message: string };
    throw new CsvFormatError(e.lines ?? 0, `malformed CSV: ${e.message}`);
  }
  const header = records[0];
  if (!header) throw new CsvFormatError(1, 'the file is empty: a header row is required');
  const columns = header.record.map((c) => c.toLowerCase().replace(/[\s-]+/g, '_'));
  const unknown = columns.filter((c) => !(IMPORT_COLUMNS as readonly string[]).includes(c));
  if (unknown.length)
    throw new CsvFormatError(
      header.info.lines,
      `unknown column(s) ${unknown.join(', ')}; the columns are ${IMPORT_COLUMNS.join(', ')}`,
    );
  const dup = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dup) throw new CsvFormatError(header.info.lines, `column ${dup} appears twice`);
  for (const req of ['name', 'block', 'kind'])
    if (!columns.includes(req)) throw new CsvFormatError(header.info.lines, `column ${req} is required`);
  if (!columns.includes('parent') && !columns.includes('province'))
    throw new CsvFormatError(header.info.lines, 'a parent or a province column is required');
  return records.slice(1).map(({ record, info }) => {
    const values: Partial<Record<ImportColumn, string>> = {};
    columns.forEach((c, i) => {
      const v = record[i];
      if (v !== undefined && v !== '') values[c as ImportColumn] = v;
    });
    // info.lines is the line where the record ends; a quoted field may span lines.
    return { line: info.lines, values };
  });
}

/**
 * Columns of the downloadable template (docs/directory.md explains each): those of an import but
 * the ones a commune rarely needs (a given code, its legacy form, fax, website).
 */
const NOT_IN_TEMPLATE = ['code', 'legacy_code', 'fax', 'website'] as const;
export type TemplateColumn = Exclude<ImportColumn, (typeof NOT_IN_TEMPLATE)[number]>;
export const TEMPLATE_COLUMNS: readonly TemplateColumn[] = IMPORT_COLUMNS.filter(
  (c): c is TemplateColumn => !(NOT_IN_TEMPLATE as readonly string[]).includes(c),
);

const TEMPLATE_EXAMPLE: Partial<Record<ImportColumn, string>> = {
  name: 'UBND xã Ví Dụ',
  block: 'state',
  kind: 'commune-people-committee',
  parent: 'H41',
  province: '',
  predecessors: '',
  short_name: '',
  valid_from: '01/07/2025',
  email: 'vanthu@vidu.gov.vn',
  phone: '',
  address: '',
  delivery_mode: 'pull',
  delivery_url: '',
  distinct_from: '',
};

/**
 * The import template: UTF-8 with a BOM and `;` between columns, so that Excel in a Vietnamese
 * locale opens it in columns; a header and one example row. Lists inside a cell (predecessors,
 * distinct_from) are then separated by commas or spaces rather than `;`.
 */
export function importTemplateCsv(): string {
  return (
    '\uFEFF' +
    stringify([[...TEMPLATE_COLUMNS], TEMPLATE_COLUMNS.map((c) => TEMPLATE_EXAMPLE[c] ?? '')], {
      delimiter: ';',
      record_delimiter: 'windows',
    })
  );
}

/** A list of codes in a cell: `a; b;c`, `a, b` or `a b` → ['a', 'b', 'c'] (codes have none of these). */
export function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(/[;,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface ResultRow {
  readonly line: number;
  readonly name: string;
  readonly code: string;
  readonly legacyCode?: string;
  readonly parent: string | null;
  readonly block: string;
  readonly kind: string;
  readonly predecessors: readonly string[];
  readonly validFrom?: Date;
}

export function resultCsv(rows: readonly ResultRow[]): string {
  return stringify(
    rows.map((r) => [
      r.line,
      r.name,
      r.code,
      r.legacyCode ?? '',
      r.parent ?? '',
      r.block,
      r.kind,
      r.predecessors.join(';'),
      r.validFrom ? isoDate(r.validFrom) : '',
    ]),
    {
      header: true,
      columns: [
        'line',
        'name',
        'code',
        'legacy_code',
        'parent',
        'block',
        'kind',
        'predecessors',
        'valid_from',
      ],
    },
  );
}

export const EXPORT_COLUMNS = [
  'code',
  'legacy_code',
  'name',
  'short_name',
  'block',
  'kind',
  'parent',
  'province',
  'status',
  'valid_from',
  'closed_at',
  'successors',
  'predecessors',
  'email',
  'phone',
  'fax',
  'address',
  'website',
  'delivery_mode',
  'delivery_url',
  'certificates',
  'version',
  'updated_at',
] as const;

export function exportCsvHeader(): string {
  return stringify([[...EXPORT_COLUMNS]]);
}

export function exportCsvRow(a: Agency): string {
  return stringify([
    [
      a.code,
      a.legacyCode ?? '',
      a.name,
      a.shortName ?? '',
      a.block,
      a.kind,
      a.parentCode ?? '',
      a.province ?? '',
      a.status,
      a.validFrom ? isoDate(a.validFrom) : '',
      a.closedAt ? isoDate(a.closedAt) : '',
      a.successors.join(';'),
      (a.predecessors ?? []).join(';'),
      a.contact.email ?? '',
      a.contact.phone ?? '',
      a.contact.fax ?? '',
      a.contact.address ?? '',
      a.contact.website ?? '',
      a.delivery.mode,
      a.delivery.url ?? '',
      a.certificates
        .filter((c) => !c.revokedAt)
        .map((c) => c.fingerprintSha256)
        .join(';'),
      a.version,
      new Date(a.updatedAt).toISOString(),
    ],
  ]);
}
