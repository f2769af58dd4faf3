/** hubctl deadletters list|show|replay — dead-lettered delivery tasks. */
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { HubError } from '../../domain/errors.ts';
import { DeadLetterService } from '../../delivery/dead-letters.ts';
import { openContext, type CliContext } from '../context.ts';

async function withService<T>(
  db: string | undefined,
  fn: (svc: DeadLetterService, ctx: CliContext) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    return await fn(new DeadLetterService(ctx.stores, ctx.stores.audit), ctx);
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
  dl.command('prune-orphans')
    .description(
      'dead letters of deliveries that no longer exist (removed by a restore): listed; deleted with --apply',
    )
    .option('--apply', 'delete them (default: dry run, nothing changes)')
    .option('--db <name>', 'database name')
    .action(async (o: { apply?: boolean; db?: string }) => {
      const r = await withService(o.db, async (s, ctx) =>
        s.pruneOrphans(o.apply ? await ctx.actor() : 'dry-run', { apply: o.apply === true }),
      );
      if (json()) console.log(JSON.stringify({ dryRun: !o.apply, ...r }));
      else {
        for (const x of r.orphans)
          console.log(`${x.id}  ${x.deadAt.toISOString()}  delivery ${x.deliveryId}  ${x.reason}`);
        console.log(
          o.apply
            ? `deleted ${r.deleted} orphaned dead letter(s)`
            : `${r.orphans.length} orphaned dead letter(s); nothing deleted (dry run: add --apply)`,
        );
      }
    });
  dl.command('replay [id]')
    .description('send the delivery again (fix the cause first); the outbox relay publishes it')
    .option('--all', 'replay every dead letter not yet replayed (progress bar on stderr)')
    .option('--db <name>', 'database name')
    .action(async (id: string | undefined, o: { all?: boolean; db?: string }) => {
      if (!o.all) {
        if (!id) throw new HubError('VALIDATION_FAILED', 'give a dead letter id, or --all');
        const r = await withService(o.db, async (s, ctx) => s.replay(await ctx.actor(), id));
        console.log(json() ? JSON.stringify(r) : `replayed ${r.id} (replay #${r.replayCount})`);
        return;
      }
      const result = await withService(o.db, async (s, ctx) => {
        const actor = await ctx.actor();
        const bar = new SingleBar(
          { format: ' replay [{bar}] {value}/{total} {id}', hideCursor: true },
          Presets.shades_classic,
        );
        const show = !json() && process.stderr.isTTY === true;
        const tried = new Set<string>();
        const replayed: string[] = [];
        const failed: { id: string; code: string; reason: string }[] = [];
        let total = 0;
        try {
          for (;;) {
            // replayed ones leave the list; pages of 1000 until only unreplayable ones remain
            const page = (await s.list({ limit: 1000 })).filter((r) => !tried.has(r.id));
            if (page.length === 0) break;
            total += page.length;
            if (show) {
              if (tried.size === 0) bar.start(total, 0, { id: '' });
              else bar.setTotal(total);
            }
            for (const r of page) {
              tried.add(r.id);
              try {
                replayed.push((await s.replay(actor, r.id)).id);
              } catch (err) {
                if (!(err instanceof HubError)) throw err;
                failed.push({ id: r.id, code: err.code, reason: err.message });
              }
              if (show) bar.increment(1, { id: r.id });
            }
          }
        } finally {
          if (show) bar.stop();
        }
        return { replayed, failed };
      });
      if (json()) console.log(JSON.stringify(result));
      else {
        console.log(`replayed ${result.replayed.length} dead letter(s)`);
        for (const f of result.failed) console.log(`  not replayed ${f.id}: ${f.code}: ${f.reason}`);
      }
      if (result.failed.length) process.exitCode = 1;
    });
}
