/**
 * Bulk imports started from the UI run in the background of the api process that received the
 * file; their progress and outcome are kept in MongoDB (ui_jobs), so any api process can answer the
 * page that polls it. If the process dies mid-import, the directory rolls the import back at the
 * next start (DirectoryService.recoverInterruptedImports) and the job shows as stalled.
 */
import { isHubError } from '../domain/errors.ts';
import type { DirectoryService } from '../directory/service.ts';
import type { Logger } from '../observability/logger.ts';
import type { UiJob, UiJobStore } from '../domain/ports/users.ts';

const MAX_RESULT_CSV = 8 * 1024 * 1024;
/** Rows of a dry run's code preview kept for the page. */
export const PREVIEW_ROWS = 1000;
/** A running job whose heartbeat is older than this belongs to a process that died. */
export const STALLED_AFTER_MS = 120_000;

export class ImportJobs {
  readonly #directory: DirectoryService;
  readonly #jobs: UiJobStore;
  readonly #log: Logger;
  readonly #running = new Set<Promise<void>>();

  constructor(directory: DirectoryService, jobs: UiJobStore, log: Logger) {
    this.#directory = directory;
    this.#jobs = jobs;
    this.#log = log;
  }

  async start(actor: string, csv: string, opts: { dryRun: boolean; validFrom?: Date }): Promise<string> {
    const id = await this.#jobs.start('directory-import', actor, 0);
    const run = this.#run(id, actor, csv, opts).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return id;
  }

  async #run(
    id: string,
    actor: string,
    csv: string,
    opts: { dryRun: boolean; validFrom?: Date },
  ): Promise<void> {
    let writes: Promise<unknown> = Promise.resolve();
    let last = 0;
    let lastPhase = '';
    try {
      const result = await this.#directory.importCsv(actor, csv, {
        dryRun: opts.dryRun,
        ...(opts.validFrom ? { validFrom: opts.validFrom } : {}),
        onProgress: (p) => {
          const now = Date.now();
          if (now - last < 250 && p.phase === lastPhase && p.done !== p.total) return;
          last = now;
          lastPhase = p.phase;
          writes = writes
            .then(() => this.#jobs.progress(id, { phase: p.phase, done: p.done, total: p.total }))
            .catch(() => undefined);
        },
      });
      await writes;
      await this.#jobs.finish(id, {
        state: 'done',
        result: {
          importId: result.importId,
          dryRun: result.dryRun,
          rows: result.rows,
          created: result.created.length,
          createdRows: result.created
            .slice(0, 200)
            .map((c) => ({ line: c.line, code: c.code, name: c.name, parent: c.parent })),
          closed: result.closed.length,
          closedRows: result.closed.slice(0, 200),
          splits: result.splits.slice(0, 200),
          // A dry run: the codes each row would get now (peeked, none reserved).
          previewRows: result.preview
            .slice(0, PREVIEW_ROWS)
            .map((c) => ({ line: c.line, code: c.code, name: c.name, parent: c.parent })),
        },
        ...(result.resultCsv.length <= MAX_RESULT_CSV ? { resultCsv: result.resultCsv } : {}),
      });
    } catch (err) {
      await writes;
      const error = isHubError(err)
        ? {
            code: err.code,
            message: err.message,
            messageVi: err.messageVi,
            ...(Array.isArray(err.details?.errors)
              ? {
                  errors: (err.details.errors as { line: number; reason: string; code?: string }[])
                    .slice(0, 500)
                    .map((e) => ({ line: e.line, reason: e.reason, ...(e.code ? { code: e.code } : {}) })),
                }
              : {}),
          }
        : { code: 'INTERNAL', message: (err as Error).message };
      if (!isHubError(err)) this.#log.error({ err, job: id }, 'directory import from the UI failed');
      await this.#jobs
        .finish(id, { state: 'failed', error })
        .catch((e: unknown) =>
          this.#log.warn({ err: (e as Error).message, job: id }, 'could not record the import outcome'),
        );
    }
  }

  get(id: string): Promise<UiJob | null> {
    return this.#jobs.get(id);
  }

  recent(limit = 10): Promise<UiJob[]> {
    return this.#jobs.recent('directory-import', limit);
  }

  /** Waits for imports of this process to finish (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }
}

export function isStalled(job: UiJob, now = Date.now()): boolean {
  return job.state === 'running' && now - new Date(job.heartbeatAt).getTime() > STALLED_AFTER_MS;
}
