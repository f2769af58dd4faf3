/**
 * hubctl users add|reset|disable|enable|list — accounts of the web UI (docs/ui.md), directly on
 * MongoDB like the other admin commands. A password is generated and printed once unless one is
 * given on standard input (--password-stdin); it never appears on the command line.
 */
import type { Command } from 'commander';
import type { UserService } from '../../users/service.ts';
import { openContext } from '../context.ts';
import { authenticateOperator } from '../identity.ts';

async function withUsers<T>(db: string | undefined, fn: (users: UserService) => Promise<T>): Promise<T> {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    const { users } = await ctx.services.accounts();
    return await fn(users);
  } finally {
    await ctx.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * The bootstrap path (docs/ui.md, docs/deployment.md): while no administrator account exists,
 * `users add --role admin` runs without a login and creates the first one (audited as
 * `hubctl:bootstrap`). Every other change needs an authenticated administrator.
 */
async function actorFor(
  users: UserService,
  o: { stdinTaken?: boolean; creatingRole?: string } = {},
): Promise<string> {
  if (o.creatingRole === 'admin' && !(await users.list()).some((u) => u.role === 'admin'))
    return 'hubctl:bootstrap';
  return authenticateOperator(users, o.stdinTaken ? { stdinTaken: true } : {});
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const users = program
    .command('users')
    .description('accounts of the web UI (clerks, administrators, auditors)');

  users
    .command('add <username>')
    .description('create an account; prints a generated password once unless --password-stdin')
    .requiredOption('--role <role>', 'admin | clerk | auditor')
    .option('--agency <code...>', 'agencies a clerk acts for (one or more codes)')
    .option('--name <displayName>', 'display name')
    .option('--password-stdin', 'read the password from standard input')
    .option('--db <name>', 'database name')
    .action(
      async (
        username: string,
        o: { role: string; agency?: string[]; name?: string; passwordStdin?: boolean; db?: string },
      ) => {
        const password = o.passwordStdin ? await readStdin() : undefined;
        const r = await withUsers(o.db, async (u) =>
          u.create(await actorFor(u, { stdinTaken: o.passwordStdin === true, creatingRole: o.role }), {
            username,
            role: o.role,
            agencies: (o.agency ?? []).flatMap((a) => a.split(',')).filter(Boolean),
            ...(o.name ? { displayName: o.name } : {}),
            ...(password !== undefined ? { password } : {}),
          }),
        );
        if (json())
          console.log(
            JSON.stringify({
              username: r.user.username,
              role: r.user.role,
              agencies: r.user.agencies,
              ...(r.generated ? { password: r.password } : {}),
            }),
          );
        else {
          console.log(
            `created ${r.user.username} (${r.user.role}${r.user.agencies.length ? `: ${r.user.agencies.join(', ')}` : ''})`,
          );
          if (r.generated) console.log(`password (shown once): ${r.password}`);
        }
      },
    );

  users
    .command('reset <username>')
    .description('set a new password (generated unless --password-stdin) and end the user’s sessions')
    .option('--password-stdin', 'read the password from standard input')
    .option('--db <name>', 'database name')
    .action(async (username: string, o: { passwordStdin?: boolean; db?: string }) => {
      const password = o.passwordStdin ? await readStdin() : undefined;
      const r = await withUsers(o.db, async (u) =>
        u.resetPassword(await actorFor(u, { stdinTaken: o.passwordStdin === true }), username, password),
      );
      if (json()) console.log(JSON.stringify({ username, ...(r.generated ? { password: r.password } : {}) }));
      else
        console.log(
          r.generated ? `password of ${username} (shown once): ${r.password}` : `password of ${username} set`,
        );
    });

  for (const [name, active] of [
    ['disable', false],
    ['enable', true],
  ] as const)
    users
      .command(`${name} <username>`)
      .description(active ? 'allow the account to log in again' : 'lock the account and end its sessions')
      .option('--db <name>', 'database name')
      .action(async (username: string, o: { db?: string }) => {
        const u = await withUsers(o.db, async (s) => s.setActive(await actorFor(s), username, active));
        console.log(
          json() ? JSON.stringify({ username: u.username, active: u.active }) : `${u.username} ${name}d`,
        );
      });

  users
    .command('list')
    .description('accounts, their roles, agencies and last login')
    .option('--db <name>', 'database name')
    .action(async (o: { db?: string }) => {
      const rows = await withUsers(o.db, (u) => u.list());
      if (json()) console.log(JSON.stringify(rows));
      else if (rows.length === 0) console.log('no users');
      else
        for (const r of rows)
          console.log(
            `${r.username.padEnd(20)} ${r.role.padEnd(8)} ${r.active ? 'active  ' : 'DISABLED'} ${r.agencies.join(',').padEnd(24)} last login ${r.lastLoginAt?.toISOString() ?? '-'}`,
          );
    });
}
