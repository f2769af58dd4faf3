/**
 * hubctl systems add|rotate|disable|enable|list — credentials of agency document-management
 * systems (used on /v1 and on the national-axis API /vdxp). The secret is printed once, by add
 * and rotate; the hub stores it sealed and can never show it again.
 */
import type { Command } from 'commander';
import type { IssuedCredential, SystemRecord, SystemsService } from '../../systems/service.ts';
import { openContext, type CliContext } from '../context.ts';

async function withService<T>(
  db: string | undefined,
  fn: (svc: SystemsService, ctx: CliContext) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    return await fn(ctx.services.systems, ctx);
  } finally {
    await ctx.close();
  }
}

function line(r: SystemRecord): string {
  return [
    r.systemId.padEnd(24),
    (r.active ? 'active' : 'DISABLED').padEnd(9),
    r.rights.join(',').padEnd(11),
    r.agencyCodes.join(',') || '-',
  ].join(' ');
}

function printIssued(r: IssuedCredential, what: string, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(r));
    return;
  }
  console.log(
    `${what} ${r.systemId} (agencies: ${r.agencyCodes.join(', ') || '-'}; rights: ${r.rights.join(', ')})`,
  );
  console.log(`secret: ${r.secret}`);
  console.log('This secret is shown only once: hand it to the system’s operator over a safe channel now.');
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const systems = program
    .command('systems')
    .description('credentials of agency document-management systems (systemId + secret)');

  systems
    .command('add <systemId>')
    .description('issue a credential for a system acting for the given agencies; prints the secret once')
    .option('--agency <code...>', 'agency code(s) the system acts for (repeatable)')
    .option(
      '--admin',
      "grant the 'admin' right (administration APIs; /vdxp registerAgency/deleteAgency only where vdxp.adminOperations allows)",
    )
    .option('--no-send', "without the 'send' right (an administration-only system)")
    .option('--db <name>', 'database name')
    .action(
      async (systemId: string, o: { agency?: string[]; admin?: boolean; send: boolean; db?: string }) => {
        const rights = [...(o.send ? ['send'] : []), ...(o.admin ? ['admin'] : [])];
        const r = await withService(o.db, async (s, ctx) =>
          s.add(await ctx.actor(), { systemId, agencyCodes: o.agency ?? [], rights }),
        );
        printIssued(r, 'added', json());
      },
    );

  systems
    .command('rotate <systemId>')
    .description('issue a new secret (the old one stops working at once); prints it once')
    .option('--db <name>', 'database name')
    .action(async (systemId: string, o: { db?: string }) => {
      printIssued(
        await withService(o.db, async (s, ctx) => s.rotate(await ctx.actor(), systemId)),
        'rotated',
        json(),
      );
    });

  systems
    .command('disable <systemId>')
    .description('refuse every request of the system from now on (the record stays)')
    .option('--db <name>', 'database name')
    .action(async (systemId: string, o: { db?: string }) => {
      const r = await withService(o.db, async (s, ctx) => s.disable(await ctx.actor(), systemId));
      console.log(json() ? JSON.stringify(r) : `disabled ${r.systemId}`);
    });

  systems
    .command('enable <systemId>')
    .description('accept the system’s requests again (with its current secret)')
    .option('--db <name>', 'database name')
    .action(async (systemId: string, o: { db?: string }) => {
      const r = await withService(o.db, async (s, ctx) => s.enable(await ctx.actor(), systemId));
      console.log(json() ? JSON.stringify(r) : `enabled ${r.systemId}`);
    });

  systems
    .command('list')
    .description('systems, their agencies, rights and state (never the secrets)')
    .option('--db <name>', 'database name')
    .action(async (o: { db?: string }) => {
      const rows = await withService(o.db, (s) => s.list());
      if (json()) console.log(JSON.stringify(rows));
      else if (rows.length === 0) console.log('no systems');
      else for (const r of rows) console.log(line(r));
    });
}
