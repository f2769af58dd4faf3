/** Runs hubctl as a child process (the real CLI entry point), for CLI tests. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { PROJECT_ROOT } from '../../src/config.ts';
import type { MongoStores } from '../../src/store/stores.ts';
import { createUserServices } from '../../src/users/accounts.ts';
import { openUserStores } from '../../src/store/user-store.ts';

/** The development administrator (config/seed-users.json), seeded in every test hub's database. */
export const TEST_OPERATOR = { username: 'admin', password: 'DEV-ONLY-admin-password' } as const;

const passwordDirs = new Set<string>();

/** A file holding a password (HUBCTL_PASSWORD_FILE), in a directory of this process. */
export function passwordFile(password: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hubctl-operator-'));
  if (passwordDirs.size === 0)
    process.once('exit', () => {
      for (const d of passwordDirs) rmSync(d, { recursive: true, force: true });
    });
  passwordDirs.add(dir);
  const file = path.join(dir, 'password');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}

/**
 * The environment that makes hubctl act as the test administrator (issue 23: mutating admin
 * commands need an authenticated hub user). Given to every hubctl run by these helpers.
 */
export const OPERATOR_ENV: Readonly<Record<string, string>> = {
  HUBCTL_USER: TEST_OPERATOR.username,
  HUBCTL_PASSWORD_FILE: passwordFile(TEST_OPERATOR.password),
};

/** Creates the test administrator in a database no hub seeded (e.g. openTestDirectory's). */
export async function addTestOperator(
  mongo: Connection,
  stores: Pick<MongoStores, 'agencies' | 'audit'>,
): Promise<void> {
  const { users } = createUserServices(await openUserStores(mongo), stores);
  if (!(await users.get(TEST_OPERATOR.username)))
    await users.create('test', { ...TEST_OPERATOR, role: 'admin' });
}

const entry = ['--disable-warning=ExperimentalWarning', path.join(PROJECT_ROOT, 'src/cli/hubctl.ts')];

export function hubctl(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [...entry, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent', ...OPERATOR_ENV },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * The same, without blocking the event loop: needed when the hub under test runs in this process.
 * `input` is written to standard input (which is closed in any case).
 */
export function hubctlAsync(
  args: string[],
  env: Record<string, string> = {},
  input = '',
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...OPERATOR_ENV, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
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
