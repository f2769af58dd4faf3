/**
 * A periodic job: runs now and then every interval, never overlapping itself; stop() waits for the
 * run in flight.
 *
 * With a `lease` (src/store/lease-store.ts) the job runs once per period across every process that
 * shares the lease store: periods are aligned on the clock (period k = [k·interval, (k+1)·interval)),
 * each process wakes up once per period, and only the one that wins that period's lease (a unique
 * insert) runs the job. If the lease store is unreachable the period is retried shortly, never run
 * without the lease. A winner that dies mid-run loses that period's run; the next period runs as usual.
 * Without a lease the job runs in every process (per-process work such as reloading CRLs).
 */
import type { Logger } from '../observability/logger.ts';

import type { PeriodLease } from '../domain/ports/leases.ts';

export type { PeriodLease };

/** Timers and the clock a job runs by: the real ones by default, a manual one in tests. */
export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's clock and timers; the timers do not keep the process alive. */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PeriodicJobOptions {
  /** Run once per period across the cluster instead of in every process. */
  readonly lease?: PeriodLease;
  /** Recorded on the leases this process wins. */
  readonly holder?: string;
  /** Called when another process holds the period (e.g. to clear a per-process copy of a gauge). */
  readonly onSkip?: () => void;
  /** Clock and timers (tests); default the real ones. */
  readonly scheduler?: Scheduler;
  /** Without a lease: the delay until the next run, asked after each run (default: the interval). */
  readonly nextDelayMs?: () => number;
}

/** How long to wait before retrying a period whose lease could not be asked for (store down). */
const LEASE_RETRY_MS = 5_000;

export class PeriodicJob {
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #fn: () => Promise<unknown>;
  readonly #log: Logger;
  readonly #o: PeriodicJobOptions;
  readonly #scheduler: Scheduler;
  #timer: unknown = null;
  #running: Promise<void> | null = null;
  #stopped = false;
  #lastPeriod = -1;
  #runs = 0;

  constructor(
    name: string,
    intervalMs: number,
    fn: () => Promise<unknown>,
    log: Logger,
    opts: PeriodicJobOptions = {},
  ) {
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#fn = fn;
    this.#log = log;
    this.#o = opts;
    this.#scheduler = opts.scheduler ?? realScheduler;
  }

  /** How many times this process ran the job. */
  get runs(): number {
    return this.#runs;
  }

  start(delayMs = 0): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.#tick()
        .catch((err: unknown) => {
          this.#log.warn({ job: this.#name, err: (err as Error).message }, 'periodic job failed');
          return this.#o.lease ? this.#untilNextPeriod() : this.#intervalMs;
        })
        .then((nextMs) => {
          this.#running = null;
          if (!this.#stopped) this.#timer = this.#scheduler.setTimeout(tick, nextMs);
        });
    };
    this.#timer = this.#scheduler.setTimeout(tick, delayMs);
  }

  /** One wake-up; returns the delay until the next one. */
  async #tick(): Promise<number> {
    const lease = this.#o.lease;
    if (!lease) {
      this.#runs++;
      await this.#fn();
      return this.#o.nextDelayMs?.() ?? this.#intervalMs;
    }
    const period = Math.floor(this.#scheduler.now() / this.#intervalMs) * this.#intervalMs;
    if (period !== this.#lastPeriod) {
      let won: boolean;
      try {
        won = await lease.acquire(this.#name, new Date(period), this.#o.holder ?? String(process.pid));
      } catch (err) {
        this.#log.warn(
          { job: this.#name, err: (err as Error).message, retryInMs: LEASE_RETRY_MS },
          'periodic job: lease store unavailable; period not run yet',
        );
        return Math.min(LEASE_RETRY_MS, this.#untilNextPeriod());
      }
      this.#lastPeriod = period;
      if (won) {
        this.#runs++;
        await this.#fn();
      } else {
        this.#o.onSkip?.();
      }
    }
    return this.#untilNextPeriod();
  }

  /** Just past the start of the next period (timers may fire a little early; the tick then re-waits). */
  #untilNextPeriod(): number {
    const now = this.#scheduler.now();
    const next = (Math.floor(now / this.#intervalMs) + 1) * this.#intervalMs;
    return Math.max(next - now, 0) + 10;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#scheduler.clearTimeout(this.#timer);
    await this.#running;
  }
}
