/**
 * When a recipient must have accepted (status 03) a document. Decree 30/2020: documents are received
 * and registered the same day; "hỏa tốc" (immediate) at once. The hub's defaults (configurable later):
 *   - DueDate present: the end of that day, Vietnam time (UTC+7), capped by the priority rule below;
 *   - Priority 3 or 4 (hỏa tốc, hỏa tốc hẹn giờ): 2 hours after acceptance by the hub;
 *   - Priority 2 (thượng khẩn): 8 hours; Priority 1 (khẩn): 24 hours;
 *   - Priority 0 without DueDate: no deadline.
 */
const HOURS: Record<number, number> = { 1: 24, 2: 8, 3: 2, 4: 2 };

export function parseVietnamDate(d: string | undefined): Date | null {
  const m = d ? /^(\d{4})[/-](\d{2})[/-](\d{2})$/.exec(d.trim()) : null;
  if (!m) return null;
  // End of that calendar day in Vietnam (UTC+7) = 16:59:59.999 UTC.
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 16, 59, 59, 999));
}

export function acceptanceDeadline(
  dueDate: string | undefined,
  priority: number | undefined,
  acceptedAt: Date,
): Date | null {
  const byDue = parseVietnamDate(dueDate);
  const hours = HOURS[priority ?? 0];
  const byPriority = hours ? new Date(acceptedAt.getTime() + hours * 3_600_000) : null;
  if (byDue && byPriority) return byDue < byPriority ? byDue : byPriority;
  return byDue ?? byPriority;
}

/** Overdue: past the deadline and not yet accepted (03) or beyond, refused, or recalled. */
export function isOverdue(
  deadline: Date | undefined | null,
  businessCode: string | null,
  now: Date,
): boolean {
  if (!deadline || now <= deadline) return false;
  return !businessCode || businessCode === '01';
}
