/**
 * Registration (issue 3, issue 19 §1): registering a unit with an assigned or given code, closing
 * and merging, updates, and the audited correction of a closed unit's successors. Every change is
 * validated (validation.ts), made under the store's single writer and audited with the agency
 * before and after. Everything is checked before a code is reserved: a refused registration burns
 * no code.
 */
import { assertLocalUnit } from '../federation/remote.ts';
import { formatChildCode, normalizeCode } from '../domain/codes.ts';
import { calendarDate } from '../domain/calendar.ts';
import { HubError } from '../domain/errors.ts';
import type { Agency, Block } from '../domain/types.ts';
import { assignCodes, giveBack, reserveExplicit } from './codes.ts';
import { routeRecipients } from './routing.ts';
import { childWidth } from './settings.ts';
import {
  auditView,
  closedPredecessorReason,
  closedView,
  correctionProblems,
  duplicateReason,
  namesUnder,
  parentUseProblems,
  resolveParent,
  undeclaredDuplicates,
  type DirectoryContext,
  type PredecessorCorrection,
} from './shared.ts';
import {
  BLOCKS,
  agencyProblems,
  assignableParentProblem,
  canonicalCodeProblem,
  contactProblems,
  deliveryProblems,
  endpointSchemeProblem,
  nameProblems,
  parentProblem,
} from './validation.ts';

export interface RegisterInput {
  readonly name: string;
  readonly shortName?: string;
  readonly block: Block;
  readonly kind: string;
  /** The parent unit; when absent, the level-1 body of `block` in `province`. */
  readonly parentCode?: string;
  readonly province?: string;
  /** Units this one succeeds: they are closed at `validFrom` with this one as successor. */
  readonly predecessors?: readonly string[];
  readonly validFrom?: Date;
  /** An existing code to register as is (level-1 bodies, agencies migrated with their code). */
  readonly code?: string;
  readonly legacyCode?: string;
  readonly contact?: Agency['contact'];
  readonly delivery?: Agency['delivery'];
  /**
   * Codes of active units under the same parent whose name matches this one (without diacritics,
   * case and spacing) and that this unit is confirmed NOT to be: without them the registration is
   * refused with AGENCY_DUPLICATE_NAME (issue 19 §1).
   */
  readonly distinctFrom?: readonly string[];
  /**
   * Naming a predecessor that is already closed changes how documents addressed to it are routed;
   * it is refused with PREDECESSOR_CLOSED unless the request is this explicit, audited correction:
   * `split` adds the new unit to the predecessor's successors, `replace` makes it the only one.
   */
  readonly predecessorCorrection?: PredecessorCorrection;
}

export interface UpdateInput {
  readonly name?: string;
  readonly shortName?: string | null;
  readonly kind?: string;
  readonly contact?: Agency['contact'];
  readonly delivery?: Agency['delivery'];
}

export interface CloseInput {
  readonly successors?: readonly string[];
  readonly at?: Date;
  readonly reason?: string;
  /** Giving an already closed agency other successors is refused without this correction (§4). */
  readonly correction?: PredecessorCorrection;
}

export class Registration {
  readonly #c: DirectoryContext;

  constructor(ctx: DirectoryContext) {
    this.#c = ctx;
  }

  /**
   * Registers a unit under its parent: assigns the next free code (or registers the given one),
   * closes its predecessors at `validFrom` with this unit as their successor, and audits all of it.
   */
  async register(actor: string, input: RegisterInput): Promise<{ agency: Agency; closed: Agency[] }> {
    const problems = inputProblems(input);
    if (problems.length) throw new HubError('VALIDATION_FAILED', problems.join('; '), { problems });
    this.#checkEndpoint(input.delivery);
    const correction = input.predecessorCorrection;
    const label = `register ${input.code ?? `a unit under ${input.parentCode ?? input.province ?? '?'}`}`;
    // Looked up and validated under the writer lock: the parent and predecessors cannot change meanwhile.
    // Everything is checked BEFORE a code is reserved (issue 19 §1: a refused registration burns no code).
    const { agency, closed, corrected } = await this.#c.store.withWriter(label, async (w) => {
      const parent = await resolveParent(this.#c, input);
      const explicit = input.code === undefined ? undefined : normalizeCode(input.code);
      const predCodes = [...new Set((input.predecessors ?? []).map(normalizeCode))];
      const preds = await this.#c.store.findMany(predCodes);
      const refProblems: string[] = [];
      if (parent) refProblems.push(...parentUseProblems(parent, input.block));
      for (const c of predCodes) {
        const p = preds.get(c);
        if (!p) refProblems.push(`predecessor ${c} is not in the directory`);
        else if (parent && (parent.code === p.code || parent.code.startsWith(`${p.code}.`)))
          refProblems.push(`predecessor ${p.code} is the parent (or an ancestor) of the new unit`);
      }
      if (explicit) {
        const cp = canonicalCodeProblem(explicit) ?? parentProblem(explicit, parent?.code ?? null);
        if (cp) refProblems.push(cp);
      } else if (!parent) refProblems.push('a parent (or a province) is required to assign a code');
      else {
        const ap = assignableParentProblem(parent.code);
        if (ap) refProblems.push(ap);
      }
      if (refProblems.length)
        throw new HubError('VALIDATION_FAILED', refProblems.join('; '), { problems: refProblems });

      const now = this.#c.now();
      const validFrom = calendarDate(input.validFrom ?? now);
      const predecessors = [...new Map([...preds.values()].map((p) => [p.code, p])).values()];
      const predecessorList = predecessors.map((p) => p.code);
      const province = input.province ? normalizeCode(input.province) : parent?.province;
      const legacyGiven = input.legacyCode === undefined ? undefined : normalizeCode(input.legacyCode);
      const draft = (code: string, legacyCode: string | undefined, version: number): Agency => ({
        code,
        ...(legacyCode ? { legacyCode } : {}),
        name: input.name.trim(),
        ...(input.shortName ? { shortName: input.shortName.trim() } : {}),
        block: input.block,
        kind: input.kind,
        parentCode: parent?.code ?? null,
        ...(province ? { province } : {}),
        status: 'active',
        validFrom,
        successors: [],
        ...(predecessorList.length ? { predecessors: predecessorList } : {}),
        contact: input.contact ?? {},
        delivery: input.delivery ?? { mode: 'pull' },
        certificates: [],
        version,
        updatedAt: now,
      });
      // The complete record, with the code it will get: the given one, or a probe that has the same
      // problems as the code the counter will give (same parent, same level-1 letter). The probe
      // carries no predecessors: an assigned code is never a predecessor's (issued codes are skipped).
      let record = draft(explicit ?? '', legacyGiven, 0);
      if (!explicit) {
        const { predecessors: _p, ...rest } = draft(
          formatChildCode(parent!.code, 1, childWidth(this.#c.settings, parent!.code)),
          undefined,
          0,
        );
        record = rest;
      }
      const recordProblems = agencyProblems(record, this.#c.settings);
      if (recordProblems.length)
        throw new HubError('VALIDATION_FAILED', recordProblems.join('; '), { problems: recordProblems });
      const closedPreds = predecessors.filter((p) => p.status === 'closed');
      if (closedPreds.length && !correction) {
        const reasons = closedPreds.map(closedPredecessorReason);
        throw new HubError(
          'PREDECESSOR_CLOSED',
          `${reasons.join('; ')}. To correct it, resend with predecessorCorrection {mode: split | replace, reason}`,
          { predecessors: closedPreds.map(closedView) },
        );
      }
      if (parent) {
        const declared = new Set([...(input.distinctFrom ?? []).map(normalizeCode), ...predecessorList]);
        const dups = undeclaredDuplicates(await namesUnder(this.#c, parent.code), input.name, declared);
        if (dups.length)
          throw new HubError('AGENCY_DUPLICATE_NAME', duplicateReason(input.name, parent.code, dups), {
            parent: parent.code,
            existing: dups.map((a) => ({ code: a.code, name: a.name })),
          });
      }

      // Reserve, then write. A write that fails before the unit exists gives the code back.
      const issued = explicit
        ? { ...(await reserveExplicit(this.#c, explicit, legacyGiven, actor)), ordinals: null }
        : await assignCodes(this.#c, parent!.code, 1, actor).then((a) => ({
            ...a.codes[0]!,
            ordinals: a.ordinals,
          }));
      let created: Agency;
      let from: number;
      try {
        from = await w.versions(1 + predecessorList.length);
        created = draft(issued.code, issued.legacyCode, from);
        await this.#c.store.insertAgencies([created]);
      } catch (err) {
        await giveBack(this.#c, parent?.code, [issued], issued.ordinals, actor);
        throw err;
      }
      const changes: { before: Agency; after: Agency }[] = [];
      const corrections: Record<string, unknown>[] = [];
      for (const [i, p] of predecessors.entries()) {
        if (p.status !== 'closed') {
          changes.push(await closeWith(this.#c, p.code, [created.code], validFrom, from + 1 + i));
          continue;
        }
        const c = await this.#correctClosed(p.code, [created.code], validFrom, from + 1 + i, correction!);
        changes.push(c.change);
        corrections.push(c.record);
      }
      return { agency: created, closed: changes, corrected: corrections };
    });
    await this.#c.audit.append({
      actor,
      action: 'agency.registered',
      subject: agency.code,
      data: {
        before: null,
        after: auditView(agency),
        ...(input.distinctFrom?.length ? { distinctFrom: input.distinctFrom.map(normalizeCode) } : {}),
      },
    });
    for (const c of closed)
      await this.#c.audit.append({
        actor,
        action: 'agency.closed',
        subject: c.after.code,
        data: { before: auditView(c.before), after: auditView(c.after), successorOf: agency.code },
      });
    for (const c of corrected)
      await this.#c.audit.append({
        actor,
        action: 'agency.successors.corrected',
        subject: c.code as string,
        data: { ...c, successorOf: agency.code },
      });
    return { agency, closed: closed.map((c) => c.after) };
  }

  /**
   * Gives a closed agency other successors: the explicit correction of issue 19 §1, recorded with
   * what routing does with documents addressed to it before and after (under the writer lock).
   */
  async #correctClosed(
    code: string,
    successors: readonly string[],
    at: Date,
    version: number,
    correction: PredecessorCorrection,
  ) {
    const [routingBefore] = await routeRecipients(this.#c.store, [code]);
    const change = await closeWith(this.#c, code, successors, at, version, correction.mode);
    const [routingAfter] = await routeRecipients(this.#c.store, [code]);
    const record: Record<string, unknown> = {
      code,
      mode: correction.mode,
      reason: correction.reason,
      successorsBefore: change.before.successors,
      successorsAfter: change.after.successors,
      routingBefore,
      routingAfter,
    };
    return { change, record };
  }

  /** Push endpoints are https:// outside development (ENDPOINT_NOT_HTTPS, issue 19 §2). */
  #checkEndpoint(delivery: Agency['delivery'] | undefined): void {
    const problem = endpointSchemeProblem(delivery, this.#c.settings);
    if (problem) throw new HubError('ENDPOINT_NOT_HTTPS', problem, { url: delivery?.url });
  }

  /** Closes an agency (merger: one successor; split: several; dissolution: none). Idempotent. */
  async close(actor: string, rawCode: string, input: CloseInput): Promise<Agency> {
    const code = normalizeCode(rawCode);
    if (input.at !== undefined && Number.isNaN(input.at.getTime()))
      throw new HubError('VALIDATION_FAILED', 'the closing date is invalid');
    const change = await this.#c.store.withWriter(`close ${code}`, async (w) => {
      const agency = await this.#c.store.findByCode(code);
      if (!agency) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
      assertLocalUnit(agency); // federation: a peer's unit is not closed here
      const successorCodes = [...new Set((input.successors ?? []).map(normalizeCode))];
      const found = await this.#c.store.findMany(successorCodes);
      const problems: string[] = [];
      const successors: string[] = [];
      for (const s of successorCodes) {
        const a = found.get(s);
        if (!a) problems.push(`successor ${s} is not in the directory`);
        else if (a.code === agency.code) problems.push(`${agency.code} cannot succeed itself`);
        else if (a.status !== 'active') problems.push(`successor ${a.code} is closed`);
        else successors.push(a.code);
      }
      if (input.correction) problems.push(...correctionProblems(input.correction));
      if (problems.length) throw new HubError('VALIDATION_FAILED', problems.join('; '), { problems });
      if (agency.status === 'closed' && successors.every((s) => agency.successors.includes(s))) return null;
      if (agency.status === 'closed') {
        // Not silently re-closed (issue 19 §1): other successors change where its documents go.
        if (!input.correction)
          throw new HubError(
            'PREDECESSOR_CLOSED',
            `${closedPredecessorReason(agency).replace(/^predecessor /, '')}. To correct it, resend with correction {mode: split | replace, reason}`,
            { predecessors: [closedView(agency)] },
          );
        const c = await this.#correctClosed(
          agency.code,
          successors,
          input.at ?? this.#c.now(),
          await w.versions(1),
          input.correction,
        );
        return { ...c.change, corrected: c.record };
      }
      return closeWith(this.#c, agency.code, successors, input.at ?? this.#c.now(), await w.versions(1));
    });
    if (!change) return (await this.#c.store.findByCode(code))!; // already closed so: nothing changed
    if ('corrected' in change) {
      await this.#c.audit.append({
        actor,
        action: 'agency.successors.corrected',
        subject: change.after.code,
        data: change.corrected,
      });
      return change.after;
    }
    await this.#c.audit.append({
      actor,
      action: 'agency.closed',
      subject: change.after.code,
      data: {
        before: auditView(change.before),
        after: auditView(change.after),
        ...(input.reason ? { reason: input.reason } : {}),
      },
    });
    return change.after;
  }

  /** Changes names, kind, contact or delivery settings. Codes, block and parent never change. */
  async update(actor: string, rawCode: string, input: UpdateInput): Promise<Agency> {
    const code = normalizeCode(rawCode);
    const { before, after } = await this.#c.store.withWriter(`update ${code}`, async (w) => {
      const before = await this.#c.store.findByCode(code);
      if (!before) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
      assertLocalUnit(before); // federation: a peer's unit is not edited here
      const set: Record<string, unknown> = {};
      if (input.name !== undefined) set.name = input.name.trim();
      if (input.shortName !== undefined)
        set.shortName = input.shortName === null ? undefined : input.shortName.trim();
      if (input.kind !== undefined) set.kind = input.kind;
      if (input.contact !== undefined) set.contact = input.contact;
      if (input.delivery !== undefined) set.delivery = input.delivery;
      const problems = agencyProblems({ ...before, ...set }, this.#c.settings);
      if (problems.length) throw new HubError('VALIDATION_FAILED', problems.join('; '), { problems });
      this.#checkEndpoint(input.delivery);
      const after = await this.#c.store.update(before.code, before.version, await w.versions(1), { set });
      if (!after)
        throw new HubError('CONFLICT', `${before.code} changed while it was being updated; try again`);
      return { before, after };
    });
    await this.#c.audit.append({
      actor,
      action: 'agency.updated',
      subject: after.code,
      data: { before: auditView(before), after: auditView(after) },
    });
    return after;
  }
}

/**
 * Closes `code` with these successors added (the caller holds the writer lock and took
 * `version` from it). The version check guards against writers that bypass the lock.
 */
export async function closeWith(
  ctx: DirectoryContext,
  code: string,
  successors: readonly string[],
  at: Date,
  version: number,
  mode: 'split' | 'replace' = 'split',
) {
  for (let attempt = 0; ; attempt++) {
    const before = await ctx.store.findByCode(code);
    if (!before) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
    const after = await ctx.store.update(before.code, before.version, version, {
      set: { status: 'closed', closedAt: before.closedAt ?? calendarDate(at) },
      ...(mode === 'replace' ? { replaceSuccessors: successors } : { addSuccessors: successors }),
    });
    if (after) return { before, after };
    if (attempt > 10) throw new HubError('CONFLICT', `${code} keeps changing; try again`);
  }
}

/** Problems of a registration request before any lookup. */
function inputProblems(input: RegisterInput): string[] {
  const p: string[] = [];
  if (!BLOCKS.includes(input.block)) p.push(`block must be one of ${BLOCKS.join(', ')}`);
  p.push(...nameProblems(input.name, input.shortName));
  if (typeof input.kind !== 'string' || input.kind.length === 0) p.push('kind is required');
  if (input.legacyCode !== undefined && input.code === undefined)
    p.push('a legacy code needs the code it stands for');
  if (input.validFrom !== undefined && Number.isNaN(input.validFrom.getTime()))
    p.push('validFrom is not a valid date');
  if (input.predecessorCorrection) p.push(...correctionProblems(input.predecessorCorrection));
  if (input.contact) p.push(...contactProblems(input.contact));
  if (input.delivery) p.push(...deliveryProblems(input.delivery));
  return p;
}
