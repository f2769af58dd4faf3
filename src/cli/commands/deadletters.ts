/** hubctl deadletters list|show|replay — dead-lettered delivery tasks. */
import type { Command } from 'commander';
import { DeadLetterService } from '../../delivery/dead-letters.ts';
import { openContext } from '../context.ts';

async function withService<T>(
  db: string | undefined,
  fn: (svc: DeadLetterService) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    return await fn(new DeadLetterService(ctx.stores.models, ctx.stores.audit));
  } finally {
    await ctx.close();
  }
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const dl = program.command('deadletters').description('dead-lettered delivery tasks');
  dl.command('list')
    .option('--all', 'include replayed ones')
    .option('--db <name>', 'database name')
    .action(async (o: { all?: boolean; db?: string }) => {
      const rows = await withService(o.db, (s) => s.list({ includeReplayed: !!o.all }));
      if (json()) console.log(JSON.stringify(rows));
      else if (rows.length === 0) console.log('no dead letters');
      else
        for (const r of rows)
          console.log(
            `${r.id}  ${r.deadAt.toISOString()}  ${r.recipientCode ?? '-'}  ${r.reason}${r.replayedAt ? '  (replayed)' : ''}`,
          );
    });
  dl.command('show <id>')
    .option('--db <name>', 'database name')
    .action(async (id: string, o: { db?: string }) => {
      const r = await withService(o.db, (s) => s.show(id));
      console.log(
        json()
          ? JSON.stringify(r)
          : Object.entries(r)
              .map(([k, v]) => `${k}: ${v instanceof Date ? v.toISOString() : String(v)}`)
              .join('\n'),
      );
    });
  dl.command('replay <id>')
    .description('send the delivery again (fix the cause first); the outbox relay publishes it')
    .option('--db <name>', 'database name')
    .action(async (id: string, o: { db?: string }) => {
      const r = await withService(o.db, (s) => s.replay(`hubctl:${process.env.USER ?? 'admin'}`, id));
      console.log(json() ? JSON.stringify(r) : `replayed ${r.id} (replay #${r.replayCount})`);
    });
}
