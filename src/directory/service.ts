/**
 * The agency directory (issue 3): lookups, search, the change feed, registration with atomic code
 * assignment, closing and merging, updates, bulk import and export. Every write is validated
 * (validation.ts) and audited with the agency before and after.
 *
 * Every change runs under the store's single writer (withWriter: FerretDB 1.x has no atomic
 * read-modify-write), which also keeps change-feed versions in the order their writes complete.
 * Codes are issued by inserting them into the store's register of issued codes (unique `_id`)
 * before any agency carries them: two writers can never issue the same code, and a code once
 * issued, even by a failed attempt or a closed agency, is never issued again.
 */
import { createHash, randomUUID } from 'node:crypto';
import { formatChildCode, normalizeCode } from '../domain/codes.ts';
import { calendarDate, parseVnDate, vnCalendarDay } from '../domain/calendar.ts';
import { assertLocalUnit } from '../federation/remote.ts';
import { HubError, type ErrorCode } from '../domain/errors.ts';
import type {
  AgencySearch,
  AuditLog,
  CodeReservation,
  DirectoryStore,
  DirectoryWriter,
} from '../domain/ports.ts';
import type { Agency, AgencyStatus, Block, RoutingOutcome } from '../domain/types.ts';
import { foldVietnamese, nameKey } from '../domain/text.ts';
import { routeRecipients } from '../documents/routing.ts';
import { childWidth, type DirectorySettings } from './settings.ts';
import {
  BLOCKS,
  DELIVERY_MODES,
  agencyProblems,
  assignableParentProblem,
  canonicalCodeProblem,
  contactProblems,
  isLevel1,
  deliveryProblems,
  endpointSchemeProblem,
  legacyCodeProblem,
  legacyFormOf,
  nameProblems,
  parentProblem,
} from './validation.ts';
import { CsvFormatError, parseImportCsv, resultCsv, splitList, type CsvRow, type ResultRow } from './csv.ts';

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

export interface PredecessorCorrection {
  readonly mode: 'split' | 'replace';
  readonly reason: string;
}

export const CORRECTION_MODES: readonly PredecessorCorrection['mode'][] = ['split', 'replace'];

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

export interface SearchInput {
  readonly q?: string;
  readonly code?: string;
  readonly block?: string;
  readonly province?: string;
  readonly status?: string;
  readonly parent?: string;
  /** Only level-1 bodies (no parent): the provinces' People's Committees, ministries, … */
  readonly topLevel?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface ImportProgress {
  readonly phase: 'validate' | 'assign' | 'write' | 'close';
  readonly done: number;
  readonly total: number;
}

export interface ImportOptions {
  readonly dryRun?: boolean;
  /** Effective date of rows without valid_from (default: now). */
  readonly validFrom?: Date;
  readonly onProgress?: (p: ImportProgress) => void;
}

export interface ImportResult {
  readonly importId: string | null;
  readonly dryRun: boolean;
  readonly rows: number;
  readonly created: readonly ResultRow[];
  /** Predecessors closed (or given one more successor), with all their successors. */
  readonly closed: readonly { code: string; successors: readonly string[] }[];
  /** Predecessors split between several new units: documents to them will be refused. */
  readonly splits: readonly { code: string; successors: readonly string[] }[];
  readonly resultCsv: string;
  /**
   * A dry run's rows with the codes they would be given if the file were imported now (peeked,
   * not reserved: another registration meanwhile takes the next one). Empty for a real import.
   */
  readonly preview: readonly ResultRow[];
}

export interface RowError {
  readonly line: number;
  readonly reason: string;
  /** The stable code of the refusal where it has one of its own (AGENCY_DUPLICATE_NAME, PREDECESSOR_CLOSED). */
  readonly code?: ErrorCode;
  /** For AGENCY_DUPLICATE_NAME: the active units of the same name under the same parent. */
  readonly existing?: readonly { code: string; name: string }[];
}

export interface DirectoryServiceDeps {
  readonly store: DirectoryStore;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly settings: DirectorySettings;
  readonly now?: () => Date;
}

const IMPORT_BATCH = 500;
const AUDIT_CHUNK = 200;
const DEFAULT_PAGE = 50;

/** Agency as written into the audit log: JSON-safe (no undefined, dates as ISO), no PEM bodies. */
function auditView(a: Agency | null): Record<string, unknown> | null {
  if (!a) return null;
  const { certificates, ...rest } = a;
  return JSON.parse(
    JSON.stringify({ ...rest, certificates: certificates.map(({ pem: _p, ...c }) => c) }),
  ) as Record<string, unknown>;
}

function parseBlock(v: string | undefined): Block | undefined {
  return BLOCKS.includes(v as Block) ? (v as Block) : undefined;
}

/** Active units of a parent, by name key (nameKey): what a new unit's name must not repeat. */
type NamesUnder = Map<string, Agency[]>;

/** The duplicates of `name` among `names` that the request did not declare distinct (nor succeeds). */
function undeclaredDuplicates(names: NamesUnder, name: string, declared: ReadonlySet<string>): Agency[] {
  return (names.get(nameKey(name)) ?? []).filter(
    (a) => !declared.has(a.code) && !(a.legacyCode && declared.has(a.legacyCode)),
  );
}

function duplicateReason(name: string, parent: string, existing: readonly Agency[]): string {
  const list = existing.map((a) => `${a.code} "${a.name}"`).join(', ');
  return (
    `"${name.trim()}" has the name of active unit ${list} under ${parent}; if it is a different unit, ` +
    `say so (distinctFrom / distinct_from: ${existing.map((a) => a.code).join(';')})`
  );
}

function closedView(p: Agency) {
  return {
    code: p.code,
    name: p.name,
    closedAt: p.closedAt ? vnCalendarDay(p.closedAt) : null,
    successors: p.successors,
  };
}

function correctionProblems(c: PredecessorCorrection): string[] {
  return CORRECTION_MODES.includes(c.mode) && typeof c.reason === 'string' && c.reason.trim()
    ? []
    : [`the correction needs a mode (${CORRECTION_MODES.join(' or ')}) and a reason`];
}

function closedPredecessorReason(p: Agency): string {
  const to = p.successors.length ? `successors: ${p.successors.join(', ')}` : 'no successor';
  return (
    `predecessor ${p.code} "${p.name}" is already closed since ${vnCalendarDay(p.closedAt ?? p.updatedAt)} ` +
    `(${to}); naming it again would change where documents addressed to it go`
  );
}

export class DirectoryService {
  readonly #store: DirectoryStore;
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #settings: DirectorySettings;
  readonly #now: () => Date;

  constructor(deps: DirectoryServiceDeps) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#settings = deps.settings;
    this.#now = deps.now ?? (() => new Date());
  }

  get settings(): DirectorySettings {
    return this.#settings;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** By canonical or legacy code, with what routing does with documents addressed to it. */
  async get(rawCode: string): Promise<{ agency: Agency; routing: RoutingOutcome }> {
    const code = normalizeCode(rawCode);
    const agency = await this.#store.findByCode(code);
    if (!agency) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
    const [routing] = await routeRecipients(this.#store, [code]);
    return { agency, routing: routing! };
  }

  async search(input: SearchInput): Promise<{ items: Agency[]; next?: string }> {
    const limit = input.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > this.#settings.maxPageSize)
      throw new HubError(
        'VALIDATION_FAILED',
        `limit must be an integer from 1 to ${this.#settings.maxPageSize}`,
      );
    const block = input.block === undefined ? undefined : parseBlock(input.block);
    if (input.block !== undefined && !block)
      throw new HubError('VALIDATION_FAILED', `block must be one of ${BLOCKS.join(', ')}`);
    if (input.status !== undefined && input.status !== 'active' && input.status !== 'closed')
      throw new HubError('VALIDATION_FAILED', 'status must be active or closed');
    const code = input.code === undefined ? undefined : normalizeCode(input.code);
    if (code !== undefined && !/^[A-Z0-9.]{1,35}$/.test(code))
      throw new HubError('VALIDATION_FAILED', 'code prefix: A-Z, 0-9 and dots, up to 35 characters');
    const words = input.q === undefined ? [] : foldVietnamese(input.q).split(' ').filter(Boolean);
    const q: AgencySearch = {
      limit,
      ...(code ? { codePrefix: code } : {}),
      ...(words.length ? { nameWords: words } : {}),
      ...(block ? { block } : {}),
      ...(input.province ? { province: normalizeCode(input.province) } : {}),
      ...(input.status ? { status: input.status } : {}),
      ...(input.parent ? { parentCode: normalizeCode(input.parent) } : {}),
      ...(input.topLevel ? { topLevel: true } : {}),
      ...(input.cursor ? { after: input.cursor } : {}),
    };
    const items = await this.#store.search(q);
    return items.length === limit ? { items, next: items.at(-1)!.code } : { items };
  }

  /** The change feed: agencies changed after version `since`, oldest change first. */
  async changes(
    since: number,
    limit = DEFAULT_PAGE * 4,
  ): Promise<{ items: Agency[]; next: number; more: boolean; watermark: number }> {
    if (!Number.isInteger(since) || since < 0)
      throw new HubError('VALIDATION_FAILED', 'since must be a non-negative integer version');
    if (!Number.isInteger(limit) || limit < 1 || limit > this.#settings.maxPageSize)
      throw new HubError(
        'VALIDATION_FAILED',
        `limit must be an integer from 1 to ${this.#settings.maxPageSize}`,
      );
    let feed = await this.#store.changes(since, limit);
    if (feed.stalled) {
      // A writer died holding the feed: free it (rolling back its import, if any), then read again.
      await this.recoverInterruptedImports('hub', 1_000);
      feed = await this.#store.changes(since, limit);
    }
    const { items, watermark } = feed;
    const next = items.at(-1)?.version ?? since;
    return { items, next, more: items.length === limit, watermark };
  }

  exportAll(): AsyncIterable<Agency> {
    return this.#store.exportAll();
  }

  // ---- registration --------------------------------------------------------------------------

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
    const { agency, closed, corrected } = await this.#store.withWriter(label, async (w) => {
      const parent = await this.#resolveParent(input);
      const explicit = input.code === undefined ? undefined : normalizeCode(input.code);
      const predCodes = [...new Set((input.predecessors ?? []).map(normalizeCode))];
      const preds = await this.#store.findMany(predCodes);
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

      const now = this.#now();
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
          formatChildCode(parent!.code, 1, childWidth(this.#settings, parent!.code)),
          undefined,
          0,
        );
        record = rest;
      }
      const recordProblems = agencyProblems(record, this.#settings);
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
        const dups = undeclaredDuplicates(await this.#namesUnder(parent.code), input.name, declared);
        if (dups.length)
          throw new HubError('AGENCY_DUPLICATE_NAME', duplicateReason(input.name, parent.code, dups), {
            parent: parent.code,
            existing: dups.map((a) => ({ code: a.code, name: a.name })),
          });
      }

      // Reserve, then write. A write that fails before the unit exists gives the code back.
      const issued = explicit
        ? { ...(await this.#reserveExplicit(explicit, legacyGiven, actor)), ordinals: null }
        : await this.#assign(parent!.code, 1, actor).then((a) => ({ ...a.codes[0]!, ordinals: a.ordinals }));
      let created: Agency;
      let from: number;
      try {
        from = await w.versions(1 + predecessorList.length);
        created = draft(issued.code, issued.legacyCode, from);
        await this.#store.insertAgencies([created]);
      } catch (err) {
        await this.#giveBack(parent?.code, [issued], issued.ordinals, actor);
        throw err;
      }
      const changes: { before: Agency; after: Agency }[] = [];
      const corrections: Record<string, unknown>[] = [];
      for (const [i, p] of predecessors.entries()) {
        if (p.status !== 'closed') {
          changes.push(await this.#closeWith(p.code, [created.code], validFrom, from + 1 + i));
          continue;
        }
        const c = await this.#correctClosed(p.code, [created.code], validFrom, from + 1 + i, correction!);
        changes.push(c.change);
        corrections.push(c.record);
      }
      return { agency: created, closed: changes, corrected: corrections };
    });
    await this.#audit.append({
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
      await this.#audit.append({
        actor,
        action: 'agency.closed',
        subject: c.after.code,
        data: { before: auditView(c.before), after: auditView(c.after), successorOf: agency.code },
      });
    for (const c of corrected)
      await this.#audit.append({
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
    const [routingBefore] = await routeRecipients(this.#store, [code]);
    const change = await this.#closeWith(code, successors, at, version, correction.mode);
    const [routingAfter] = await routeRecipients(this.#store, [code]);
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
    const problem = endpointSchemeProblem(delivery, this.#settings);
    if (problem) throw new HubError('ENDPOINT_NOT_HTTPS', problem, { url: delivery?.url });
  }

  /** Active units directly under `parent`, by name key. */
  async #namesUnder(parent: string): Promise<NamesUnder> {
    const out: NamesUnder = new Map();
    const limit = this.#settings.maxPageSize;
    for (let after: string | undefined; ;) {
      const page = await this.#store.search({
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

  /**
   * Undoes reservations of codes no agency carries yet (a write failed after reserving): the
   * register entries are dropped and the parent's counter goes back, so no gap is left.
   */
  async #giveBack(
    parent: string | undefined,
    codes: readonly { code: string; legacyCode?: string | undefined }[],
    ordinals: { first: number; last: number } | null,
    by: string,
  ) {
    await this.#store.dropReservations(
      codes.flatMap((c) => [c.code, ...(c.legacyCode ? [c.legacyCode] : [])]),
      by,
    );
    if (parent && ordinals) await this.#store.returnOrdinals(parent, ordinals.first, ordinals.last);
  }

  /** Closes an agency (merger: one successor; split: several; dissolution: none). Idempotent. */
  async close(actor: string, rawCode: string, input: CloseInput): Promise<Agency> {
    const code = normalizeCode(rawCode);
    if (input.at !== undefined && Number.isNaN(input.at.getTime()))
      throw new HubError('VALIDATION_FAILED', 'the closing date is invalid');
    const change = await this.#store.withWriter(`close ${code}`, async (w) => {
      const agency = await this.#store.findByCode(code);
      if (!agency) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
      assertLocalUnit(agency); // federation: a peer's unit is not closed here
      const successorCodes = [...new Set((input.successors ?? []).map(normalizeCode))];
      const found = await this.#store.findMany(successorCodes);
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
          input.at ?? this.#now(),
          await w.versions(1),
          input.correction,
        );
        return { ...c.change, corrected: c.record };
      }
      return this.#closeWith(agency.code, successors, input.at ?? this.#now(), await w.versions(1));
    });
    if (!change) return (await this.#store.findByCode(code))!; // already closed so: nothing changed
    if ('corrected' in change) {
      await this.#audit.append({
        actor,
        action: 'agency.successors.corrected',
        subject: change.after.code,
        data: change.corrected,
      });
      return change.after;
    }
    await this.#audit.append({
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
    const { before, after } = await this.#store.withWriter(`update ${code}`, async (w) => {
      const before = await this.#store.findByCode(code);
      if (!before) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
      assertLocalUnit(before); // federation: a peer's unit is not edited here
      const set: Record<string, unknown> = {};
      if (input.name !== undefined) set.name = input.name.trim();
      if (input.shortName !== undefined)
        set.shortName = input.shortName === null ? undefined : input.shortName.trim();
      if (input.kind !== undefined) set.kind = input.kind;
      if (input.contact !== undefined) set.contact = input.contact;
      if (input.delivery !== undefined) set.delivery = input.delivery;
      const problems = agencyProblems({ ...before, ...set }, this.#settings);
      if (problems.length) throw new HubError('VALIDATION_FAILED', problems.join('; '), { problems });
      this.#checkEndpoint(input.delivery);
      const after = await this.#store.update(before.code, before.version, await w.versions(1), { set });
      if (!after)
        throw new HubError('CONFLICT', `${before.code} changed while it was being updated; try again`);
      return { before, after };
    });
    await this.#audit.append({
      actor,
      action: 'agency.updated',
      subject: after.code,
      data: { before: auditView(before), after: auditView(after) },
    });
    return after;
  }

  /**
   * Closes `code` with these successors added (the caller holds the writer lock and took
   * `version` from it). The version check guards against writers that bypass the lock.
   */
  async #closeWith(
    code: string,
    successors: readonly string[],
    at: Date,
    version: number,
    mode: 'split' | 'replace' = 'split',
  ) {
    for (let attempt = 0; ; attempt++) {
      const before = await this.#store.findByCode(code);
      if (!before) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
      const after = await this.#store.update(before.code, before.version, version, {
        set: { status: 'closed', closedAt: before.closedAt ?? calendarDate(at) },
        ...(mode === 'replace' ? { replaceSuccessors: successors } : { addSuccessors: successors }),
      });
      if (after) return { before, after };
      if (attempt > 10) throw new HubError('CONFLICT', `${code} keeps changing; try again`);
    }
  }

  async #resolveParent(input: { parentCode?: string; province?: string; block: Block; code?: string }) {
    if (input.parentCode) {
      const code = normalizeCode(input.parentCode);
      const parent = await this.#store.findByCode(code);
      if (!parent) throw new HubError('VALIDATION_FAILED', `parent ${code} is not in the directory`);
      return parent;
    }
    if (input.code && isLevel1(normalizeCode(input.code))) return null; // a level-1 body
    if (!input.province) return null;
    return this.#level1Of(normalizeCode(input.province), input.block);
  }

  /** The level-1 body of a block in a province (e.g. the Party committee of H29: D29). */
  async #level1Of(province: string, block: Block): Promise<Agency> {
    const found = await this.#store.search({ province, block, status: 'active', topLevel: true, limit: 5 });
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

  async #reserveExplicit(code: string, legacy: string | undefined, by: string) {
    const legacyCode = legacy === undefined ? undefined : normalizeCode(legacy);
    if (legacyCode) {
      const lp = legacyCodeProblem(legacyCode, code);
      if (lp) throw new HubError('VALIDATION_FAILED', lp);
    }
    const entries: CodeReservation[] = [
      { code, canonical: code, kind: 'canonical' },
      ...(legacyCode ? [{ code: legacyCode, canonical: code, kind: 'legacy' as const }] : []),
    ];
    const taken = await this.#store.reserveCodes(entries, by);
    if (taken.size) {
      await this.#store.dropReservations(
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
  async #assign(
    parent: string,
    n: number,
    by: string,
  ): Promise<{ codes: { code: string; legacyCode?: string }[]; ordinals: { first: number; last: number } }> {
    const width = childWidth(this.#settings, parent);
    const max = 10 ** width - 1;
    const out: { code: string; legacyCode?: string }[] = [];
    let firstTaken: number | undefined;
    let lastTaken = 0;
    while (out.length < n) {
      const want = n - out.length;
      const first = await this.#store.takeOrdinals(parent, want);
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
      const taken = await this.#store.reserveCodes(
        candidates.map((c) => ({ code: c.code, canonical: c.code, kind: 'canonical' as const })),
        by,
      );
      const fresh = candidates.filter((c) => !taken.has(c.code));
      // Legacy aliases: issued only where they fit and are free (otherwise the unit has none).
      const withLegacy = fresh.filter((c) => c.legacyCode);
      const legacyTaken = await this.#store.reserveCodes(
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
   * The next `n` codes `#assign` would give under `parent`, read only: nothing is reserved and no
   * counter moves (issue 19 §2: the code shown before confirming burns nothing). Codes issued by
   * hand are skipped as `#assign` skips them; a concurrent registration may take one first.
   */
  async peekCodes(parent: string, n: number): Promise<string[]> {
    const width = childWidth(this.#settings, parent);
    const max = 10 ** width - 1;
    const out: string[] = [];
    let next = (await this.#store.lastOrdinal(parent)) + 1;
    while (out.length < n && next <= max) {
      const candidates: string[] = [];
      for (; candidates.length < n - out.length && next <= max; next++)
        candidates.push(formatChildCode(parent, next, width));
      const taken = await this.#store.issued(candidates);
      out.push(...candidates.filter((c) => !taken.has(c)));
    }
    return out;
  }

  /**
   * The code a registration with this parent (or province and block) would be given now, read
   * only; null when none would be assigned (a level-1 body, no parent, a full group). Refusals of
   * the parent itself (unknown, closed, another block) are thrown as the registration would.
   */
  async previewCode(input: {
    parentCode?: string;
    province?: string;
    block: Block;
  }): Promise<{ parent: string; code: string } | null> {
    const parent = await this.#resolveParent(input);
    if (!parent) return null;
    const problems = [...parentUseProblems(parent, input.block)];
    const ap = assignableParentProblem(parent.code);
    if (ap) problems.push(ap);
    if (problems.length) throw new HubError('VALIDATION_FAILED', problems.join('; '), { problems });
    const [code] = await this.peekCodes(parent.code, 1);
    return code ? { parent: parent.code, code } : null;
  }

  /** A validated plan's rows with the codes they would get now (read only). */
  async #previewRows(plan: ImportPlan): Promise<ResultRow[]> {
    const codes = new Map<DraftRow, string>();
    for (const [parent, ds] of plan.perParent) {
      const peeked = await this.peekCodes(parent, ds.length);
      ds.forEach((d, i) => codes.set(d, peeked[i] ?? ''));
    }
    return plan.drafts.map((d) => ({
      line: d.line,
      name: d.name,
      code: d.code ?? codes.get(d) ?? '',
      parent: d.resolvedParent ?? null,
      block: d.block!,
      kind: d.kind,
      predecessors: d.resolvedPredecessors,
      ...(d.validFrom ? { validFrom: d.validFrom } : {}),
    }));
  }

  // ---- bulk import ---------------------------------------------------------------------------

  /**
   * Imports a CSV file all-or-nothing: every row is validated first (all problems reported with
   * their line), then the file is applied under a journal; if applying fails, or the process dies
   * (recoverInterruptedImports), everything it wrote is undone. Codes it reserved stay burnt.
   */
  async importCsv(actor: string, text: string, opts: ImportOptions = {}): Promise<ImportResult> {
    let rows: CsvRow[];
    try {
      rows = parseImportCsv(text);
    } catch (err) {
      if (err instanceof CsvFormatError)
        throw new HubError('VALIDATION_FAILED', `line ${err.line}: ${err.message}`, {
          errors: [{ line: err.line, reason: err.message }],
        });
      throw err;
    }
    if (rows.length === 0) throw new HubError('VALIDATION_FAILED', 'the file has no data rows');
    if (rows.length > this.#settings.importMaxRows)
      throw new HubError(
        'VALIDATION_FAILED',
        `the file has ${rows.length} rows; the limit is ${this.#settings.importMaxRows}`,
      );
    const plan = await this.#planImport(rows, opts);
    if (opts.dryRun)
      return {
        importId: null,
        dryRun: true,
        rows: rows.length,
        created: [],
        closed: [],
        splits: plan.splits,
        resultCsv: '',
        preview: await this.#previewRows(plan),
      };
    return this.#applyImport(actor, createHash('sha256').update(text).digest('hex'), plan, opts);
  }

  async #planImport(rows: readonly CsvRow[], opts: ImportOptions): Promise<ImportPlan> {
    const errors: RowError[] = [];
    const fail = (line: number, reason: string, extra: Omit<RowError, 'line' | 'reason'> = {}) =>
      errors.push({ line, reason, ...extra });
    const progress = (done: number) => opts.onProgress?.({ phase: 'validate', done, total: rows.length });
    const defaultFrom = calendarDate(opts.validFrom ?? this.#now());
    // Names already used under each parent (issue 19 §1), looked up once per parent.
    const namesUnder = new Map<string, NamesUnder>();
    const namesInFile = new Map<string, number>();

    // 1. Each row on its own.
    const drafts: DraftRow[] = [];
    for (const row of rows) {
      const d = draftFromRow(row);
      for (const p of d.problems) fail(row.line, p);
      const ep = d.problems.length ? null : endpointSchemeProblem(d.delivery, this.#settings);
      if (ep) {
        fail(row.line, ep, { code: 'ENDPOINT_NOT_HTTPS' });
        d.problems.push(ep);
      }
      drafts.push(d);
    }
    // 2. Codes given in the file: unique in the file, never issued before.
    const inFile = new Map<string, DraftRow>();
    for (const d of drafts) {
      if (!d.code) continue;
      const other = inFile.get(d.code);
      if (other) fail(d.line, `code ${d.code} also on line ${other.line}`);
      else inFile.set(d.code, d);
    }
    const explicitCodes = drafts.flatMap((d) => [d.code, d.legacyCode].filter((c): c is string => !!c));
    const legacySeen = new Map<string, number>();
    for (const d of drafts) {
      if (!d.legacyCode) continue;
      const l = legacySeen.get(d.legacyCode);
      if (l !== undefined) fail(d.line, `legacy code ${d.legacyCode} also on line ${l}`);
      legacySeen.set(d.legacyCode, d.line);
    }
    const alreadyIssued = await this.#store.issued(explicitCodes);
    for (const d of drafts) {
      for (const c of [d.code, d.legacyCode])
        if (c && alreadyIssued.has(c)) fail(d.line, `code ${c} was already issued (codes are never reused)`);
    }
    // 3. References to the directory, looked up once each.
    const referenced = new Set<string>();
    for (const d of drafts) {
      if (d.parentCode && !inFile.has(d.parentCode)) referenced.add(d.parentCode);
      for (const p of d.predecessors) if (!inFile.has(p)) referenced.add(p);
    }
    const known = await this.#store.findMany([...referenced]);
    const level1 = new Map<string, Agency | string>();
    const predecessorOf = new Map<string, DraftRow[]>();
    for (const [i, d] of drafts.entries()) {
      if (i % 100 === 0) progress(i);
      if (d.problems.length) continue;
      // Parent: in the file, in the directory, or the level-1 body of the block in the province.
      let parent: ParentRef | undefined;
      if (d.parentCode) {
        const f = inFile.get(d.parentCode);
        const a = known.get(d.parentCode);
        if (f) parent = { code: f.code!, block: f.block!, province: f.province, status: 'active' };
        else if (a) parent = { code: a.code, block: a.block, province: a.province, status: a.status };
        else fail(d.line, `parent ${d.parentCode} is not in the directory nor in the file`);
      } else if (d.code && isLevel1(d.code)) {
        parent = undefined; // a level-1 body
      } else if (d.province) {
        const key = `${d.province}/${d.block}`;
        if (!level1.has(key))
          level1.set(
            key,
            await this.#level1Of(d.province, d.block!).catch((e: unknown) => {
              if (e instanceof HubError) return e.message.replace(/^[^:]*: /, '');
              throw e;
            }),
          );
        const l1 = level1.get(key)!;
        if (typeof l1 === 'string') fail(d.line, l1);
        else parent = { code: l1.code, block: l1.block, province: l1.province, status: l1.status };
      }
      if (parent) {
        for (const p of parentUseProblems(parent, d.block!)) fail(d.line, p);
        d.resolvedParent = parent.code;
        d.province ??= parent.province;
      }
      if (d.code) {
        const cp = parentProblem(d.code, d.resolvedParent ?? null);
        if (cp) fail(d.line, cp);
      } else if (d.resolvedParent) {
        const ap = assignableParentProblem(d.resolvedParent);
        if (ap) fail(d.line, ap);
      } else if (!parent && !errors.some((e) => e.line === d.line))
        fail(d.line, 'a parent (or a province) is required to assign a code');
      for (const p of d.predecessors) {
        const a = known.get(p);
        const f = inFile.get(p);
        if (!a && !f) fail(d.line, `predecessor ${p} is not in the directory nor in the file`);
        // A closed unit is not re-closed by an import (its routing would change without a word):
        // correct it with one registration and its predecessorCorrection.
        if (a?.status === 'closed' && !f)
          fail(d.line, `${closedPredecessorReason(a)}; correct it with a single registration`, {
            code: 'PREDECESSOR_CLOSED',
          });
        const canonical = a?.code ?? p;
        if (
          d.resolvedParent &&
          (d.resolvedParent === canonical || d.resolvedParent.startsWith(`${canonical}.`))
        )
          fail(d.line, `predecessor ${canonical} is the parent (or an ancestor) of the new unit`);
        if (d.code && canonical === d.code) fail(d.line, `${d.code} cannot succeed itself`);
        d.resolvedPredecessors.push(canonical);
        predecessorOf.set(canonical, [...(predecessorOf.get(canonical) ?? []), d]);
      }
      // The same name as an active unit under the same parent, or as an earlier row of the file.
      if (d.resolvedParent) {
        const parentCode = d.resolvedParent;
        const fileKey = `${parentCode} ${nameKey(d.name)}`;
        const earlier = namesInFile.get(fileKey);
        if (earlier !== undefined)
          fail(d.line, `"${d.name}" has the name of line ${earlier} under ${parentCode}`, {
            code: 'AGENCY_DUPLICATE_NAME',
          });
        else namesInFile.set(fileKey, d.line);
        if (!inFile.has(parentCode)) {
          if (!namesUnder.has(parentCode)) namesUnder.set(parentCode, await this.#namesUnder(parentCode));
          const declared = new Set([...d.distinctFrom, ...d.resolvedPredecessors]);
          const dups = undeclaredDuplicates(namesUnder.get(parentCode)!, d.name, declared);
          if (dups.length)
            fail(d.line, duplicateReason(d.name, parentCode, dups), {
              code: 'AGENCY_DUPLICATE_NAME',
              existing: dups.map((a) => ({ code: a.code, name: a.name })),
            });
        }
      }
      // The complete record, as it will be written (a placeholder code when one is assigned).
      const probe = draftAgency(
        d,
        d.code ?? (d.resolvedParent ? `${d.resolvedParent}.1` : 'A00'),
        undefined,
        0,
        defaultFrom,
      );
      // The placeholder's own problems are not the row's: its code, its parent, and (when the parent
      // was not found, already reported) the level-1 letter of "A00".
      const placeholder = d.code === undefined;
      for (const p of agencyProblems(probe, this.#settings))
        if (
          !p.startsWith('code ') &&
          !(placeholder && p.includes('is not a unit of')) &&
          !(placeholder && !d.resolvedParent && p.startsWith('level-1 letter'))
        )
          fail(d.line, p);
    }
    // 4. Room under each parent for the codes to assign.
    const perParent = new Map<string, DraftRow[]>();
    for (const d of drafts)
      if (!d.code && d.resolvedParent)
        perParent.set(d.resolvedParent, [...(perParent.get(d.resolvedParent) ?? []), d]);
    for (const [parent, ds] of perParent) {
      const width = childWidth(this.#settings, parent);
      const room = 10 ** width - 1 - (await this.#store.lastOrdinal(parent));
      for (const d of ds.slice(Math.max(0, room)))
        fail(d.line, `no free code left under ${parent} for this row (group width ${width})`);
    }
    progress(rows.length);
    if (errors.length) {
      errors.sort((a, b) => a.line - b.line);
      const shown = errors.slice(0, 20).map((e) => `line ${e.line}: ${e.reason}`);
      throw new HubError(
        'VALIDATION_FAILED',
        `${errors.length} problem(s) in the file, nothing was imported. ${shown.join('; ')}${errors.length > 20 ? '; …' : ''}`,
        { errors },
      );
    }
    const splits = [...predecessorOf.entries()]
      .filter(([, ds]) => ds.length > 1)
      .map(([code, ds]) => ({ code, successors: ds.map((d) => d.code ?? `line ${d.line}`) }));
    return { drafts, perParent, predecessorOf, splits, defaultFrom };
  }

  async #applyImport(
    actor: string,
    fileSha256: string,
    plan: ImportPlan,
    opts: ImportOptions,
  ): Promise<ImportResult> {
    const { drafts } = plan;
    const total = drafts.length;
    const predecessors = [...plan.predecessorOf.keys()];
    const importId = randomUUID();
    return this.#store.withWriter(`import ${importId} (${total} rows)`, async (w) => {
      await this.#rollbackAbandoned(actor, w);
      await this.#store.startImport({ id: importId, actor, fileSha256, rows: total, startedAt: this.#now() });
      const keepAlive = () => Promise.all([w.renew(), this.#store.heartbeatImport(importId)]);
      // Codes assigned so far, and whether any unit was written: a failure before the first write
      // gives them back (nobody can have seen them); after it they stay burnt (docs/directory.md §5).
      const assignedCodes: {
        parent: string;
        codes: { code: string; legacyCode?: string }[];
        ordinals: { first: number; last: number };
      }[] = [];
      let written = false;
      try {
        // What validation relied on may have changed before the lock was taken: check it again.
        const parents = await this.#store.findMany([...plan.perParent.keys()]);
        for (const [code, ds] of plan.perParent) {
          const p = parents.get(code);
          const problems = p
            ? parentUseProblems(p, ds[0]!.block!)
            : [`parent ${code} is no longer in the directory`];
          if (problems.length) throw new HubError('CONFLICT', `${problems.join('; ')}; nothing was imported`);
        }
        // The state of every predecessor before the import touches it, checked before any code is
        // reserved (a refused import reserves nothing) and saved before any write.
        const newCodes = new Set(drafts.flatMap((d) => (d.code ? [d.code] : [])));
        const before = await this.#store.findMany(predecessors.filter((p) => !newCodes.has(p)));
        for (const p of predecessors) {
          if (newCodes.has(p)) continue;
          const b = before.get(p);
          if (!b)
            throw new HubError(
              'CONFLICT',
              `predecessor ${p} is no longer in the directory; nothing was imported`,
            );
          if (b.status === 'closed')
            throw new HubError('PREDECESSOR_CLOSED', `${closedPredecessorReason(b)}; nothing was imported`);
        }
        // Codes given in the file first: a race with another writer since validation fails the file.
        const explicit: CodeReservation[] = drafts.flatMap((d) =>
          d.code
            ? [
                { code: d.code, canonical: d.code, kind: 'canonical' as const, given: true },
                ...(d.legacyCode
                  ? [{ code: d.legacyCode, canonical: d.code, kind: 'legacy' as const, given: true }]
                  : []),
              ]
            : [],
        );
        const taken = await this.#store.reserveCodes(explicit, importId);
        if (taken.size)
          throw new HubError(
            'CONFLICT',
            `code(s) ${[...taken].slice(0, 10).join(', ')} were issued meanwhile; nothing was imported`,
          );
        let assigned = 0;
        for (const [parent, ds] of plan.perParent) {
          const a = await this.#assign(parent, ds.length, importId);
          assignedCodes.push({ parent, codes: a.codes, ordinals: a.ordinals });
          ds.forEach((d, i) => {
            d.code = a.codes[i]!.code;
            d.legacyCode = a.codes[i]!.legacyCode;
          });
          assigned += ds.length;
          opts.onProgress?.({ phase: 'assign', done: assigned, total: total });
        }
        const from = await w.versions(total + predecessors.length);
        await this.#store.saveUndo(
          importId,
          predecessors.flatMap((p, i) => {
            const b = before.get(p);
            return b ? [{ before: b, appliedVersion: from + total + i }] : [];
          }),
        );
        const created: Agency[] = drafts.map((d, i) =>
          draftAgency(d, d.code!, d.legacyCode, from + i, plan.defaultFrom),
        );
        for (let i = 0; i < created.length; i += IMPORT_BATCH) {
          written = true;
          await this.#store.insertAgencies(created.slice(i, i + IMPORT_BATCH), importId);
          await keepAlive();
          opts.onProgress?.({ phase: 'write', done: Math.min(i + IMPORT_BATCH, created.length), total });
        }
        const closed: { before: Agency | null; after: Agency }[] = [];
        for (const [i, p] of predecessors.entries()) {
          const heirs = plan.predecessorOf.get(p)!;
          // Closed when the first of its successors takes effect.
          const at = new Date(Math.min(...heirs.map((d) => (d.validFrom ?? plan.defaultFrom).getTime())));
          const c = await this.#closeWith(
            p,
            heirs.map((d) => d.code!),
            at,
            from + total + i,
          );
          closed.push({ before: before.get(p) ?? null, after: c.after });
          if (i % 50 === 49) await keepAlive();
          opts.onProgress?.({ phase: 'close', done: i + 1, total: predecessors.length });
        }
        // Audit. The units created are kept in the import's records, their SHA-256 chained in the
        // audit log (one entry, however large the file: an append costs a scan of the log on
        // FerretDB); the predecessors changed get their before/after in the log, in chunks.
        const createdViews = created.map((a) => auditView(a)!);
        await this.#store.saveImportRecords(importId, createdViews);
        await this.#audit.append({
          actor,
          action: 'agency.imported',
          subject: importId,
          data: {
            importId,
            fileSha256,
            rows: total,
            before: null,
            after: {
              created: created.length,
              firstCode: created[0]?.code ?? null,
              recordsSha256: createHash('sha256').update(JSON.stringify(createdViews)).digest('hex'),
            },
            predecessorsClosed: closed.length,
          },
        });
        for (let i = 0; i < closed.length; i += AUDIT_CHUNK) {
          const chunk = closed.slice(i, i + AUDIT_CHUNK);
          await this.#audit.append({
            actor,
            action: 'agency.closed',
            subject: importId,
            data: {
              importId,
              // Aligned arrays (codes contain dots, which cannot be field names): before[i] → after[i].
              codes: chunk.map((c) => c.after.code),
              before: chunk.map((c) => auditView(c.before)),
              after: chunk.map((c) => auditView(c.after)),
            },
          });
        }
        await this.#store.finishImport(importId, 'done', { created: created.length });
        await this.#store.clearUndo(importId);
        const resultRows: ResultRow[] = drafts.map((d, i) => ({
          line: d.line,
          name: created[i]!.name,
          code: created[i]!.code,
          ...(created[i]!.legacyCode ? { legacyCode: created[i]!.legacyCode } : {}),
          parent: created[i]!.parentCode,
          block: created[i]!.block,
          kind: created[i]!.kind,
          predecessors: d.resolvedPredecessors,
          ...(created[i]!.validFrom ? { validFrom: created[i]!.validFrom } : {}),
        }));
        return {
          importId,
          dryRun: false,
          rows: total,
          created: resultRows,
          closed: closed.map((c) => ({ code: c.after.code, successors: c.after.successors })),
          splits: plan.splits.map((s) => ({
            code: s.code,
            successors: plan.predecessorOf.get(s.code)!.map((d) => d.code!),
          })),
          resultCsv: resultCsv(resultRows),
          preview: [],
        };
      } catch (err) {
        if (!written)
          for (const a of assignedCodes.reverse())
            await this.#giveBack(a.parent, a.codes, a.ordinals, importId);
        await this.#rollback(actor, importId, (err as Error).message, w);
        throw err;
      }
    });
  }

  async #rollback(actor: string, importId: string, reason: string, w: DirectoryWriter) {
    const undone = await this.#store.rollbackImport(importId, w);
    await this.#store.finishImport(importId, 'rolled-back', { error: reason });
    await this.#store.clearUndo(importId);
    await this.#audit.append({
      actor,
      action: 'agency.import.rolled-back',
      subject: importId,
      data: { importId, reason, ...undone },
    });
    return undone;
  }

  /** Under the writer lock, every import still `applying` was abandoned by a dead process. */
  async #rollbackAbandoned(actor: string, w: DirectoryWriter) {
    const out: { importId: string; restored: number; removed: number }[] = [];
    for (const job of await this.#store.staleImports(new Date(8.64e15)))
      out.push({ importId: job.id, ...(await this.#rollback(actor, job.id, 'interrupted; rolled back', w)) });
    return out;
  }

  /**
   * Rolls back imports whose process died while applying them, and frees the change feed held by
   * a dead writer. Cheap when there is nothing to do; waits at most `waitMs` for the writer lock.
   */
  async recoverInterruptedImports(
    actor = 'hub',
    waitMs = 5_000,
  ): Promise<{ importId: string; restored: number; removed: number }[]> {
    const staleBefore = new Date(this.#now().getTime() - this.#settings.versionLeaseMs);
    const abandoned = await this.#store.staleImports(staleBefore);
    const { stalled } = await this.#store.watermark();
    if (abandoned.length === 0 && !stalled) return [];
    try {
      return await this.#store.withWriter('recovery', (w) => this.#rollbackAbandoned(actor, w), waitMs);
    } catch (err) {
      if (err instanceof HubError && err.code === 'UNAVAILABLE') return []; // a live writer: not ours to undo
      throw err;
    }
  }
}

// ---- import rows -------------------------------------------------------------------------------

interface ParentRef {
  readonly code: string;
  readonly block: Block;
  readonly province: string | undefined;
  readonly status: AgencyStatus;
}

interface DraftRow {
  readonly line: number;
  readonly problems: string[];
  readonly name: string;
  readonly shortName?: string;
  readonly block?: Block;
  readonly kind: string;
  readonly parentCode?: string;
  province?: string;
  readonly predecessors: string[];
  /** Codes of same-named active units this row is confirmed not to be (`distinct_from`). */
  readonly distinctFrom: string[];
  readonly validFrom?: Date;
  code?: string;
  legacyCode?: string;
  readonly contact: Agency['contact'];
  readonly delivery: Agency['delivery'];
  resolvedParent?: string;
  readonly resolvedPredecessors: string[];
}

interface ImportPlan {
  readonly drafts: DraftRow[];
  readonly perParent: Map<string, DraftRow[]>;
  readonly predecessorOf: Map<string, DraftRow[]>;
  readonly splits: { code: string; successors: string[] }[];
  readonly defaultFrom: Date;
}

function draftFromRow(row: CsvRow): DraftRow {
  const v = row.values;
  const problems: string[] = [];
  const block = parseBlock(v.block);
  if (!block) problems.push(`block ${JSON.stringify(v.block ?? '')} must be one of ${BLOCKS.join(', ')}`);
  problems.push(...nameProblems(v.name ?? '', v.short_name));
  if (!v.kind) problems.push('kind is required');
  if (!v.parent && !v.province && !(v.code && isLevel1(normalizeCode(v.code))))
    problems.push('a parent or a province is required');
  let validFrom: Date | undefined;
  if (v.valid_from) {
    const d = parseVnDate(v.valid_from);
    if (d) validFrom = d;
    else problems.push(`valid_from ${JSON.stringify(v.valid_from)} is not a date (dd/mm/yyyy or YYYY-MM-DD)`);
  }
  const code = v.code ? normalizeCode(v.code) : undefined;
  const legacyCode = v.legacy_code ? normalizeCode(v.legacy_code) : undefined;
  if (code) {
    const cp = canonicalCodeProblem(code);
    if (cp) problems.push(cp);
    else if (legacyCode) {
      const lp = legacyCodeProblem(legacyCode, code);
      if (lp) problems.push(lp);
    }
  } else if (legacyCode) problems.push('legacy_code needs the code it stands for (code column)');
  const predecessors = splitList(v.predecessors).map(normalizeCode);
  const dupPred = predecessors.find((p, i) => predecessors.indexOf(p) !== i);
  if (dupPred) problems.push(`predecessor ${dupPred} listed twice`);
  const contact: Record<string, string> = {};
  for (const k of ['email', 'phone', 'fax', 'address', 'website'] as const) if (v[k]) contact[k] = v[k];
  problems.push(...contactProblems(contact));
  const mode = (v.delivery_mode ?? 'pull') as Agency['delivery']['mode'];
  const delivery: Agency['delivery'] = { mode, ...(v.delivery_url ? { url: v.delivery_url } : {}) };
  if (!DELIVERY_MODES.includes(mode))
    problems.push(`delivery_mode must be one of ${DELIVERY_MODES.join(', ')}`);
  else problems.push(...deliveryProblems(delivery));
  const province = v.province ? normalizeCode(v.province) : undefined;
  return {
    line: row.line,
    problems,
    name: (v.name ?? '').trim(),
    ...(v.short_name ? { shortName: v.short_name } : {}),
    ...(block ? { block } : {}),
    kind: v.kind ?? '',
    ...(v.parent ? { parentCode: normalizeCode(v.parent) } : {}),
    ...(province ? { province } : {}),
    predecessors: [...new Set(predecessors)],
    distinctFrom: splitList(v.distinct_from).map(normalizeCode),
    ...(validFrom ? { validFrom } : {}),
    ...(code ? { code } : {}),
    ...(legacyCode ? { legacyCode } : {}),
    contact,
    delivery,
    resolvedPredecessors: [],
  };
}

function draftAgency(
  d: DraftRow,
  code: string,
  legacyCode: string | undefined,
  version: number,
  defaultFrom: Date,
): Agency {
  return {
    code,
    ...(legacyCode ? { legacyCode } : {}),
    name: d.name,
    ...(d.shortName ? { shortName: d.shortName } : {}),
    block: d.block!,
    kind: d.kind,
    parentCode: d.resolvedParent ?? null,
    ...(d.province ? { province: d.province } : {}),
    status: 'active',
    validFrom: d.validFrom ?? defaultFrom,
    successors: [],
    ...(d.resolvedPredecessors.length ? { predecessors: [...d.resolvedPredecessors] } : {}),
    contact: d.contact,
    delivery: d.delivery,
    certificates: [],
    version,
    updatedAt: new Date(),
  };
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

/** A new unit's parent must be active and of the same block. */
function parentUseProblems(parent: Pick<Agency, 'code' | 'block' | 'status'>, block: Block): string[] {
  const p: string[] = [];
  if (parent.status !== 'active') p.push(`parent ${parent.code} is closed`);
  if (parent.block !== block) p.push(`parent ${parent.code} is in the ${parent.block} block, not ${block}`);
  return p;
}
