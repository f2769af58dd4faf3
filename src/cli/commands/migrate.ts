/**
 * hubctl migrate — the database's pending data migrations (src/store/migrations.ts): listed, then
 * run in order with their progress; recorded in the `migrations` collection, so a second run does
 * nothing. A deployment step before starting a new version (docs/deployment.md ## Migrations).
 */
import type { Command } from 'commander';
import { MIGRATIONS, appliedMigrations, pendingMigrations, runMigrations } from '../../store/migrations.ts';
import { EXIT, openContext } from '../context.ts';

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  program
    .command('migrate')
    .description(
      'run the pending data migrations of the database (recorded, idempotent); --list only lists them',
    )
    .option('--list', 'list every migration and whether it ran, change nothing')
    .option('--db <name>', 'database name')
    .action(async (o: { list?: boolean; db?: string }) => {
      const ctx = await openContext(o.db ? { dbName: o.db } : {});
      try {
        const { models, agencies } = ctx.stores;
        if (o.list) {
          const applied = await appliedMigrations(models);
          const rows = MIGRATIONS.map((m) => ({
            name: m.name,
            description: m.description,
            ...(applied.has(m.name) ? { appliedAt: applied.get(m.name) } : {}),
          }));
          if (json()) console.log(JSON.stringify(rows));
          else
            for (const r of rows)
              console.log(
                `${r.appliedAt ? `done ${r.appliedAt.toISOString()}` : 'PENDING'.padEnd(29)}  ${r.name.padEnd(28)} ${r.description}`,
              );
          return;
        }
        const pending = await pendingMigrations(models);
        if (!json())
          console.log(
            pending.length
              ? `${pending.length} pending migration(s): ${pending.map((m) => m.name).join(', ')}`
              : 'no pending migrations',
          );
        const ran = await runMigrations(
          { models, agencies },
          {
            onProgress: (p) => {
              if (json()) return;
              if (p.event === 'start') console.log(`  running ${p.name}: ${p.description}…`);
              else
                console.log(
                  `  done    ${p.name} in ${p.ms} ms${p.changed !== undefined ? ` (${p.changed} records)` : ''}`,
                );
            },
          },
        );
        if (json()) console.log(JSON.stringify({ ran }));
        process.exitCode = EXIT.OK;
      } finally {
        await ctx.close();
      }
    });
}
