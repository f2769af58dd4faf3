/** Display formats of the web UI: dates in Vietnam time, sizes, durations. */
import { parseVnDate, vnCalendarDay } from '../domain/calendar.ts';
import type { Lang } from './i18n.ts';

const TZ = 'Asia/Ho_Chi_Minh';
const DT: Intl.DateTimeFormatOptions = {
  timeZone: TZ,
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
};
const dateTime = {
  vi: new Intl.DateTimeFormat('vi-VN', DT),
  en: new Intl.DateTimeFormat('en-GB', DT),
};
const dateOnly = {
  vi: new Intl.DateTimeFormat('vi-VN', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' }),
};

function asDate(d: Date | string | undefined | null): Date | null {
  if (!d) return null;
  const x = d instanceof Date ? d : new Date(d);
  return Number.isNaN(x.getTime()) ? null : x;
}

export function fmtDateTime(d: Date | string | undefined | null, lang: Lang): string {
  const x = asDate(d);
  return x ? dateTime[lang].format(x) : '—';
}

export function fmtDate(d: Date | string | undefined | null, lang: Lang): string {
  const x = asDate(d);
  return x ? dateOnly[lang].format(x) : '—';
}

/**
 * A date as edXML carries it (`yyyy/MM/dd`, QCVN 102; ISO accepted) in the UI's one format,
 * dd/mm/yyyy; anything else is shown as written.
 */
export function fmtEdxmlDate(s: string | undefined): string {
  if (!s) return '—';
  const m = /^(\d{4})[/-](\d{2})[/-](\d{2})$/.exec(s.trim());
  return m ? `${m[3]}/${m[2]}/${m[1]}` : s;
}

/** "YYYY-MM-DD" of a moment in Vietnam time (for date inputs and day buckets). */
export function vnDay(d: Date): string {
  return vnCalendarDay(d);
}

/** The start (00:00 Vietnam time) of a "YYYY-MM-DD" day, or null. */
export function vnDayStart(day: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - 7 * 3_600_000);
  return Number.isNaN(d.getTime()) || vnDay(d) !== day ? null : d;
}

/**
 * A calendar date typed in a form: `dd/mm/yyyy`, the one date format of the UI (a native date
 * picker shows the browser's locale: 01/07 read as 7 January in an English browser), or ISO
 * `YYYY-MM-DD`. Returns the stored form (UTC midnight of that day, src/domain/calendar.ts) or null.
 */
export const parseFormDate = parseVnDate;

export function fmtBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function fmtNumber(n: number, lang: Lang): string {
  return n.toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB');
}
