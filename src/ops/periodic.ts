/** A periodic job: runs now and then every interval, never overlapping itself; stop() waits for the run in flight. */
import type { Logger } from '../observability/logger.ts';

export class PeriodicJob {
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #fn: () => Promise<unknown>;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(name: string, intervalMs: number, fn: () => Promise<unknown>, log: Logger) {
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#fn = fn;
    this.#log = log;
  }

  start(delayMs = 0): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.#fn()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.#log.warn({ job: this.#name, err: (err as Error).message }, 'periodic job failed'),
        )
        .finally(() => {
          this.#running = null;
          if (!this.#stopped) {
            this.#timer = setTimeout(tick, this.#intervalMs);
            this.#timer.unref();
          }
        });
    };
    this.#timer = setTimeout(tick, delayMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
