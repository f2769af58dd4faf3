/**
 * CSV formats of the directory (docs/directory.md): the import file, the import result and the
 * export. UTF-8 (a BOM is accepted), comma-separated, RFC 4180 quoting, a header row naming columns.
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

/** Parses an import file. Header problems and malformed CSV throw CsvFormatError. */
export function parseImportCsv(text: string): CsvRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
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

/** `a; b;c` → ['a', 'b', 'c'] */
export function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(';')
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
