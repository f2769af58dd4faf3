/** A seeded order for scripts/shuffle-tests.mjs and its root hook plugin (shuffle-hooks.ts). */
import type { Suite } from 'mocha';

const IN_ORDER = Symbol('in order');

/**
 * Marks a suite whose tests are the steps of one story (each builds on the one before): the shuffled
 * run keeps their order. Call it as `inOrder(this)` in a `describe(…, function () {…})`. Use it for
 * scenarios only; independent tests are shuffled.
 */
export function inOrder(suite: Suite): void {
  (suite as Suite & { [IN_ORDER]?: true })[IN_ORDER] = true;
}

export function isInOrder(suite: Suite): boolean {
  return (suite as Suite & { [IN_ORDER]?: true })[IN_ORDER] === true;
}

/** mulberry32: a small seeded generator, enough for an order. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates, in place. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
