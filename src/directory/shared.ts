/**
 * What the directory's use cases share (queries.ts, registration.ts, import.ts): their context,
 * the lookups of a parent and of the names already used under it, the checks of a parent and of
 * closed predecessors, and the audit form of an agency.
 */
import { normalizeCode } from '../domain/codes.ts';
import { vnCalendarDay } from '../domain/calendar.ts';
import { HubError } from '../domain/errors.ts';
import type { AuditLog, DirectoryStore } from '../domain/ports.ts';
import type { Agency, Block } from '../domain/types.ts';
import { nameKey } from '../domain/text.ts';
import type { DirectorySettings } from './settings.ts';
import { BLOCKS, isLevel1 } from './validation.ts';

/** What every part of the directory service works with. */
export interface DirectoryContext {
  readonly store: DirectoryStore;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly settings: DirectorySettings;
  readonly now: () => Date;
}

export interface PredecessorCorrection {
  readonly mode: 'split' | 'replace';
  readonly reason: string;
}

export const CORRECTION_MODES: readonly PredecessorCorrection['mode'][] = ['split', 'replace'];

/** Agency as written into the audit log: JSON-safe (no undefined, dates as ISO), no PEM bodies. */
export function auditView(a: Agency | null): Record<string, unknown> | null {
  if (!a) return null;
  const { certificates, ...rest } = a;
  return JSON.parse(
    JSON.stringify({ ...rest, certificates: certificates.map(({ pem: _p, ...c }) => c) }),
  ) as Record<string, unknown>;
}

export function parseBlock(v: string | undefined): Block | undefined {
  return BLOCKS.includes(v as Block) ? (v as Block) : undefined;
}

/** Active units of a parent, by name key (nameKey): what a new unit's name must not repeat. */
export type NamesUnder = Map<string, Agency[]>;

/** The duplicates of `name` among `names` that the request did not declare distinct (nor succeeds). */
export function undeclaredDuplicates(
  names: NamesUnder,
  name: string,
  declared: ReadonlySet<string>,
): Agency[] {
  return (names.get(nameKey(name)) ?? []).filter(
    (a) => !declared.has(a.code) && !(a.legacyCode && declared.has(a.legacyCode)),
  );
}

export function duplicateReason(name: string, parent: string, existing: readonly Agency[]): string {
  const list = existing.map((a) => `${a.code} "${a.name}"`).join(', ');
  return (
    `"${name.trim()}" has the name of active unit ${list} under ${parent}; if it is a different unit, ` +
    `say so (distinctFrom / distinct_from: ${existing.map((a) => a.code).join(';')})`
  );
}

export function closedView(p: Agency) {
  return {
    code: p.code,
    name: p.name,
    closedAt: p.closedAt ? vnCalendarDay(p.closedAt) : null,
    successors: p.successors,
  };
}

export function correctionProblems(c: PredecessorCorrection): string[] {
  return CORRECTION_MODES.includes(c.mode) && typeof c.reason === 'string' && c.reason.trim()
    ? []
    : [`the correction needs a mode (${CORRECTION_MODES.join(' or ')}) and a reason`];
}

export function closedPredecessorReason(p: Agency): string {
  const to = p.successors.length ? `successors: ${p.successors.join(', ')}` : 'no successor';
  return (
    `predecessor ${p.code} "${p.name}" is already closed since ${vnCalendarDay(p.closedAt ?? p.updatedAt)} ` +
    `(${to}); naming it again would change where documents addressed to it go`
  );
}

/** A new unit's parent must be active and of the same block. */
export function parentUseProblems(parent: Pick<Agency, 'code' | 'block' | 'status'>, block: Block): string[] {
  const p: string[] = [];
  if (parent.status !== 'active') p.push(`parent ${parent.code} is closed`);
  if (parent.block !== block) p.push(`parent ${parent.code} is in the ${parent.block} block, not ${block}`);
  return p;
}

/** Active units directly under `parent`, by name key. */
export async function namesUnder(ctx: DirectoryContext, parent: string): Promise<NamesUnder> {
  const out: NamesUnder = new Map();
  const limit = ctx.settings.maxPageSize;
  for (let after: string | undefined; ;) {
    const page = await ctx.store.search({
      parentCode: parent,
      status: 'active',
      limit,
      ...(after ? { after } : {}),
    });
    for (const a of page) {
      const k = nameKey(a.name);
      out.set(k, [...(out.get(k) ?? []), a]);
    }
    if (page.length < limit) return out;
    after = page.at(-1)!.code;
  }
}

export async function resolveParent(
  ctx: DirectoryContext,
  input: { parentCode?: string; province?: string; block: Block; code?: string },
) {
  if (input.parentCode) {
    const code = normalizeCode(input.parentCode);
    const parent = await ctx.store.findByCode(code);
    if (!parent) throw new HubError('VALIDATION_FAILED', `parent ${code} is not in the directory`);
    return parent;
  }
  if (input.code && isLevel1(normalizeCode(input.code))) return null; // a level-1 body
  if (!input.province) return null;
  return level1Of(ctx, normalizeCode(input.province), input.block);
}

/** The level-1 body of a block in a province (e.g. the Party committee of H29: D29). */
export async function level1Of(ctx: DirectoryContext, province: string, block: Block): Promise<Agency> {
  const found = await ctx.store.search({ province, block, status: 'active', topLevel: true, limit: 5 });
  if (found.length === 1) return found[0]!;
  if (found.length === 0)
    throw new HubError(
      'VALIDATION_FAILED',
      `no active level-1 ${block} body in province ${province}: give the parent`,
    );
  throw new HubError(
    'VALIDATION_FAILED',
    `province ${province} has several level-1 ${block} bodies (${found.map((a) => a.code).join(', ')}): give the parent`,
  );
}
