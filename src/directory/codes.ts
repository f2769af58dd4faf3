/**
 * Code assignment (issue 3, docs/directory.md §5): codes are issued by inserting them into the
 * store's register of issued codes (unique `_id`) before any agency carries them, so two writers
 * can never issue the same code, and a code once issued, even by a failed attempt or a closed
 * agency, is never issued again. Ordinals come from per-parent counters that never go down, except
 * when a failed attempt gives back what nobody can have seen.
 */
import { formatChildCode, normalizeCode } from '../domain/codes.ts';
import { HubError } from '../domain/errors.ts';
import type { CodeReservation } from '../domain/ports.ts';
import { childWidth } from './settings.ts';
import type { DirectoryContext } from './shared.ts';
import { legacyCodeProblem, legacyFormOf } from './validation.ts';

export async function reserveExplicit(
  ctx: DirectoryContext,
  code: string,
  legacy: string | undefined,
  by: string,
) {
  const legacyCode = legacy === undefined ? undefined : normalizeCode(legacy);
  if (legacyCode) {
    const lp = legacyCodeProblem(legacyCode, code);
    if (lp) throw new HubError('VALIDATION_FAILED', lp);
  }
  const entries: CodeReservation[] = [
    { code, canonical: code, kind: 'canonical' },
    ...(legacyCode ? [{ code: legacyCode, canonical: code, kind: 'legacy' as const }] : []),
  ];
  const taken = await ctx.store.reserveCodes(entries, by);
  if (taken.size) {
    await ctx.store.dropReservations(
      entries.filter((e) => !taken.has(e.code)).map((e) => e.code),
      by,
    );
    throw new HubError(
      'CONFLICT',
      `code ${[...taken].join(', ')} was already issued (codes are never reused)`,
    );
  }
  return { code, legacyCode };
}

/**
 * Assigns `n` new codes under `parent`: ordinals come from the parent's counter ($inc, atomic,
 * never down), codes already issued (registered by hand, or by an earlier scheme) are skipped,
 * each code is issued by inserting it into the register. Concurrent callers never get the same.
 */
export async function assignCodes(
  ctx: DirectoryContext,
  parent: string,
  n: number,
  by: string,
): Promise<{ codes: { code: string; legacyCode?: string }[]; ordinals: { first: number; last: number } }> {
  const width = childWidth(ctx.settings, parent);
  const max = 10 ** width - 1;
  const out: { code: string; legacyCode?: string }[] = [];
  let firstTaken: number | undefined;
  let lastTaken = 0;
  while (out.length < n) {
    const want = n - out.length;
    const first = await ctx.store.takeOrdinals(parent, want);
    firstTaken ??= first;
    lastTaken = first + want - 1;
    if (first > max)
      throw new HubError('CONFLICT', `no free code left under ${parent} (group width ${width})`);
    const candidates: { code: string; legacyCode?: string }[] = [];
    for (let ord = first; ord < first + want && ord <= max; ord++) {
      const code = formatChildCode(parent, ord, width);
      const legacyCode = legacyFormOf(code);
      candidates.push({ code, ...(legacyCode ? { legacyCode } : {}) });
    }
    const taken = await ctx.store.reserveCodes(
      candidates.map((c) => ({ code: c.code, canonical: c.code, kind: 'canonical' as const })),
      by,
    );
    const fresh = candidates.filter((c) => !taken.has(c.code));
    // Legacy aliases: issued only where they fit and are free (otherwise the unit has none).
    const withLegacy = fresh.filter((c) => c.legacyCode);
    const legacyTaken = await ctx.store.reserveCodes(
      withLegacy.map((c) => ({ code: c.legacyCode!, canonical: c.code, kind: 'legacy' as const })),
      by,
    );
    for (const c of fresh) out.push(c.legacyCode && legacyTaken.has(c.legacyCode) ? { code: c.code } : c);
    if (first + want - 1 > max && out.length < n)
      throw new HubError('CONFLICT', `no free code left under ${parent} (group width ${width})`);
  }
  return { codes: out, ordinals: { first: firstTaken!, last: lastTaken } };
}

/**
 * Undoes reservations of codes no agency carries yet (a write failed after reserving): the
 * register entries are dropped and the parent's counter goes back, so no gap is left.
 */
export async function giveBack(
  ctx: DirectoryContext,
  parent: string | undefined,
  codes: readonly { code: string; legacyCode?: string | undefined }[],
  ordinals: { first: number; last: number } | null,
  by: string,
) {
  await ctx.store.dropReservations(
    codes.flatMap((c) => [c.code, ...(c.legacyCode ? [c.legacyCode] : [])]),
    by,
  );
  if (parent && ordinals) await ctx.store.returnOrdinals(parent, ordinals.first, ordinals.last);
}

/**
 * The next `n` codes `assignCodes` would give under `parent`, read only: nothing is reserved and no
 * counter moves (issue 19 §2: the code shown before confirming burns nothing). Codes issued by
 * hand are skipped as `assignCodes` skips them; a concurrent registration may take one first.
 */
export async function peekCodes(ctx: DirectoryContext, parent: string, n: number): Promise<string[]> {
  const width = childWidth(ctx.settings, parent);
  const max = 10 ** width - 1;
  const out: string[] = [];
  let next = (await ctx.store.lastOrdinal(parent)) + 1;
  while (out.length < n && next <= max) {
    const candidates: string[] = [];
    for (; candidates.length < n - out.length && next <= max; next++)
      candidates.push(formatChildCode(parent, next, width));
    const taken = await ctx.store.issued(candidates);
    out.push(...candidates.filter((c) => !taken.has(c)));
  }
  return out;
}
