/**
 * Validation of agency records, on every write: both code formats (QCVN 102:2016 legacy codes and
 * Decision 20/2020/QĐ-TTg codes), the parent consistent with the code, the block consistent with
 * the level-1 letter, names, kinds, contact and delivery settings. Pure: the checks that need the
 * directory (parent exists, code never issued) are the service's.
 */
import {
  currentToLegacy,
  isCurrentCode,
  isLegacyCode,
  legacyToCurrent,
  validateAgencyCode,
} from '../domain/codes.ts';
import type { Agency, Block, DeliveryMode } from '../domain/types.ts';
import { blockLetterProblem, type DirectorySettings } from './settings.ts';

export const BLOCKS: readonly Block[] = ['party', 'state', 'front', 'other'];
/**
 * The unit types the directory knows (slugs stored in `kind`); the UI shows them by their
 * Vietnamese names (i18n `kind.<slug>`). Other lower-case slugs stay valid for the API and CLI.
 */
export const KNOWN_KINDS = [
  'commune-people-committee',
  'commune-party-committee',
  'commune-front-committee',
  'provincial-people-committee',
  'provincial-party-committee',
  'provincial-front-committee',
  'department',
  'ministry',
] as const;
export const DELIVERY_MODES: readonly DeliveryMode[] = ['pull', 'push', 'amqp'];
const KIND = /^[a-z][a-z0-9-]{1,63}$/;
const LEVEL1 = /^[A-Y]\d\d$/;
const MAX_NAME = 255;
const MAX_SHORT_NAME = 100;
const MAX_CONTACT = 255;

/** Why `code` is not a valid canonical (Decision 20/2020) code, or null. */
export function canonicalCodeProblem(code: string): string | null {
  if (!isCurrentCode(code)) {
    const v = validateAgencyCode(code);
    const reason = v.ok ? 'it is a legacy 13-character code, not a Decision 20/2020 code' : v.reason;
    return `code ${JSON.stringify(code)} is invalid: ${reason}`;
  }
  return null;
}

/** Why `legacy` is not the QCVN 102 legacy form of `code`, or null. */
export function legacyCodeProblem(legacy: string, code: string): string | null {
  const v = validateAgencyCode(legacy);
  if (!v.ok) return `legacy code ${JSON.stringify(legacy)} is invalid: ${v.reason}`;
  if (!isLegacyCode(legacy))
    return `legacy code ${JSON.stringify(legacy)} is not in the 13-character VVV.ZZ.YY.MXX form`;
  const current = legacyToCurrent(legacy);
  if (current !== code) return `legacy code ${legacy} stands for ${current}, not for ${code}`;
  return null;
}

/** The legacy form of a new code, only where it fits the 13-character format. */
export function legacyFormOf(code: string): string | undefined {
  return currentToLegacy(code) ?? undefined;
}

/** A level-1 body, an enterprise or another organisation (Zxx): codes that have no parent. */
export function isLevel1(code: string): boolean {
  const v = validateAgencyCode(code);
  return v.ok ? v.parsed.level === 1 : !code.includes('.');
}

/** Codes are assigned only under agency codes (A–Y level-1 hierarchy), not enterprises or Zxx. */
export function assignableParentProblem(parent: string): string | null {
  const v = validateAgencyCode(parent);
  if (!v.ok) return `parent ${parent} is invalid: ${v.reason}`;
  if (v.parsed.format !== 'current' || v.parsed.kind !== 'agency')
    return `codes are assigned only under agency codes (A–Y), not under ${parent}`;
  return null;
}

/** Why `parentCode` cannot be the parent of `code`, or null. */
export function parentProblem(code: string, parentCode: string | null): string | null {
  if (isLevel1(code))
    return parentCode === null ? null : `a level-1 body (${code}) has no parent, not ${parentCode}`;
  if (parentCode === null) return `${code} is not a level-1 code: its parent is required`;
  // Intermediate levels may be skipped: the districts were abolished (July 2025) and their former
  // communes now hang from the province, so the parent is any ancestor of the code.
  if (!code.startsWith(`${parentCode}.`)) return `${code} is not a unit of ${parentCode}`;
  return null;
}

function isValidDate(d: unknown): boolean {
  return d instanceof Date && !Number.isNaN(d.getTime());
}

/** Every problem of a complete agency record (empty when valid). */
export function agencyProblems(a: Agency, settings: DirectorySettings): string[] {
  const p: string[] = [];
  const codeP = canonicalCodeProblem(a.code);
  if (codeP) p.push(codeP);
  if (a.legacyCode !== undefined) {
    const lp = codeP ? null : legacyCodeProblem(a.legacyCode, a.code);
    if (lp) p.push(lp);
  }
  if (!codeP) {
    const pp = parentProblem(a.code, a.parentCode);
    if (pp) p.push(pp);
  }
  if (!BLOCKS.includes(a.block)) p.push(`block must be one of ${BLOCKS.join(', ')}`);
  else if (!codeP) {
    const bp = blockLetterProblem(settings, a.block, a.code);
    if (bp) p.push(bp);
  }
  p.push(...nameProblems(a.name, a.shortName));
  if (!KIND.test(a.kind))
    p.push(`kind ${JSON.stringify(a.kind)} must be a lower-case slug such as commune-people-committee`);
  if (a.province !== undefined && !LEVEL1.test(a.province))
    p.push(`province ${JSON.stringify(a.province)} must be a level-1 code such as H29`);
  if (a.status !== 'active' && a.status !== 'closed') p.push('status must be active or closed');
  if (a.validFrom !== undefined && !isValidDate(a.validFrom)) p.push('validFrom is not a valid date');
  if (a.status === 'closed' && !isValidDate(a.closedAt)) p.push('a closed agency needs its closing date');
  if (a.status === 'active' && a.closedAt !== undefined) p.push('an active agency has no closing date');
  if (a.status === 'active' && a.successors.length > 0) p.push('an active agency has no successors');
  for (const s of [...a.successors, ...(a.predecessors ?? [])]) {
    if (s === a.code) p.push(`${a.code} cannot succeed or precede itself`);
  }
  p.push(...contactProblems(a.contact), ...deliveryProblems(a.delivery));
  return p;
}

export function nameProblems(name: string, shortName?: string): string[] {
  const p: string[] = [];
  if (typeof name !== 'string' || name.trim().length === 0) p.push('name is required');
  else if (name.length > MAX_NAME) p.push(`name is longer than ${MAX_NAME} characters`);
  if (shortName !== undefined && (typeof shortName !== 'string' || shortName.length > MAX_SHORT_NAME))
    p.push(`short name is longer than ${MAX_SHORT_NAME} characters`);
  return p;
}

export function contactProblems(c: Agency['contact']): string[] {
  const p: string[] = [];
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    if (!['email', 'phone', 'fax', 'address', 'website'].includes(k)) p.push(`unknown contact field ${k}`);
    else if (typeof v !== 'string' || v.length > MAX_CONTACT)
      p.push(`contact ${k} must be text up to ${MAX_CONTACT} characters`);
  }
  if (c.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(c.email))
    p.push(`contact email ${JSON.stringify(c.email)} is not an address`);
  if (c.phone !== undefined && !/^[+0-9 ().-]{3,30}$/.test(c.phone))
    p.push(`contact phone ${JSON.stringify(c.phone)} is not a number`);
  if (c.fax !== undefined && !/^[+0-9 ().-]{3,30}$/.test(c.fax))
    p.push(`contact fax ${JSON.stringify(c.fax)} is not a number`);
  return p;
}

export function deliveryProblems(d: Agency['delivery']): string[] {
  const p: string[] = [];
  if (!DELIVERY_MODES.includes(d.mode)) {
    p.push(`delivery mode must be one of ${DELIVERY_MODES.join(', ')}`);
    return p;
  }
  if (d.url !== undefined) {
    let ok: boolean;
    try {
      const u = new URL(d.url);
      ok = u.protocol === 'https:' || u.protocol === 'http:';
    } catch {
      ok = false;
    }
    if (!ok) p.push(`delivery URL ${JSON.stringify(d.url)} is not an http(s) URL`);
  }
  if (d.mode === 'push' && !d.url) p.push('push delivery needs the endpoint URL');
  return p;
}

/**
 * Why a delivery endpoint may not be used with these settings, or null: outside development
 * (settings.allowHttpEndpoints false) it must be https://. The one rule for the API, the CLI, the
 * UI and imports (refused with ENDPOINT_NOT_HTTPS).
 */
export function endpointSchemeProblem(
  d: Agency['delivery'] | undefined,
  settings: Pick<DirectorySettings, 'allowHttpEndpoints'>,
): string | null {
  if (!d?.url || settings.allowHttpEndpoints) return null;
  let protocol: string;
  try {
    protocol = new URL(d.url).protocol;
  } catch {
    return null; // not a URL at all: deliveryProblems says so
  }
  return protocol === 'https:' ? null : `delivery URL ${JSON.stringify(d.url)} must start with https://`;
}
