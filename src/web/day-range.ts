/**
 * A range of Vietnam days typed in a filter form (dashboard, audit log): `dd/mm/yyyy` or ISO, both
 * ends inclusive. The instants returned bound the range at Vietnam midnight (UTC+7), whatever the
 * machine's time zone. A reversed range is refused (DATE_RANGE_REVERSED), never silently swapped.
 */
import type { Request } from 'express';
import { vnCalendarDay } from '../domain/calendar.ts';
import { HubError } from '../domain/errors.ts';
import { parseFormDate, vnDayStart } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import type { Translator } from './i18n.ts';

const DAY_MS = 86_400_000;

export interface DayRange {
  /** 00:00 Vietnam time of the first day. */
  readonly start: Date;
  /** 00:00 Vietnam time of the day after the last one (exclusive end). */
  readonly end: Date;
  /** The days as `YYYY-MM-DD`, for the form. */
  readonly fromDay: string;
  readonly toDay: string;
  readonly days: number;
}

/** Which field a refusal concerns (the page shows it next to that field). */
export type RangeField = 'from' | 'to';
export type RangeProblem = 'badDate' | 'reversed' | 'tooLong';

export class DayRangeError extends HubError {
  readonly field: RangeField;
  readonly problem: RangeProblem;
  constructor(field: RangeField, problem: RangeProblem, reason: string) {
    super(problem === 'reversed' ? 'DATE_RANGE_REVERSED' : 'VALIDATION_FAILED', reason, { field });
    this.field = field;
    this.problem = problem;
  }
}

function day(s: string, field: RangeField): string {
  const d = parseFormDate(s);
  if (!d) throw new DayRangeError(field, 'badDate', 'dates are dd/mm/yyyy');
  return d.toISOString().slice(0, 10);
}

/**
 * The typed days of `from`/`to` as `YYYY-MM-DD` (either may be empty: no bound), refusing a
 * malformed date and a reversed range next to the field concerned. The one date-range rule of the
 * UI's filters: document lists, dashboard and audit log.
 */
export function parseDays(
  fromS: string | undefined,
  toS: string | undefined,
): { readonly from?: string; readonly to?: string } {
  const from = fromS?.trim() ? day(fromS, 'from') : undefined;
  const to = toS?.trim() ? day(toS, 'to') : undefined;
  if (from && to && from > to) throw new DayRangeError('to', 'reversed', `${from} is after ${to}`);
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** The instants that bound the typed days (Vietnam midnights; `end` exclusive), either optional. */
export function dayBounds(fromS: string | undefined, toS: string | undefined): { start?: Date; end?: Date } {
  const { from, to } = parseDays(fromS, toS);
  return {
    ...(from ? { start: vnDayStart(from)! } : {}),
    ...(to ? { end: new Date(vnDayStart(to)!.getTime() + DAY_MS) } : {}),
  };
}

/**
 * Parses `from`/`to` (either may be empty); with neither, the last `defaultDays` days up to today.
 * A range longer than `maxDays` is refused.
 */
export function parseDayRange(
  fromS: string | undefined,
  toS: string | undefined,
  o: { defaultDays?: number; maxDays?: number; now?: Date } = {},
): DayRange | null {
  const now = o.now ?? new Date();
  const { from, to } = parseDays(fromS, toS);
  if (!from && !to && o.defaultDays === undefined) return null;
  const today = vnCalendarDay(now);
  const toDay = to ?? today;
  const fromDay =
    from ?? vnCalendarDay(new Date(vnDayStart(toDay)!.getTime() - ((o.defaultDays ?? 30) - 1) * DAY_MS));
  const start = vnDayStart(fromDay)!;
  const end = new Date(vnDayStart(toDay)!.getTime() + DAY_MS);
  if (start >= end) throw new DayRangeError('to', 'reversed', `${fromDay} is after ${toDay}`);
  const days = Math.round((end.getTime() - start.getTime()) / DAY_MS);
  if (o.maxDays !== undefined && days > o.maxDays)
    throw new DayRangeError('from', 'tooLong', `at most ${o.maxDays} days`);
  return { start, end, fromDay, toDay, days };
}

/**
 * The two date fields of a filter form, with a refusal shown next to the field it concerns in the
 * page's language. `values` are what was typed (kept on a refusal).
 */
export function rangeInputs(
  t: Translator,
  values: { from: string; to: string },
  err: DayRangeError | null,
  o: { maxDays?: number } = {},
): SafeHtml {
  const problem = (f: RangeField) =>
    err?.field === f
      ? html`<span class="field-error" id="range-error" data-code="${err.code}" role="alert"
          >${t(`range.${err.problem}`, { days: o.maxDays ?? '' })}</span
        >`
      : '';
  const input = (f: RangeField, label: string) =>
    html`<label class="${err?.field === f ? 'invalid' : ''}"
      >${label}<input
        name="${f}"
        value="${values[f]}"
        placeholder="dd/mm/yyyy"
        inputmode="numeric"
        maxlength="10"
        size="10"
        ${err?.field === f ? html` aria-invalid="true" aria-describedby="range-error"` : ''}
      />${problem(f)}</label
    >`;
  return html`${input('from', t('list.from'))}${input('to', t('list.to'))}`;
}

/** A short text of the query string (a date field). */
export function queryText(req: Request, name: string): string {
  const v = req.query[name];
  return typeof v === 'string' ? v.slice(0, 20) : '';
}

/**
 * The `from`/`to` of a GET filter form: the range, or the refusal to show next to its field with
 * the values as typed (`fallback` then gives the range the page shows instead, or null).
 */
export function readRange(
  req: Request,
  o: { defaultDays?: number; maxDays?: number } = {},
): {
  range: DayRange | null;
  error: DayRangeError | null;
  typed: { from: string; to: string };
  shown: { from: string; to: string };
} {
  const typed = { from: queryText(req, 'from'), to: queryText(req, 'to') };
  try {
    const range = parseDayRange(typed.from, typed.to, o);
    const shown = range ? { from: dayText(range.fromDay), to: dayText(range.toDay) } : typed;
    return { range, error: null, typed, shown };
  } catch (err) {
    if (!(err instanceof DayRangeError)) throw err;
    const range = o.defaultDays === undefined ? null : parseDayRange('', '', { defaultDays: o.defaultDays });
    return { range, error: err, typed, shown: typed };
  }
}

/** A Vietnam day `YYYY-MM-DD` as the UI shows it: dd/mm/yyyy. */
export function dayText(isoDay: string): string {
  const [y, m, d] = isoDay.split('-');
  return `${d}/${m}/${y}`;
}
