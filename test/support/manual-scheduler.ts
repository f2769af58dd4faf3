/**
 * A clock and timers that move only when the test says so (src/ops/periodic.ts `Scheduler`), for
 * tests of timed behaviour without sleeps: `fireDue()` jumps the clock to the earliest timer and runs
 * every timer due then; `until(n)` waits (on events, not time) until `n` timers are pending again,
 * i.e. until the jobs finished their asynchronous work and scheduled their next wake-up.
 */
import type { Scheduler } from '../../src/ops/periodic.ts';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class ManualScheduler implements Scheduler {
  #now: number;
  #next = 1;
  #timers: Timer[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.push({ id, at: this.#now + Math.max(0, ms), fn });
    this.#notify();
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
    this.#notify();
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Delay from now to the earliest timer (undefined when none). */
  get nextDelay(): number | undefined {
    const at = Math.min(...this.#timers.map((t) => t.at));
    return Number.isFinite(at) ? at - this.#now : undefined;
  }

  /** Moves the clock to the earliest timer and fires every timer due at that time. */
  fireDue(): void {
    if (this.#timers.length === 0) throw new Error('no timer pending');
    this.#now = Math.max(this.#now, Math.min(...this.#timers.map((t) => t.at)));
    const due = this.#timers.filter((t) => t.at <= this.#now);
    this.#timers = this.#timers.filter((t) => t.at > this.#now);
    for (const t of due) t.fn();
  }

  /** Resolves once exactly `n` timers are pending. */
  until(n: number): Promise<void> {
    if (this.#timers.length === n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  #notify(): void {
    const ready = this.#waiters.filter((w) => w.n === this.#timers.length);
    this.#waiters = this.#waiters.filter((w) => w.n !== this.#timers.length);
    for (const w of ready) w.resolve();
  }
}
