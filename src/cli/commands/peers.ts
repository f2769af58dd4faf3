/**
 * hubctl peers list | show <id> | sync <id>|--all — federation peers (docs/federation.md). Peers are
 * configuration (federation.peers[]): adding, removing or rotating a peer's secret is a config change
 * and a restart; these commands show what the hub knows of each peer and refresh its agencies.
 */
import type { Command } from 'commander';
import type { FederationService, PeerView } from '../../federation/service.ts';
import { openContext, type CliContext } from '../context.ts';
import { reportError } from '../errors.ts';

async function withFederation<T>(
  db: string | undefined,
  fn: (f: FederationService, ctx: CliContext) => Promise<T>,
) {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    return await fn(ctx.services.federation, ctx);
  } finally {
    await ctx.close();
  }
}

const when = (d?: Date) => (d ? d.toISOString() : '-');

function line(v: PeerView): string {
  return [
    v.id.padEnd(12),
    `${v.agencies.length} units`.padEnd(12),
    `backlog ${v.backlog}`.padEnd(12),
    `contact ${when(v.lastContactAt)}`,
    v.conflicts.length ? `conflicts ${v.conflicts.length}` : '',
    v.lastError ? `error ${when(v.lastError.at)} ${v.lastError.op}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const p = program.command('peers').description('federation peers (configured in federation.peers)');
  p.command('list')
    .description('configured peers: units served, backlog, last contact, conflicts, last error')
    .option('--db <name>', 'database name')
    .action(async (o: { db?: string }) => {
      try {
        await withFederation(o.db, async (f) => {
          const views = await f.list();
          if (json()) console.log(JSON.stringify(views));
          else if (views.length === 0) console.log('no federation peer is configured (federation.peers)');
          else for (const v of views) console.log(line(v));
        });
      } catch (err) {
        reportError(err, json());
      }
    });
  p.command('show <id>')
    .description('one peer: configuration (no secret), units served, code conflicts, last error')
    .option('--db <name>', 'database name')
    .action(async (id: string, o: { db?: string }) => {
      try {
        await withFederation(o.db, async (f) => {
          const v = await f.view(id);
          if (json()) return console.log(JSON.stringify(v));
          console.log(`${v.id} (${v.name})  ${v.baseUrl}  as ${v.systemId}`);
          console.log(
            `inbound system: ${v.inboundSystemId ?? '-'}   outbound: ${v.outbound}   poll: ${v.pollIntervalMs} ms`,
          );
          console.log(`last contact: ${when(v.lastContactAt)}   last sync: ${when(v.lastSyncAt)}`);
          console.log(`backlog: ${v.backlog}   relayed: ${v.relayed}   received: ${v.received}`);
          console.log(`units (${v.agencies.length}): ${v.agencies.join(', ') || '-'}`);
          for (const c of v.conflicts)
            console.log(
              `CONFLICT ${c.code}: held by ${c.heldBy}, also claimed by ${c.claimedBy} (${when(c.seenAt)})`,
            );
          if (v.lastError)
            console.log(`last error: ${when(v.lastError.at)} ${v.lastError.op}: ${v.lastError.message}`);
        });
      } catch (err) {
        reportError(err, json());
      }
    });
  p.command('sync [id]')
    .description(
      "fetch a peer's agency list now (getAgenciesList) and update its remote units; --all for every peer",
    )
    .option('--all', 'every configured peer')
    .option('--db <name>', 'database name')
    .action(async (id: string | undefined, o: { all?: boolean; db?: string }) => {
      if (!id && !o.all) {
        console.error('name a peer, or --all');
        process.exitCode = 2;
        return;
      }
      try {
        await withFederation(o.db, async (f, ctx) => {
          const actor = await ctx.actor();
          const results = id ? [await f.sync(id)] : await f.syncAll();
          for (const r of results)
            await ctx.stores.audit.append({
              actor,
              action: 'federation.sync',
              subject: r.peer,
              data: {
                listed: r.listed,
                created: r.created,
                updated: r.updated,
                closed: r.closed,
                conflicts: r.conflicts.length,
              },
            });
          if (json()) console.log(JSON.stringify(results));
          else
            for (const r of results)
              console.log(
                `${r.peer}: ${r.listed} listed, ${r.created} created, ${r.updated} updated, ${r.closed} closed, ${r.conflicts.length} conflicts`,
              );
        });
      } catch (err) {
        reportError(err, json());
      }
    });
}
