/** hubctl deliveries requeue — re-send the tasks of deliveries still waiting (after a restore). */
import type { Command } from 'commander';
import { requeueWaitingDeliveries } from '../../delivery/requeue.ts';
import { openContext } from '../context.ts';

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const d = program.command('deliveries').description('delivery maintenance');
  d.command('requeue')
    .description(
      're-send the delivery tasks of deliveries still queued (after a MongoDB restore or the loss of queue ' +
        'contents); a worker publishes them, consumers ignore duplicates',
    )
    .option('--older-than <seconds>', 'only deliveries queued at least this long ago', '300')
    .option('--db <name>', 'database name')
    .action(async (o: { olderThan: string; db?: string }) => {
      const seconds = Number(o.olderThan);
      if (!Number.isFinite(seconds) || seconds < 0) {
        console.error('--older-than: a number of seconds');
        process.exitCode = 2;
        return;
      }
      const ctx = await openContext(o.db ? { dbName: o.db } : {});
      try {
        const actor = await ctx.actor();
        const r = await requeueWaitingDeliveries(ctx.stores, ctx.stores.audit, {
          actor,
          olderThanMs: seconds * 1000,
        });
        console.log(
          json()
            ? JSON.stringify(r)
            : `${r.requeued} deliveries requeued (the outbox relay of a worker publishes them)` +
                (r.skippedUncommitted
                  ? `; ${r.skippedUncommitted} of uncommitted submissions left alone`
                  : ''),
        );
      } finally {
        await ctx.close();
      }
    });
}
