/**
 * The CSV export of a document list (issue 19 §3): exactly the rows the filter shows, in the page's
 * language, Vietnam dates, UTF-8 with a BOM so that Excel shows Vietnamese, and cells that would
 * start a spreadsheet formula defused (subjects come from other agencies' systems).
 */
import { stringify } from 'csv-stringify/sync';
import { fmtDateTime } from './format.ts';
import type { Lang, Translator } from './i18n.ts';
import type { ListResult, ListRow } from './queries.ts';
import { numberOf, priorityLabel, statusLabel } from './widgets.ts';

/**
 * A cell a spreadsheet would read as a formula (=, +, -, @, tab, carriage return first) gets a
 * leading apostrophe: "=HYPERLINK(…)" in a subject stays text.
 */
export function spreadsheetSafe(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

/** A row is new when one of its deliveries (to the viewer's agencies) has not been opened yet. */
export function isNew(r: ListRow): boolean {
  return r.deliveries.some((d) => !d.openedAt && d.transport !== 'queued' && d.transport !== 'failed');
}

function party(code: string, names: ReadonlyMap<string, string>): string {
  const name = names.get(code);
  return name ? `${code} ${name}` : code;
}

export function listCsv(
  result: Pick<ListResult, 'rows' | 'names'>,
  direction: 'sent' | 'received',
  lang: Lang,
  t: Translator,
): string {
  const header = [
    t('doc.number'),
    t('doc.subject'),
    t(direction === 'sent' ? 'list.recipients' : 'list.sender'),
    t(direction === 'sent' ? 'list.sentAt' : 'list.receivedAt'),
    t('list.priority'),
    t('list.status'),
    t('doc.deadline'),
    ...(direction === 'received' ? [t('find.new')] : []),
  ];
  const rows = result.rows.map((r) => {
    const deadline = r.deliveries
      .map((d) => d.deadline)
      .filter((d): d is Date => !!d)
      .sort((a, b) => +a - +b)[0];
    return [
      numberOf(r.doc),
      r.doc.meta.subject ?? r.doc.documentId,
      direction === 'sent'
        ? r.deliveries.map((d) => party(d.recipientCode, result.names)).join('; ')
        : party(r.doc.senderCode, result.names),
      fmtDateTime(r.doc.receivedAt, lang),
      priorityLabel(r.doc.meta.priority, lang),
      r.deliveries.map((d) => `${d.recipientCode}: ${statusLabel(d.business.code, lang, t)}`).join('; '),
      deadline ? fmtDateTime(deadline, lang) : '',
      ...(direction === 'received' ? [isNew(r) ? t('find.yes') : ''] : []),
    ].map(spreadsheetSafe);
  });
  return stringify([header, ...rows], { bom: true, record_delimiter: '\r\n' });
}
