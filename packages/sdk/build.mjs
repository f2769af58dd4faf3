// Builds the SDK from the hub's own sources (src/index.ts and what it imports; no copy of them):
// ESM and CommonJS JavaScript with type declarations, into <out>/esm and <out>/cjs.
// Usage: node build.mjs [outDir]   (default: dist next to this file)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, 'dist'));
const tsc = path.join(here, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');
rmSync(out, { recursive: true, force: true });
for (const [format, type] of [
  ['esm', 'module'],
  ['cjs', 'commonjs'],
]) {
  const dir = path.join(out, format);
  execFileSync(process.execPath, [tsc, '-p', path.join(here, `tsconfig.${format}.json`), '--outDir', dir], {
    stdio: 'inherit',
  });
  mkdirSync(dir, { recursive: true });
  // Each half says what it is, whatever the package's own "type".
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ type }, null, 2)}\n`);
  // tsc rewrites relative '.ts' specifiers in JavaScript only: declarations get the same '.js' ones.
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) =>
    n.endsWith('.d.ts'),
  )) {
    const file = path.join(dir, f);
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(/(['"])(\.{1,2}\/[^'"]+)\.ts\1/g, '$1$2.js$1');
    if (fixed !== text) writeFileSync(file, fixed);
  }
}
