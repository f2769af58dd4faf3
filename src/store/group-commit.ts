/**
 * Group commit: requests that arrive while a write of the same kind is in flight are written
 * together by the next write, in one statement. Nothing waits for a timer: the first request goes
 * out alone at once; under load each statement carries what queued behind the previous one. Every
 * request is answered only once its write has returned, with its own result or error.
 *
 * Why: on FerretDB's SQLite backend every statement is a transaction and writes run one at a time,
 * and on both stores each statement costs a round trip and the driver's per-command work on the
 * hub's main thread (docs/benchmarks.md); a multi-document insert of n records costs little more
 * than one.
 */
export class GroupCommit<T, R> {
  readonly #flush: (requests: readonly T[]) => Promise<readonly (R | Error)[]>;
  readonly #size: (request: T) => number;
  readonly #maxSize: number;
  #queue: { request: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #busy = false;
  /** Statements issued and requests carried (tests and diagnostics). */
  statements = 0;
  requests = 0;

  /**
   * @param flush writes the requests in one statement and answers each, in order: its result or an
   *   Error for that request alone. A thrown error fails every request of the group.
   * @param opts.maxSize how much one statement may carry (in `size` units, default: requests).
   */
  constructor(
    flush: (requests: readonly T[]) => Promise<readonly (R | Error)[]>,
    opts: { maxSize?: number; size?: (request: T) => number } = {},
  ) {
    this.#flush = flush;
    this.#size = opts.size ?? (() => 1);
    this.#maxSize = opts.maxSize ?? 500;
  }

  run(request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        let size = 0;
        let n = 0;
        while (n < this.#queue.length) {
          const s = this.#size(this.#queue[n]!.request);
          if (n > 0 && size + s > this.#maxSize) break;
          size += s;
          n++;
        }
        const group = this.#queue.splice(0, n);
        this.statements++;
        this.requests += group.length;
        try {
          const results = await this.#flush(group.map((g) => g.request));
          if (results.length !== group.length)
            throw new Error('group commit: one result per request expected');
          group.forEach((g, i) => {
            const r = results[i]!;
            if (r instanceof Error) g.reject(r);
            else g.resolve(r);
          });
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}
