#!/usr/bin/env node
// Launcher: runs the TypeScript CLI on Node 24 (type stripping).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
const here = path.dirname(fileURLToPath(import.meta.url));
const r = spawnSync(
  process.execPath,
  [
    '--disable-warning=ExperimentalWarning',
    path.join(here, '../src/cli/hubctl.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
