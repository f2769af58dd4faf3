/**
 * Calendar dates: dates without a time of day (a unit's `validFrom`, its `closedAt`). A calendar
 * date is the same day everywhere: it is stored as UTC midnight of that day and printed from the
 * stored value without any time-zone conversion (issue 19 §1: "effective 01/07/2025" once exported
 * as 2025-06-30 because a Vietnam-midnight instant was printed through UTC).
 *
 * Vietnam has one time zone, UTC+7 all year (no daylight saving since 1975): the day of an instant
 * is its day at UTC+7. Both UTC midnight (how dates are stored now) and Vietnam midnight (how the
 * web form used to store them) of a day are that day at UTC+7, so records stored either way read
 * as the right date.
 */
const VN_OFFSET_MS = 7 * 3_600_000;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD`: the calendar day of `d` in Vietnam. Independent of the machine's TZ. */
export function vnCalendarDay(d: Date | string): string {
  return new Date(new Date(d).getTime() + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** The stored form of the Vietnam calendar day of `d`: UTC midnight of that day. */
export function calendarDate(d: Date): Date {
  return new Date(Math.floor((d.getTime() + VN_OFFSET_MS) / DAY_MS) * DAY_MS);
}

/** UTC midnight of a real calendar day (no 31/02), or null. */
function utcDay(y: number, m: number, d: number): Date | null {
  const x = new Date(Date.UTC(y, m - 1, d));
  return x.getUTCFullYear() === y && x.getUTCMonth() === m - 1 && x.getUTCDate() === d ? x : null;
}

/**
 * Parses a date of the API, CSV files and the command line: `YYYY-MM-DD` (ISO 8601), or an ISO
 * date-time WITH its offset (`2025-07-01T00:00:00+07:00`: its Vietnam day). A date-time without an
 * offset is refused, since its meaning would depend on the machine's time zone; so is `dd/mm/yyyy`,
 * which spreadsheets in other locales read as mm/dd (the web UI shows dd/mm/yyyy and sends ISO).
 * Returns the stored form, or null.
 */
export function parseCalendarDate(s: string): Date | null {
  const v = s.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) return utcDay(Number(m[1]), Number(m[2]), Number(m[3]));
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : calendarDate(d);
  }
  return null;
}

/**
 * A date as people type it in Vietnam, dd/mm/yyyy (the UI's one format, and what Excel writes in
 * Vietnamese locales), or as parseCalendarDate reads it (ISO); null when it is neither.
 */
export function parseVnDate(s: string): Date | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s.trim());
  return parseCalendarDate(m ? `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}` : s);
}
