/**
 * Bulk import of a CSV file (issue 3, docs/directory.md §5), all-or-nothing: every row is
 * validated first (all problems reported with their line), then the file is applied under a
 * journal; if applying fails, or the process dies (recoverInterruptedImports), everything it wrote
 * is undone. Codes it reserved stay burnt, except codes the file gave.
 */
import { createHash, randomUUID } from 'node:crypto';
import { normalizeCode } from '../domain/codes.ts';
import { calendarDate, parseVnDate } from '../domain/calendar.ts';
import { HubError, type ErrorCode } from '../domain/errors.ts';
import type { CodeReservation, DirectoryWriter } from '../domain/ports.ts';
import type { Agency, AgencyStatus, Block } from '../domain/types.ts';
import { nameKey } from '../domain/text.ts';
import { assignCodes, giveBack, peekCodes } from './codes.ts';
import { CsvFormatError, parseImportCsv, resultCsv, splitList, type CsvRow, type ResultRow } from './csv.ts';
import { closeWith } from './registration.ts';
import { childWidth } from './settings.ts';
import {
  auditView,
  closedPredecessorReason,
  duplicateReason,
  level1Of,
  namesUnder,
  parentUseProblems,
  parseBlock,
  undeclaredDuplicates,
  type DirectoryContext,
  type NamesUnder,
} from './shared.ts';
import {
  BLOCKS,
  DELIVERY_MODES,
  agencyProblems,
  assignableParentProblem,
  canonicalCodeProblem,
  contactProblems,
  deliveryProblems,
  endpointSchemeProblem,
  isLevel1,
  legacyCodeProblem,
  nameProblems,
  parentProblem,
} from './validation.ts';

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

const IMPORT_BATCH = 500;
const AUDIT_CHUNK = 200;

export class DirectoryImport {
  readonly #c: DirectoryContext;

  constructor(ctx: DirectoryContext) {
    this.#c = ctx;
  }
  /** A validated plan's rows with the codes they would get now (read only). */
  async #previewRows(plan: ImportPlan): Promise<ResultRow[]> {
    const codes = new Map<DraftRow, string>();
    for (const [parent, ds] of plan.perParent) {
      const peeked = await peekCodes(this.#c, parent, ds.length);
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
    if (rows.length > this.#c.settings.importMaxRows)
      throw new HubError(
        'VALIDATION_FAILED',
        `the file has ${rows.length} rows; the limit is ${this.#c.settings.importMaxRows}`,
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
    const defaultFrom = calendarDate(opts.validFrom ?? this.#c.now());
    // Names already used under each parent (issue 19 §1), looked up once per parent.
    const namesByParent = new Map<string, NamesUnder>();
    const namesInFile = new Map<string, number>();

    // 1. Each row on its own.
    const drafts: DraftRow[] = [];
    for (const row of rows) {
      const d = draftFromRow(row);
      for (const p of d.problems) fail(row.line, p);
      const ep = d.problems.length ? null : endpointSchemeProblem(d.delivery, this.#c.settings);
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
    const alreadyIssued = await this.#c.store.issued(explicitCodes);
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
    const known = await this.#c.store.findMany([...referenced]);
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
            await level1Of(this.#c, d.province, d.block!).catch((e: unknown) => {
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
          if (!namesByParent.has(parentCode))
            namesByParent.set(parentCode, await namesUnder(this.#c, parentCode));
          const declared = new Set([...d.distinctFrom, ...d.resolvedPredecessors]);
          const dups = undeclaredDuplicates(namesByParent.get(parentCode)!, d.name, declared);
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
      for (const p of agencyProblems(probe, this.#c.settings))
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
      const width = childWidth(this.#c.settings, parent);
      const room = 10 ** width - 1 - (await this.#c.store.lastOrdinal(parent));
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
    return this.#c.store.withWriter(`import ${importId} (${total} rows)`, async (w) => {
      await this.#rollbackAbandoned(actor, w);
      await this.#c.store.startImport({
        id: importId,
        actor,
        fileSha256,
        rows: total,
        startedAt: this.#c.now(),
      });
      const keepAlive = () => Promise.all([w.renew(), this.#c.store.heartbeatImport(importId)]);
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
        const parents = await this.#c.store.findMany([...plan.perParent.keys()]);
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
        const before = await this.#c.store.findMany(predecessors.filter((p) => !newCodes.has(p)));
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
        const taken = await this.#c.store.reserveCodes(explicit, importId);
        if (taken.size)
          throw new HubError(
            'CONFLICT',
            `code(s) ${[...taken].slice(0, 10).join(', ')} were issued meanwhile; nothing was imported`,
          );
        let assigned = 0;
        for (const [parent, ds] of plan.perParent) {
          const a = await assignCodes(this.#c, parent, ds.length, importId);
          assignedCodes.push({ parent, codes: a.codes, ordinals: a.ordinals });
          ds.forEach((d, i) => {
            d.code = a.codes[i]!.code;
            d.legacyCode = a.codes[i]!.legacyCode;
          });
          assigned += ds.length;
          opts.onProgress?.({ phase: 'assign', done: assigned, total: total });
        }
        const from = await w.versions(total + predecessors.length);
        await this.#c.store.saveUndo(
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
          await this.#c.store.insertAgencies(created.slice(i, i + IMPORT_BATCH), importId);
          await keepAlive();
          opts.onProgress?.({ phase: 'write', done: Math.min(i + IMPORT_BATCH, created.length), total });
        }
        const closed: { before: Agency | null; after: Agency }[] = [];
        for (const [i, p] of predecessors.entries()) {
          const heirs = plan.predecessorOf.get(p)!;
          // Closed when the first of its successors takes effect.
          const at = new Date(Math.min(...heirs.map((d) => (d.validFrom ?? plan.defaultFrom).getTime())));
          const c = await closeWith(
            this.#c,
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
        await this.#c.store.saveImportRecords(importId, createdViews);
        await this.#c.audit.append({
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
          await this.#c.audit.append({
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
        await this.#c.store.finishImport(importId, 'done', { created: created.length });
        await this.#c.store.clearUndo(importId);
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
            await giveBack(this.#c, a.parent, a.codes, a.ordinals, importId);
        await this.#rollback(actor, importId, (err as Error).message, w);
        throw err;
      }
    });
  }

  async #rollback(actor: string, importId: string, reason: string, w: DirectoryWriter) {
    const undone = await this.#c.store.rollbackImport(importId, w);
    await this.#c.store.finishImport(importId, 'rolled-back', { error: reason });
    await this.#c.store.clearUndo(importId);
    await this.#c.audit.append({
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
    for (const job of await this.#c.store.staleImports(new Date(8.64e15)))
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
    const staleBefore = new Date(this.#c.now().getTime() - this.#c.settings.versionLeaseMs);
    const abandoned = await this.#c.store.staleImports(staleBefore);
    const { stalled } = await this.#c.store.watermark();
    if (abandoned.length === 0 && !stalled) return [];
    try {
      return await this.#c.store.withWriter('recovery', (w) => this.#rollbackAbandoned(actor, w), waitMs);
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
