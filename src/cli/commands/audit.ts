/** hubctl audit verify: recomputes the hash chain of the audit log and reports the first broken link. */
import type { Command } from 'commander';
import { EXIT, openContext } from '../context.ts';

export function register(program: Command): void {
  const audit = program.command('audit').description('audit log');
  audit
    .command('verify')
    .description('verify the hash chain of the audit log')
    .option('--db <name>', 'database name (default: from MONGODB_URI)')
    .action(async (opts: { db?: string }) => {
      const ctx = await openContext(opts.db ? { dbName: opts.db } : {});
      try {
        const r = await ctx.stores.audit.verify();
        if (program.opts<{ json?: boolean }>().json) console.log(JSON.stringify(r));
        else if (r.ok) console.log(`audit chain intact: ${r.count} entries`);
        else
          console.log(
            `audit chain BROKEN at entry ${r.brokenAt}: ${r.reason} (${r.count} entries verified before it)`,
          );
        process.exitCode = r.ok ? EXIT.OK : EXIT.FAILURE;
      } finally {
        await ctx.close();
      }
    });
}
