/**
 * hubctl credentials reseal — re-seal the stored secrets of agency systems with a new credentials
 * key (docs/deployment.md ## Key rotation). Keys are read from files, never from the command line.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HubError } from '../../domain/errors.ts';
import { resealSecrets } from '../../store/system-store.ts';
import { planPeerReseal } from '../../store/peer-store.ts';
import { openContext } from '../context.ts';

function keyFile(file: string, option: string): string {
  let key: string;
  try {
    key = readFileSync(file, 'utf8').split(/\r?\n/, 1)[0] ?? '';
  } catch (err) {
    throw new HubError('VALIDATION_FAILED', `${option} ${file}: ${(err as Error).message}`);
  }
  if (key.trim().length < 32)
    throw new HubError(
      'VALIDATION_FAILED',
      `${option} ${file}: a credentials key has at least 32 characters`,
    );
  return key;
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const creds = program.command('credentials').description('the credentials key that seals stored secrets');
  creds
    .command('reseal')
    .description(
      're-seal every stored system and federation peer secret from the old key to the new one (run while the hub accepts both: credentials.previousKeys)',
    )
    .requiredOption('--from-key-file <file>', 'file holding the key the secrets are sealed with now')
    .requiredOption('--to-key-file <file>', 'file holding the new key')
    .option('--db <name>', 'database name')
    .action(async (o: { fromKeyFile: string; toKeyFile: string; db?: string }) => {
      const from = keyFile(o.fromKeyFile, '--from-key-file');
      const to = keyFile(o.toKeyFile, '--to-key-file');
      const ctx = await openContext(o.db ? { dbName: o.db } : {});
      try {
        const actor = await ctx.actor();
        // Stored federation peers' secrets too (fedapi): all opened before anything is written.
        const peers = await planPeerReseal(ctx.mongo, from, to);
        const systems = await resealSecrets(ctx.mongo, from, to);
        const p = await peers.apply();
        const r = {
          resealed: systems.resealed + p.resealed,
          alreadyCurrent: systems.alreadyCurrent + peers.alreadyCurrent,
          changedMeanwhile: systems.changedMeanwhile + p.changedMeanwhile,
        };
        await ctx.stores.audit.append({ actor, action: 'credentials.resealed', subject: 'systems', data: r });
        console.log(
          json()
            ? JSON.stringify(r)
            : `${r.resealed} secret(s) re-sealed with the new key; ${r.alreadyCurrent} already were` +
                (r.changedMeanwhile ? `; ${r.changedMeanwhile} changed meanwhile (run again)` : ''),
        );
      } finally {
        await ctx.close();
      }
    });
}
