/**
 * Group commit: requests that arrive while writes of the same kind are in flight are written
 * together by the next write, in one statement. Nothing waits for a timer: the first request goes
 * out alone at once; under load each statement carries what queued behind the previous ones. Every
 * request is answered only once its write has returned, with its own result or error.
 *
 * Up to `inFlight` statements of one pipeline are out at once (default `groupCommitInFlight()`,
 * config `mongodb.groupCommitInFlight`, 1): more than one lets the store's round trip and its writer
 * overlap, but each freed slot takes what queued so far, so statements carry fewer requests. On
 * FerretDB's SQLite backend (one writer) two or four in flight cost 1.6–3 times the write statements
 * for the worker's writes at fan-out 20 and brought no steady gain in latency on a shared two-core
 * machine (docs/benchmarks.md "Group commit lanes and the request ledger", bench/group-commit.ts); a
 * store with concurrent writers (MongoDB) may gain from a few. A pipeline whose order matters across
 * statements (the audit chain) passes `inFlight: 1` whatever the setting; one whose requests must not
 * overtake earlier requests for the same record passes `key`: a request whose key is carried by a
 * statement in flight waits for it.
 *
 * Why: on FerretDB's SQLite backend every statement is a transaction and writes run one at a time,
 * and on both stores each statement costs a round trip and the driver's per-command work on the
 * hub's main thread (docs/benchmarks.md); a multi-document insert of n records costs little more
 * than one.
 */

/** Statements in flight per pipeline unless one says otherwise (set once at start from config). */
let defaultInFlight = 1;

/** The default bound on statements in flight per pipeline (config `mongodb.groupCommitInFlight`). */
export function groupCommitInFlight(): number {
  return defaultInFlight;
}

/** Sets the default for pipelines created afterwards and those that did not choose their own. */
export function setGroupCommitInFlight(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`group commit: inFlight must be ≥ 1, not ${k}`);
  defaultInFlight = k;
}

interface Pending<T, R> {
  request: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<T, R> {
  readonly #flush: (requests: readonly T[]) => Promise<readonly (R | Error)[]>;
  readonly #size: (request: T) => number;
  readonly #maxSize: number;
  readonly #inFlight: number | undefined;
  readonly #key: ((request: T) => unknown) | undefined;
  #queue: Pending<T, R>[] = [];
  /** Statements out now, and the keys they carry (with `key`). */
  #out = 0;
  readonly #busyKeys = new Map<unknown, number>();
  /** Statements issued and requests carried (tests and diagnostics). */
  statements = 0;
  requests = 0;
  /** The most statements this pipeline had out at once (tests and diagnostics). */
  maxOut = 0;

  /**
   * @param flush writes the requests in one statement and answers each, in order: its result or an
   *   Error for that request alone. A thrown error fails every request of the group.
   * @param opts.maxSize how much one statement may carry (in `size` units, default: requests).
   * @param opts.inFlight statements out at once (default `groupCommitInFlight()`, read per statement).
   * @param opts.key requests with equal keys never run in two statements at once, and keep their order.
   */
  constructor(
    flush: (requests: readonly T[]) => Promise<readonly (R | Error)[]>,
    opts: {
      maxSize?: number;
      size?: (request: T) => number;
      inFlight?: number;
      key?: (request: T) => unknown;
    } = {},
  ) {
    if (opts.inFlight !== undefined && (!Number.isInteger(opts.inFlight) || opts.inFlight < 1))
      throw new RangeError(`group commit: inFlight must be ≥ 1, not ${opts.inFlight}`);
    this.#flush = flush;
    this.#size = opts.size ?? (() => 1);
    this.#maxSize = opts.maxSize ?? 500;
    this.#inFlight = opts.inFlight;
    this.#key = opts.key;
  }

  run(request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#pump();
    });
  }

  /** Sends statements while a slot is free and something can go. */
  #pump(): void {
    const limit = this.#inFlight ?? defaultInFlight;
    while (this.#out < limit && this.#queue.length > 0) {
      const group = this.#take();
      if (group.length === 0) return; // everything queued waits for a key in flight
      void this.#send(group);
    }
  }

  /** The next group, in queue order: up to maxSize, skipping (and keeping queued) requests whose key is out. */
  #take(): Pending<T, R>[] {
    const group: Pending<T, R>[] = [];
    const rest: Pending<T, R>[] = [];
    let size = 0;
    let full = false;
    for (const p of this.#queue) {
      if (full || (this.#key && this.#busyKeys.has(this.#key(p.request)))) {
        rest.push(p);
        continue;
      }
      const s = this.#size(p.request);
      if (group.length > 0 && size + s > this.#maxSize) {
        full = true;
        rest.push(p);
        continue;
      }
      size += s;
      group.push(p);
    }
    this.#queue = rest;
    return group;
  }

  async #send(group: Pending<T, R>[]): Promise<void> {
    const keys = this.#key ? group.map((g) => this.#key!(g.request)) : [];
    for (const k of keys) this.#busyKeys.set(k, (this.#busyKeys.get(k) ?? 0) + 1);
    this.#out++;
    this.maxOut = Math.max(this.maxOut, this.#out);
    this.statements++;
    this.requests += group.length;
    try {
      const results = await this.#flush(group.map((g) => g.request));
      if (results.length !== group.length) throw new Error('group commit: one result per request expected');
      group.forEach((g, i) => {
        const r = results[i]!;
        if (r instanceof Error) g.reject(r);
        else g.resolve(r);
      });
    } catch (err) {
      for (const g of group) g.reject(err);
    } finally {
      this.#out--;
      for (const k of keys) {
        const n = this.#busyKeys.get(k)! - 1;
        if (n === 0) this.#busyKeys.delete(k);
        else this.#busyKeys.set(k, n);
      }
      this.#pump();
    }
  }
}
