#!/usr/bin/env node
/**
 * Runs test files in a shuffled, reproducible order, and the tests inside each file shuffled too, to
 * find tests that depend on their order (issue 21). Usage (npm run test:shuffle -- …):
 *
 *   npm run test:shuffle                                # test/**\/*.test.ts minus test/cluster, new seed
 *   npm run test:shuffle -- --seed 1234                 # the same order again
 *   npm run test:shuffle -- 'test/unit/**\/*.test.ts' test/e2e/slice.test.ts
 *   npm run test:shuffle -- --per-file                  # each file in its own mocha process
 *   npm run test:shuffle -- --files-only                # keep the order of the tests inside files
 *   npm run test:shuffle -- --seed 1234 --shard 2/4     # the 2nd quarter of that shuffled order
 *   npm run test:shuffle -- --seed 1234 --list          # print the files in order, run nothing
 *
 * The seed is printed first; a failure is reproduced with the same seed and the same files. All files
 * go to one mocha invocation in the shuffled order (mocha keeps the order of explicit files: --sort is
 * off), unless --per-file. Within files, test/support/shuffle-hooks.ts (a root hook plugin) shuffles
 * each suite's tests and nested suites with the same seed.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom, shuffle } from '../test/support/shuffle.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
};
const option = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};

const perFile = flag('--per-file');
const filesOnly = flag('--files-only');
const listOnly = flag('--list');
const seedArg = option('--seed');
const shardArg = option('--shard');
const seed = seedArg !== undefined ? Number(seedArg) : Math.floor(Math.random() * 2 ** 31);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${seedArg}`);
const patterns = args.length > 0 ? args : ['test/**/*.test.ts'];

const files = [...new Set(patterns.flatMap((p) => globSync(p, { cwd: root })))]
  .filter((f) => !f.startsWith(`test${path.sep}cluster${path.sep}`))
  .sort();
if (files.length === 0) throw new Error(`no test file matches ${patterns.join(' ')}`);
shuffle(files, seededRandom(seed));

// --shard i/n: the i-th of n consecutive slices of the shuffled order, so that the n shards run one
// after another (each its own mocha process) are the same order as the whole run, cut in n.
let shardLabel = '';
if (shardArg !== undefined) {
  const m = /^(\d+)\/(\d+)$/.exec(shardArg);
  const [i, n] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || n < 1 || i < 1 || i > n) throw new Error(`--shard must be i/n with 1 <= i <= n, got ${shardArg}`);
  const total = files.length;
  files.splice(0, total, ...files.slice(Math.floor(((i - 1) * total) / n), Math.floor((i * total) / n)));
  if (files.length === 0) throw new Error(`shard ${shardArg} of ${total} files is empty`);
  shardLabel = ` --shard ${i}/${n}`;
}

console.log(
  `shuffle seed ${seed}${shardLabel} (${files.length} files${filesOnly ? ', tests in file order' : ''})`,
);
console.log(
  `reproduce: npm run test:shuffle -- --seed ${seed}${shardLabel}${perFile ? ' --per-file' : ''}${filesOnly ? ' --files-only' : ''} ${patterns.map((p) => `'${p}'`).join(' ')}`,
);
for (const f of files) console.log(`  ${f}`);
if (listOnly) process.exit(0);

const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const hooks = filesOnly ? [] : ['--require', 'test/support/shuffle-hooks.ts'];
const env = { ...process.env, SHUFFLE_SEED: String(seed) };
const run = (list) =>
  spawnSync(process.execPath, [mocha, ...hooks, ...list], { cwd: root, env, stdio: 'inherit' }).status ?? 1;

let failed = 0;
if (perFile) {
  for (const f of files) if (run([f]) !== 0) failed++;
  console.log(`shuffle seed ${seed}${shardLabel}: ${failed} of ${files.length} files failed`);
} else {
  failed = run(files);
  console.log(`shuffle seed ${seed}${shardLabel}: mocha exited with ${failed}`);
}
process.exit(failed === 0 ? 0 : 1);
