/**
 * The agency directory (issue 3): one facade over its parts, so that routes, web pages and the CLI
 * see one service.
 *
 * - queries.ts: a unit with its routing, search, the change feed, export, code previews;
 * - registration.ts: registering, closing and merging, updates, corrections of successors;
 * - codes.ts: code assignment (the register of issued codes, per-parent counters);
 * - import.ts: bulk CSV import with its journal, rollback and recovery;
 * - shared.ts: what they share (lookups of parents and names, checks, the audit form).
 *
 * Every change runs under the store's single writer (DirectoryStore.withWriter), which also keeps
 * change-feed versions in the order their writes complete.
 */
import type { AuditLog, DirectoryStore } from '../domain/ports.ts';
import type { Agency, Block, RoutingOutcome } from '../domain/types.ts';
import { DirectoryImport, type ImportOptions, type ImportResult } from './import.ts';
import { DirectoryQueries, type SearchInput } from './queries.ts';
import { Registration, type CloseInput, type RegisterInput, type UpdateInput } from './registration.ts';
import type { DirectorySettings } from './settings.ts';
import type { DirectoryContext } from './shared.ts';

export { CORRECTION_MODES, type PredecessorCorrection } from './shared.ts';
export type { CloseInput, RegisterInput, UpdateInput } from './registration.ts';
export type { SearchInput } from './queries.ts';
export type { ImportOptions, ImportProgress, ImportResult, RowError } from './import.ts';

export interface DirectoryServiceDeps {
  readonly store: DirectoryStore;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly settings: DirectorySettings;
  readonly now?: () => Date;
}

export class DirectoryService {
  readonly #ctx: DirectoryContext;
  readonly #queries: DirectoryQueries;
  readonly #registration: Registration;
  readonly #import: DirectoryImport;

  constructor(deps: DirectoryServiceDeps) {
    this.#ctx = { ...deps, now: deps.now ?? (() => new Date()) };
    this.#import = new DirectoryImport(this.#ctx);
    this.#queries = new DirectoryQueries(this.#ctx, () =>
      this.#import.recoverInterruptedImports('hub', 1_000),
    );
    this.#registration = new Registration(this.#ctx);
  }

  get settings(): DirectorySettings {
    return this.#ctx.settings;
  }

  // ---- reads (queries.ts) --------------------------------------------------------------------

  get(rawCode: string): Promise<{ agency: Agency; routing: RoutingOutcome }> {
    return this.#queries.get(rawCode);
  }

  search(input: SearchInput): Promise<{ items: Agency[]; next?: string }> {
    return this.#queries.search(input);
  }

  changes(
    since: number,
    limit?: number,
  ): Promise<{ items: Agency[]; next: number; more: boolean; watermark: number }> {
    return this.#queries.changes(since, limit);
  }

  exportAll(): AsyncIterable<Agency> {
    return this.#queries.exportAll();
  }

  /** The next `n` codes a registration under `parent` would get (read only). */
  peekCodes(parent: string, n: number): Promise<string[]> {
    return this.#queries.peekCodes(parent, n);
  }

  previewCode(input: {
    parentCode?: string;
    province?: string;
    block: Block;
  }): Promise<{ parent: string; code: string } | null> {
    return this.#queries.previewCode(input);
  }

  // ---- changes (registration.ts) -------------------------------------------------------------

  register(actor: string, input: RegisterInput): Promise<{ agency: Agency; closed: Agency[] }> {
    return this.#registration.register(actor, input);
  }

  close(actor: string, rawCode: string, input: CloseInput): Promise<Agency> {
    return this.#registration.close(actor, rawCode, input);
  }

  update(actor: string, rawCode: string, input: UpdateInput): Promise<Agency> {
    return this.#registration.update(actor, rawCode, input);
  }

  // ---- bulk import (import.ts) ---------------------------------------------------------------

  importCsv(actor: string, text: string, opts?: ImportOptions): Promise<ImportResult> {
    return this.#import.importCsv(actor, text, opts);
  }

  recoverInterruptedImports(
    actor?: string,
    waitMs?: number,
  ): Promise<{ importId: string; restored: number; removed: number }[]> {
    return this.#import.recoverInterruptedImports(actor, waitMs);
  }
}
