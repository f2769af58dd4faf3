/** Runs hubctl as a child process (the real CLI entry point), for CLI tests. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';

export function hubctl(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', path.join(PROJECT_ROOT, 'src/cli/hubctl.ts'), ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same, without blocking the event loop: needed when the hub under test runs in this process. */
export function hubctlAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', path.join(PROJECT_ROOT, 'src/cli/hubctl.ts'), ...args],
      { env: { ...process.env, LOG_LEVEL: 'silent', ...env } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * hubctl connection options acting as the development system of an agency (`dms-<code>`); the secret in
 * a file (hubctl refuses secrets on the command line).
 */
let secretDir: string | undefined;
export const devSystemArgs = (hubUrl: string, code: string): string[] => {
  secretDir ??= mkdtempSync(path.join(tmpdir(), 'hubctl-secret-'));
  const file = path.join(secretDir, code);
  writeFileSync(file, `DEV-ONLY-secret-${code}\n`, { mode: 0o600 });
  return ['--hub', hubUrl, '--system', `dms-${code}`, '--secret-file', file];
};
