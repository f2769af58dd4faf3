/**
 * The time signatures made with certs-dev/ are verified at in tests, instead of the wall clock:
 * inside every certificate's validity (agencies and test certificates 2026-11-21 – 2031-11-21, CRLs
 * issued 2026-11-22 until 2036), after the expired test certificate (2025-10-18) and before the
 * not-yet-valid one (2046-11-17). Tests pass the same, whatever the date they run on.
 */
export const CERTS_DEV_AT = new Date('2027-06-01T00:00:00Z');
