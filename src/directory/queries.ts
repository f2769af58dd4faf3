/**
 * Reads of the directory (issue 3): a unit with its routing, search, the change feed, export, and
 * the code a registration would be given now (read only: nothing is reserved).
 */
import { normalizeCode } from '../domain/codes.ts';
import { HubError } from '../domain/errors.ts';
import type { AgencySearch } from '../domain/ports.ts';
import type { Agency, Block, RoutingOutcome } from '../domain/types.ts';
import { foldVietnamese } from '../domain/text.ts';
import { peekCodes } from './codes.ts';
import { routeRecipients } from './routing.ts';
import { parentUseProblems, parseBlock, resolveParent, type DirectoryContext } from './shared.ts';
import { BLOCKS, assignableParentProblem } from './validation.ts';

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

const DEFAULT_PAGE = 50;

export class DirectoryQueries {
  readonly #c: DirectoryContext;
  readonly #recover: () => Promise<unknown>;

  /** `recover` frees a change feed held by a dead writer (import.ts: recoverInterruptedImports). */
  constructor(ctx: DirectoryContext, recover: () => Promise<unknown>) {
    this.#c = ctx;
    this.#recover = recover;
  }

  /** By canonical or legacy code, with what routing does with documents addressed to it. */
  async get(rawCode: string): Promise<{ agency: Agency; routing: RoutingOutcome }> {
    const code = normalizeCode(rawCode);
    const agency = await this.#c.store.findByCode(code);
    if (!agency) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
    const [routing] = await routeRecipients(this.#c.store, [code]);
    return { agency, routing: routing! };
  }

  async search(input: SearchInput): Promise<{ items: Agency[]; next?: string }> {
    const limit = input.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > this.#c.settings.maxPageSize)
      throw new HubError(
        'VALIDATION_FAILED',
        `limit must be an integer from 1 to ${this.#c.settings.maxPageSize}`,
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
    const items = await this.#c.store.search(q);
    return items.length === limit ? { items, next: items.at(-1)!.code } : { items };
  }

  /** The change feed: agencies changed after version `since`, oldest change first. */
  async changes(
    since: number,
    limit = DEFAULT_PAGE * 4,
  ): Promise<{ items: Agency[]; next: number; more: boolean; watermark: number }> {
    if (!Number.isInteger(since) || since < 0)
      throw new HubError('VALIDATION_FAILED', 'since must be a non-negative integer version');
    if (!Number.isInteger(limit) || limit < 1 || limit > this.#c.settings.maxPageSize)
      throw new HubError(
        'VALIDATION_FAILED',
        `limit must be an integer from 1 to ${this.#c.settings.maxPageSize}`,
      );
    let feed = await this.#c.store.changes(since, limit);
    if (feed.stalled) {
      // A writer died holding the feed: free it (rolling back its import, if any), then read again.
      await this.#recover();
      feed = await this.#c.store.changes(since, limit);
    }
    const { items, watermark } = feed;
    const next = items.at(-1)?.version ?? since;
    return { items, next, more: items.length === limit, watermark };
  }

  exportAll(): AsyncIterable<Agency> {
    return this.#c.store.exportAll();
  }

  /** The next `n` codes a registration under `parent` would get (codes.ts: read only). */
  peekCodes(parent: string, n: number): Promise<string[]> {
    return peekCodes(this.#c, parent, n);
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
    const parent = await resolveParent(this.#c, input);
    if (!parent) return null;
    const problems = [...parentUseProblems(parent, input.block)];
    const ap = assignableParentProblem(parent.code);
    if (ap) problems.push(ap);
    if (problems.length) throw new HubError('VALIDATION_FAILED', problems.join('; '), { problems });
    const [code] = await peekCodes(this.#c, parent.code, 1);
    return code ? { parent: parent.code, code } : null;
  }
}
