/**
 * Electronic identification codes of agencies (docs/domain.md §2).
 *
 * Legacy QCVN 102:2016: exactly 13 characters `VVV.ZZ.YY.MXX`, read right to left: MXX level 1
 * (a letter and two digits), YY level 2, ZZ level 3, VVV level 4; zeros mean "not used".
 * Current (Decision 20/2020/QĐ-TTg): at most 35 characters of A-Z, 0-9 and '.', groups left to
 * right, the first the level-1 code `[A-Y]\d\d`; other organisations `Z\d\d` + up to 32 characters;
 * enterprises use their enterprise code (10 or 13 digits, optionally a `-ddd` branch suffix).
 */
import { HubError } from './errors.ts';

export type CodeFormat = 'legacy' | 'current';
export type CodeKind = 'agency' | 'other-org' | 'enterprise';

export interface ParsedCode {
  readonly code: string;
  readonly format: CodeFormat;
  readonly kind: CodeKind;
  readonly level1: string;
  /** Groups in hierarchy order, level 1 first (legacy codes: non-zero levels only). */
  readonly groups: readonly string[];
  readonly level: number;
  readonly parent: string | null;
}

const LEGACY = /^(\d{3})\.(\d{2})\.(\d{2})\.([A-Z]\d{2})$/;
const CURRENT = /^[A-Y]\d{2}(\.[A-Z0-9]+)*$/;
const OTHER_ORG = /^Z\d{2}[A-Z0-9.]{0,32}$/;
const ENTERPRISE = /^(\d{10}|\d{13})(-\d{3})?$/;

export function normalizeCode(s: string): string {
  return s.trim().toUpperCase();
}

export function isLegacyCode(s: string): boolean {
  return LEGACY.test(s);
}

export function isCurrentCode(s: string): boolean {
  if (s.length === 0 || s.length > 35) return false;
  return CURRENT.test(s) || OTHER_ORG.test(s) || ENTERPRISE.test(s);
}

function invalid(s: string, why: string): never {
  throw new HubError('AGENCY_CODE_INVALID', `"${s}": ${why}`, { code: s });
}

export function parseAgencyCode(s: string): ParsedCode {
  const m = LEGACY.exec(s);
  if (m) {
    const [, v4, v3, v2, l1] = m as unknown as [string, string, string, string, string];
    const levels = [l1, v2, v3, v4];
    // A zero level above a used one is not a valid hierarchy (e.g. 001.00.24.H44).
    let depth = 1;
    for (let i = 1; i < 4; i++) {
      if (/^0+$/.test(levels[i]!)) {
        if (levels.slice(i + 1).some((x) => !/^0+$/.test(x)))
          invalid(s, `level ${i + 1} is zero while a lower level is used`);
        break;
      }
      depth = i + 1;
    }
    const groups = levels.slice(0, depth);
    let parent: string | null = null;
    if (depth > 1) {
      const p = [...levels];
      p[depth - 1] = depth - 1 === 3 ? '000' : '00';
      parent = `${p[3]}.${p[2]}.${p[1]}.${p[0]}`;
    }
    return { code: s, format: 'legacy', kind: 'agency', level1: l1, groups, level: depth, parent };
  }
  if (s.length > 35) invalid(s, `longer than 35 characters (${s.length})`);
  if (/[^A-Z0-9.-]/.test(s)) invalid(s, 'only A-Z, 0-9 and "." are allowed (upper case)');
  if (ENTERPRISE.test(s))
    return { code: s, format: 'current', kind: 'enterprise', level1: s, groups: [s], level: 1, parent: null };
  if (s.startsWith('Z')) {
    if (!OTHER_ORG.test(s))
      invalid(s, 'other organisations use Z followed by two digits and at most 32 characters');
    return {
      code: s,
      format: 'current',
      kind: 'other-org',
      level1: s.slice(0, 3),
      groups: [s],
      level: 1,
      parent: null,
    };
  }
  if (s.includes('..') || s.startsWith('.') || s.endsWith('.')) invalid(s, 'empty group');
  const groups = s.split('.');
  if (!/^[A-Y]\d{2}$/.test(groups[0]!))
    invalid(s, 'the first group must be a level-1 code: a letter A–Y and two digits');
  if (!CURRENT.test(s)) invalid(s, 'groups must be A-Z and 0-9');
  return {
    code: s,
    format: 'current',
    kind: 'agency',
    level1: groups[0]!,
    groups,
    level: groups.length,
    parent: groups.length > 1 ? groups.slice(0, -1).join('.') : null,
  };
}

export type CodeCheck =
  { readonly ok: true; readonly parsed: ParsedCode } | { readonly ok: false; readonly reason: string };

/** Like parseAgencyCode, without throwing: `{ ok: false, reason }` names exactly what is wrong. */
export function validateAgencyCode(s: string): CodeCheck {
  try {
    return { ok: true, parsed: parseAgencyCode(s) };
  } catch (err) {
    const msg = (err as Error).message;
    return { ok: false, reason: msg.slice(msg.indexOf('": ') >= 0 ? msg.indexOf('": ') + 3 : 0) };
  }
}

/** Best-effort mapping of a legacy code to the current form: 000.46.24.H44 → H44.24.46; null if not legacy. */
export function legacyToCurrent(legacy: string): string | null {
  const c = validateAgencyCode(legacy);
  if (!c.ok || c.parsed.format !== 'legacy') return null;
  return c.parsed.groups.join('.');
}

/** The 13-character legacy form where the code fits it (level-2 and -3 groups of 2 digits, level 4 of 3). */
export function currentToLegacy(code: string): string | null {
  const p = parseAgencyCode(code);
  if (p.format !== 'current' || p.kind !== 'agency' || p.groups.length > 4) return null;
  const [l1, l2 = '00', l3 = '00', l4 = '000'] = p.groups;
  if (!/^\d{2}$/.test(l2) || !/^\d{2}$/.test(l3) || !/^\d{3}$/.test(l4)) return null;
  return `${l4}.${l3}.${l2}.${l1}`;
}

/** `formatChildCode('H29', 7, 3)` → `H29.007`. */
export function formatChildCode(parent: string, ordinal: number, width: number): string {
  if (!Number.isInteger(ordinal) || ordinal < 1) invalid(`${parent}.?`, 'ordinal must be a positive integer');
  const group = String(ordinal).padStart(width, '0');
  if (group.length > width) invalid(`${parent}.${group}`, `ordinal ${ordinal} does not fit ${width} digits`);
  const code = `${parent}.${group}`;
  if (code.length > 35) invalid(code, 'longer than 35 characters');
  return code;
}
