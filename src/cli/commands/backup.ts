/**
 * hubctl backup create|verify|restore — a consistent copy of the hub's database without mongodump
 * (src/store/backup.ts, docs/deployment.md ## Backups; scripts/backup.sh, scripts/restore.sh).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { checkBackup, createBackup, restoreBackup, type BackupManifest } from '../../store/backup.ts';
import { connectMongo } from '../../store/mongo.ts';
import { openContext } from '../context.ts';

const total = (m: BackupManifest) => m.collections.reduce((n, c) => n + c.count, 0);

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const backup = program.command('backup').description('copies of the hub database (no mongodump needed)');

  backup
    .command('create <dir>')
    .description(
      'copy every collection as EJSON lines with a manifest (counts, SHA-256); administrators only',
    )
    .option('--db <name>', 'database name')
    .action(async (dir: string, o: { db?: string }) => {
      const ctx = await openContext(o.db ? { dbName: o.db } : {});
      try {
        const actor = await ctx.actor();
        const m = await createBackup(ctx.mongo, dir);
        await ctx.stores.audit.append({
          actor,
          action: 'backup.created',
          subject: m.database,
          data: { dir, documents: total(m), auditLastSeq: m.auditLastSeq, quiescent: m.quiescent },
        });
        if (json()) console.log(JSON.stringify(m));
        else {
          console.log(
            `backup of ${m.database} in ${dir}: ${m.collections.length} collections, ${total(m)} documents`,
          );
          console.log(`  audit chain up to entry ${m.auditLastSeq}`);
          if (!m.quiescent)
            console.log(
              '  warning: documents changed during the copy; after a restore run `hubctl deliveries requeue --older-than 0`',
            );
        }
      } finally {
        await ctx.close();
      }
    });

  backup
    .command('verify <dir>')
    .description('check every file of a backup against its manifest (counts and SHA-256)')
    .action(async (dir: string) => {
      const m = await checkBackup(dir);
      console.log(
        json()
          ? JSON.stringify({ ok: true, collections: m.collections.length, documents: total(m) })
          : `backup intact: ${m.collections.length} collections, ${total(m)} documents, taken ${m.createdAt}`,
      );
    });

  backup
    .command('restore <dir>')
    .description(
      'restore into an EMPTY database (refuses one holding documents); then log in as an administrator of the restored accounts, or nothing stays',
    )
    .option('--db <name>', 'database name')
    .action(async (dir: string, o: { db?: string }) => {
      const config = loadConfig();
      const conn = await connectMongo(config.mongodb.uri, o.db ? { dbName: o.db } : {});
      try {
        const m = await restoreBackup(conn, dir);
        let actor: string;
        try {
          // The restored accounts are the ones that may act on the restored hub.
          const ctx = await openContext({ dbName: conn.db!.databaseName });
          try {
            actor = await ctx.actor();
            await ctx.stores.audit.append({
              actor,
              action: 'backup.restored',
              subject: conn.db!.databaseName,
              data: { dir, createdAt: m.createdAt, documents: total(m), auditLastSeq: m.auditLastSeq },
            });
          } finally {
            await ctx.close();
          }
        } catch (err) {
          await conn.dropDatabase().catch(() => undefined);
          throw err;
        }
        console.log(
          json()
            ? JSON.stringify({ ok: true, database: conn.db!.databaseName, documents: total(m), actor })
            : `restored ${total(m)} documents into ${conn.db!.databaseName} (backup of ${m.createdAt}); next: hubctl audit verify, hubctl deliveries requeue --older-than 0`,
        );
      } finally {
        await conn.close();
      }
    });
}
