/**
 * Refusals as a clerk can act on them (issue 19 §2): the one mapping from a HubError (its stable
 * code, and for VALIDATION_FAILED each problem the directory reported) to the form field it
 * concerns and a text in the page's language. Used by every directory form (register, close,
 * delivery) and by the bulk import's per-row reasons.
 *
 * The directory reports problems as English sentences (the API's `details.problems`); RULES below
 * recognise each sentence the directory can produce (test/unit/refusals.test.ts holds one of each)
 * and give the field and the i18n text, with the codes and names it quotes as parameters.
 */
import { ERROR_CODES, type ErrorCode, type HubError } from '../domain/errors.ts';
import type { Lang, MsgKey, Translator } from './i18n.ts';

/** A refusal shown next to `field` (a form field name), or at the top of the form (null). */
export interface FieldRefusal {
  readonly field: string | null;
  readonly text: string;
}

interface Rule {
  readonly re: RegExp;
  readonly field: string | null;
  readonly key: MsgKey;
}

// Named groups become the text's parameters: {code}, {parent}, {value}, {line}, …
const RULES: readonly Rule[] = [
  { re: /^name is required/, field: 'name', key: 'ref.nameRequired' },
  { re: /^name is longer than (?<n>\d+)/, field: 'name', key: 'ref.nameLong' },
  { re: /^short name is longer than (?<n>\d+)/, field: 'shortName', key: 'ref.nameLong' },
  { re: /^block /, field: 'block', key: 'ref.block' },
  { re: /^level-1 letter (?<value>\w)/, field: 'block', key: 'ref.blockLetter' },
  { re: /^kind is required/, field: 'kind', key: 'ref.kind' },
  { re: /^kind "(?<value>[^"]*)" must be/, field: 'kind', key: 'ref.kind' },
  { re: /^province "(?<value>[^"]*)" must be a level-1 code/, field: 'province', key: 'ref.province' },
  {
    re: /^no active level-1 (?<block>\w+) body in province (?<value>\S+):/,
    field: 'province',
    key: 'ref.noLevel1',
  },
  { re: /^province (?<value>\S+) has several level-1/, field: 'province', key: 'ref.severalLevel1' },
  {
    re: /^(a parent \(or a province\)|a parent or a province) is required/,
    field: 'parent',
    key: 'ref.parentRequired',
  },
  { re: /^parent (?<parent>\S+) is not in the directory/, field: 'parent', key: 'ref.parentUnknown' },
  { re: /^parent (?<parent>\S+) is no longer in the directory/, field: 'parent', key: 'ref.parentUnknown' },
  { re: /^parent (?<parent>\S+) is closed/, field: 'parent', key: 'ref.parentClosed' },
  { re: /^parent (?<parent>\S+) is in the (?<block>\w+) block/, field: 'parent', key: 'ref.parentBlock' },
  { re: /^parent (?<parent>\S+) is invalid/, field: 'parent', key: 'ref.parentInvalid' },
  {
    re: /^codes are assigned only under agency codes \(A–Y\), not under (?<parent>\S+)/,
    field: 'parent',
    key: 'ref.parentNotAssignable',
  },
  { re: /^a level-1 body \((?<code>[^)]+)\) has no parent/, field: 'parent', key: 'ref.level1NoParent' },
  { re: /^(?<code>\S+) is not a level-1 code: its parent/, field: 'parent', key: 'ref.parentRequired' },
  { re: /^(?<code>\S+) is not a unit of (?<parent>\S+)/, field: 'parent', key: 'ref.parentMismatch' },
  { re: /^no free code left under (?<parent>\S+)/, field: 'parent', key: 'ref.noFreeCode' },
  {
    re: /^predecessor (?<code>\S+) is not in the directory/,
    field: 'predecessors',
    key: 'ref.predecessorUnknown',
  },
  {
    re: /^predecessor (?<code>\S+) is the parent/,
    field: 'predecessors',
    key: 'ref.predecessorIsParent',
  },
  { re: /^predecessor (?<code>\S+) listed twice/, field: 'predecessors', key: 'ref.listedTwice' },
  {
    re: /^predecessor (?<code>\S+) "(?<name>[^"]*)" is already closed since (?<date>\S+)/,
    field: 'predecessors',
    key: 'ref.predecessorClosed',
  },
  { re: /^(?<code>\S+) cannot succeed or precede itself/, field: 'predecessors', key: 'ref.itself' },
  { re: /^successor (?<code>\S+) is not in the directory/, field: 'successors', key: 'ref.successorUnknown' },
  { re: /^successor (?<code>\S+) is closed/, field: 'successors', key: 'ref.successorClosed' },
  { re: /^(?<code>\S+) cannot succeed itself/, field: 'successors', key: 'ref.itself' },
  {
    re: /^the correction needs a mode/,
    field: 'correctionReason',
    key: 'ref.correction',
  },
  { re: /^(validFrom|valid_from)\b.*(date|dd\/mm\/yyyy)/, field: 'validFrom', key: 'ref.date' },
  { re: /^the (closing )?date (is invalid|must be)/, field: 'at', key: 'ref.date' },
  { re: /^contact email "(?<value>[^"]*)"/, field: 'email', key: 'ref.email' },
  { re: /^contact phone "(?<value>[^"]*)"/, field: 'phone', key: 'ref.phone' },
  { re: /^contact fax "(?<value>[^"]*)"/, field: 'fax', key: 'ref.phone' },
  { re: /^contact (?<value>\w+) must be text up to (?<n>\d+)/, field: null, key: 'ref.contactLong' },
  { re: /^unknown contact field (?<value>\w+)/, field: null, key: 'ref.contactLong' },
  { re: /^(delivery mode|delivery_mode|mode) must be/, field: 'mode', key: 'ref.mode' },
  { re: /^delivery URL "(?<value>[^"]*)" must start with https/, field: 'url', key: 'ref.https' },
  { re: /^delivery URL "(?<value>[^"]*)" is not an http/, field: 'url', key: 'ref.url' },
  { re: /^push delivery needs the endpoint URL/, field: 'url', key: 'ref.urlRequired' },
  { re: /^code "?(?<code>[^"\s]+)"? is invalid/, field: 'code', key: 'ref.codeInvalid' },
  { re: /^code (?<code>\S+) also on line (?<line>\d+)/, field: 'code', key: 'ref.codeTwice' },
  { re: /^code (?<code>\S+) was already issued/, field: 'code', key: 'ref.codeIssued' },
  { re: /^legacy code (?<code>\S+) also on line (?<line>\d+)/, field: 'legacyCode', key: 'ref.codeTwice' },
  { re: /^legacy code "?(?<code>[^"\s]+)"? /, field: 'legacyCode', key: 'ref.legacyCode' },
  { re: /^(a legacy code|legacy_code) needs the code/, field: 'legacyCode', key: 'ref.legacyCode' },
  {
    re: /^"(?<name>[^"]*)" has the name of line (?<line>\d+) under (?<parent>\S+)/,
    field: 'name',
    key: 'ref.duplicateInFile',
  },
  {
    re: /^"(?<name>[^"]*)" has the name of active unit (?<existing>.*) under (?<parent>\S+); if it/,
    field: 'name',
    key: 'ref.duplicate',
  },
  // File-level problems of an import.
  { re: /^malformed CSV/, field: null, key: 'ref.csvMalformed' },
  { re: /^the file is empty/, field: null, key: 'ref.csvEmpty' },
  { re: /^the file has no data rows/, field: null, key: 'ref.csvEmpty' },
  { re: /^the file has (?<n>\d+) rows; the limit is (?<max>\d+)/, field: null, key: 'ref.csvTooMany' },
  { re: /^unknown column\(s\) (?<value>.*); the columns are/, field: null, key: 'ref.csvUnknownColumn' },
  { re: /^column (?<value>\S+) appears twice/, field: null, key: 'ref.csvColumnTwice' },
  { re: /^column (?<value>\S+) is required/, field: null, key: 'ref.csvColumnRequired' },
  { re: /^a parent or a province column is required/, field: null, key: 'ref.csvColumnRequired' },
];

/** Refusals with a code of their own: the field they concern (their text is the code's). */
const CODE_FIELDS: Partial<Record<ErrorCode, string>> = {
  AGENCY_DUPLICATE_NAME: 'name',
  PREDECESSOR_CLOSED: 'predecessors',
  ENDPOINT_NOT_HTTPS: 'url',
};

/** Form field names as import columns (the import reports a column rather than a field). */
export const FIELD_COLUMNS: Readonly<Record<string, string>> = {
  shortName: 'short_name',
  validFrom: 'valid_from',
  distinctFrom: 'distinct_from',
  legacyCode: 'legacy_code',
  mode: 'delivery_mode',
  url: 'delivery_url',
};

/** One problem sentence of the directory as a field and a text in `t`'s language (null: unknown). */
export function problemRefusal(problem: string, t: Translator): FieldRefusal | null {
  for (const r of RULES) {
    const m = r.re.exec(problem);
    if (m) return { field: r.field, text: t(r.key, { ...m.groups }) };
  }
  return null;
}

/** The reason an error gave, without the code's own sentence ("Invalid request data: …"). */
function reasonOf(err: HubError): string {
  const en = ERROR_CODES[err.code].en;
  return err.message.startsWith(`${en}: `) ? err.message.slice(en.length + 2) : '';
}

function spec(code: ErrorCode, lang: Lang): string {
  return lang === 'vi' ? ERROR_CODES[code].vi : ERROR_CODES[code].en;
}

/**
 * A problem we have no text for: the code's sentence in the page's language, with the reason in
 * English only on English pages (a Vietnamese page never shows an English sentence).
 */
function fallback(code: ErrorCode, reason: string, lang: Lang): FieldRefusal {
  return { field: null, text: lang === 'en' && reason ? `${spec(code, lang)}: ${reason}` : spec(code, lang) };
}

/** A refused import row (RowError) as a column and a text in the page's language. */
export function rowRefusal(row: { reason: string; code?: string }, t: Translator, lang: Lang): FieldRefusal {
  const r = problemRefusal(row.reason, t);
  const code = (row.code && row.code in ERROR_CODES ? row.code : 'VALIDATION_FAILED') as ErrorCode;
  const own = r ?? (CODE_FIELDS[code] ? { field: CODE_FIELDS[code], text: spec(code, lang) } : null);
  const out = own ?? fallback(code, row.reason, lang);
  return { field: out.field && (FIELD_COLUMNS[out.field] ?? out.field), text: out.text };
}

/** Every refusal an error carries, each with the field it concerns (null: the form as a whole). */
export function refusalsOf(err: HubError, t: Translator, lang: Lang): FieldRefusal[] {
  const d = err.details ?? {};
  if (err.code === 'AGENCY_DUPLICATE_NAME' && Array.isArray(d.existing)) {
    const existing = (d.existing as { code: string; name: string }[])
      .map((a) => `${a.code} "${a.name}"`)
      .join(', ');
    return [
      {
        field: 'name',
        text: t('ref.duplicate', { existing, parent: typeof d.parent === 'string' ? d.parent : '' }),
      },
    ];
  }
  if (err.code === 'PREDECESSOR_CLOSED' && Array.isArray(d.predecessors)) {
    return (d.predecessors as { code: string; name: string; closedAt: string | null }[]).map((p) => ({
      field: 'predecessors',
      text: t('ref.predecessorClosed', { code: p.code, name: p.name, date: p.closedAt ?? '' }),
    }));
  }
  const problems = Array.isArray(d.problems) ? (d.problems as string[]) : reasonOf(err).split('; ');
  const out: FieldRefusal[] = [];
  for (const p of problems.filter(Boolean)) {
    const r = problemRefusal(p, t);
    if (r) out.push(r);
    else if (CODE_FIELDS[err.code]) out.push({ field: CODE_FIELDS[err.code]!, text: spec(err.code, lang) });
    else out.push(fallback(err.code, p, lang));
  }
  return out.length ? out : [fallback(err.code, '', lang)];
}

/** Refusals grouped by field, for a form to show each next to its field. */
export interface FormErrors {
  /** The code's sentence and the refusals that concern no field of the form. */
  readonly summary: string;
  readonly general: readonly string[];
  readonly fields: ReadonlyMap<string, readonly string[]>;
}

export function formErrors(
  err: HubError,
  t: Translator,
  lang: Lang,
  formFields: readonly string[],
): FormErrors {
  const fields = new Map<string, string[]>();
  const general: string[] = [];
  for (const r of refusalsOf(err, t, lang)) {
    if (r.field && formFields.includes(r.field))
      fields.set(r.field, [...(fields.get(r.field) ?? []), r.text]);
    else if (!general.includes(r.text)) general.push(r.text);
  }
  return { summary: spec(err.code, lang), general, fields };
}
