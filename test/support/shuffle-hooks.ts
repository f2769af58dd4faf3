/**
 * Mocha root hook plugin of scripts/shuffle-tests.mjs: before anything runs, shuffles the tests of
 * every suite and the order of sibling suites, with the seed in SHUFFLE_SEED (same seed, same order).
 * Hooks (before/after/beforeEach/afterEach) keep their place: only the order of `it`s changes. Suites
 * marked `inOrder(this)` (scenarios whose steps build on each other) are left as written.
 */
import type { Suite } from 'mocha';
import { isInOrder, seededRandom, shuffle } from './shuffle.ts';

function shuffleSuite(suite: Suite, random: () => number): void {
  if (isInOrder(suite)) return; // a scenario: its steps keep their order (inOrder in shuffle.ts)
  shuffle(suite.tests, random);
  shuffle(suite.suites, random);
  for (const s of suite.suites) shuffleSuite(s, random);
}

const seed = Number(process.env.SHUFFLE_SEED);

export const mochaHooks = {
  beforeAll(this: Mocha.Context) {
    if (!Number.isInteger(seed)) return;
    let root = this.test?.parent;
    while (root?.parent) root = root.parent;
    // The files stay in the order the script chose; the tests inside them and their nested suites move.
    if (root) for (const s of root.suites) shuffleSuite(s, seededRandom(seed));
  },
};
