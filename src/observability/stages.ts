/**
 * Where a request's time goes, stage by stage, into a histogram labelled by stage
 * (`hub_submission_stage_seconds`, metrics.ts): `timeStages(histogram, fn)` runs `fn` with a clock,
 * and `stage(name)`, called anywhere in the calls `fn` makes, records the time since the previous
 * mark under `name`. Outside a timed call it does nothing. The clock follows the request through its
 * awaits (AsyncLocalStorage), so the stages need not be passed down as parameters; marks belong on
 * the request's own sequential path, not in branches running side by side.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Histogram } from 'prom-client';

interface Clock {
  readonly histogram: Histogram<'stage'>;
  readonly now: () => number;
  last: number;
}

const current = new AsyncLocalStorage<Clock>();

/** `now`: milliseconds of a monotonic clock (default `performance.now`; tests inject their own). */
export function timeStages<T>(
  histogram: Histogram<'stage'>,
  fn: () => Promise<T>,
  now: () => number = () => performance.now(),
): Promise<T> {
  return current.run({ histogram, now, last: now() }, fn);
}

export function stage(name: string): void {
  const clock = current.getStore();
  if (!clock) return;
  const now = clock.now();
  clock.histogram.observe({ stage: name }, (now - clock.last) / 1000);
  clock.last = now;
}
