/** How agencies are shown: to every agency system (address book), and to administrators. */
import { vnCalendarDay } from '../domain/calendar.ts';
import type { Agency } from '../domain/types.ts';

function base(a: Agency) {
  return {
    code: a.code,
    ...(a.legacyCode ? { legacyCode: a.legacyCode } : {}),
    name: a.name,
    ...(a.shortName ? { shortName: a.shortName } : {}),
    block: a.block,
    kind: a.kind,
    parentCode: a.parentCode,
    ...(a.province ? { province: a.province } : {}),
    status: a.status,
    // Calendar dates: `YYYY-MM-DD`, never an instant printed through UTC (issue 19 §1).
    ...(a.validFrom ? { validFrom: vnCalendarDay(a.validFrom) } : {}),
    ...(a.closedAt ? { closedAt: vnCalendarDay(a.closedAt) } : {}),
    successors: a.successors,
    ...(a.predecessors?.length ? { predecessors: a.predecessors } : {}),
    contact: a.contact,
  };
}

/** The address-book view: no endpoint URL, only the fingerprints of certificates in force. */
export function publicView(a: Agency) {
  return {
    ...base(a),
    delivery: { mode: a.delivery.mode },
    certificates: a.certificates
      .filter((c) => !c.revokedAt)
      .map((c) => ({
        fingerprintSha256: c.fingerprintSha256,
        ...(c.notAfter ? { notAfter: c.notAfter } : {}),
      })),
    version: a.version,
    updatedAt: a.updatedAt,
  };
}

/** The administrator's view and the JSON export: everything but certificate bodies. */
export function adminView(a: Agency) {
  return {
    ...base(a),
    delivery: a.delivery,
    certificates: a.certificates.map(({ pem: _pem, ...c }) => c),
    version: a.version,
    updatedAt: a.updatedAt,
  };
}
