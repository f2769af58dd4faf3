/**
 * hubctl peers list | show <id> | sync <id>|--all | add | update | disable | enable | remove |
 * rotate-secret — federation peers (docs/federation.md). Peers configured in federation.peers[] are
 * read-only here ("config"); peers added with hubctl live in the store ("store"), their secrets
 * sealed at rest, read from a file or stdin (never an argument, never printed), every change audited.
 * A running hub applies a change within federation.refreshMs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { PeerInput, PeerPatch } from '../../federation/admin.ts';
import type { FederationService, PeerView } from '../../federation/service.ts';
import { HubError } from '../../domain/errors.ts';
import { openContext, type CliContext } from '../context.ts';
import { reportError } from '../errors.ts';

async function withFederation<T>(
  db: string | undefined,
  fn: (f: FederationService, ctx: CliContext) => Promise<T>,
) {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    await ctx.services.federation.refresh();
    return await fn(ctx.services.federation, ctx);
  } finally {
    await ctx.close();
  }
}

const when = (d?: Date) => (d ? d.toISOString() : '-');

function line(v: PeerView): string {
  return [
    v.id.padEnd(12),
    v.source.padEnd(6),
    (v.enabled ? 'enabled' : 'DISABLED').padEnd(8),
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
  const p = program
    .command('peers')
    .description('federation peers (configured in federation.peers, or managed here: add, update, …)');
  registerAdmin(program, p);
  p.command('list')
    .description('configured peers: units served, backlog, last contact, conflicts, last error')
    .option('--db <name>', 'database name')
    .action(async (o: { db?: string }) => {
      try {
        await withFederation(o.db, async (f) => {
          const views = await f.list();
          if (json()) console.log(JSON.stringify(views));
          else if (views.length === 0) console.log('no federation peer (federation.peers, hubctl peers add)');
          else for (const v of views) console.log(line(v));
          // A stored peer clashing with a configured one is left out: reported, never merged.
          for (const c of f.peers.clashes) console.error(`CLASH ${c.peerId}: ${c.reason}`);
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
            `source: ${v.source === 'config' ? 'config (federation.peers, read-only here)' : 'store (hubctl peers)'}   ${v.enabled ? 'enabled' : 'DISABLED'}   agencies prefix: ${v.agenciesPrefix.join(', ') || '-'}`,
          );
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
/** A secret from a file or stdin (never an argument: it would be in the shell history and `ps`). */
async function secretFrom(o: { secretFile?: string; secretStdin?: boolean }, label: string): Promise<string> {
  if (o.secretFile !== undefined && o.secretStdin)
    throw new HubError('PEER_INVALID', `${label}: give --secret-file or --secret-stdin, not both`);
  let raw: string;
  if (o.secretFile !== undefined) raw = readFileSync(o.secretFile, 'utf8');
  else if (o.secretStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    raw = Buffer.concat(chunks).toString('utf8');
  } else throw new HubError('PEER_INVALID', `${label}: give --secret-file <path> or --secret-stdin`);
  return raw.trim();
}

const pemOf = (files: readonly string[]) => files.map((f) => readFileSync(f, 'utf8')).join('\n');
const int = (v: string | undefined) => (v === undefined ? undefined : Number.parseInt(v, 10));

interface SettingsOptions {
  name?: string;
  url?: string;
  systemId?: string;
  caFile?: string;
  trustedRoots?: string[];
  agenciesPrefix?: string[];
  outbound?: 'push' | 'hold';
  pollMs?: string;
  syncMs?: string;
  timeoutMs?: string;
  db?: string;
}

function settingsOptions(c: Command): Command {
  return c
    .option('--name <text>', 'name shown to administrators')
    .option('--url <baseUrl>', "the peer's national-axis endpoint (https://…/vdxp)")
    .option('--system-id <id>', 'the system id this hub holds at the peer')
    .option('--ca-file <pem>', "CA(s) trusted for the peer's TLS certificate (default: the system's)")
    .option('--trusted-roots <pem...>', "root CAs trusted for the signatures of the peer's agencies")
    .option('--agencies-prefix <prefix...>', 'agency code prefixes the peer may claim (default: any)')
    .option('--outbound <mode>', 'push (sendEdoc, default) or hold (the peer collects)')
    .option('--poll-ms <ms>', 'how often the peer is polled (0: never)')
    .option('--sync-ms <ms>', 'how often its agency list is refreshed')
    .option('--timeout-ms <ms>', 'timeout of each call to the peer')
    .option('--db <name>', 'database name');
}

function patchOf(o: SettingsOptions): PeerPatch {
  const patch = {
    name: o.name,
    baseUrl: o.url,
    systemId: o.systemId,
    caPem: o.caFile ? readFileSync(o.caFile, 'utf8') : undefined,
    trustedRootsPem: o.trustedRoots ? pemOf(o.trustedRoots) : undefined,
    agenciesPrefix: o.agenciesPrefix,
    outbound: o.outbound,
    pollIntervalMs: int(o.pollMs),
    syncIntervalMs: int(o.syncMs),
    timeoutMs: int(o.timeoutMs),
  };
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
}

export function registerAdmin(program: Command, p: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const done = (out: Record<string, unknown>, text: string) =>
    console.log(json() ? JSON.stringify(out) : text);
  const run = (fn: () => Promise<void>) => fn().catch((err: unknown) => reportError(err, json()));

  settingsOptions(
    p
      .command('add <id>')
      .description('define a peer in the store (its secret sealed at rest; never printed or audited)'),
  )
    .option('--secret-file <path>', 'file holding the secret this hub holds at the peer')
    .option('--secret-stdin', 'read that secret from stdin')
    .option('--inbound-system-id <id>', "the system id the peer uses to call this hub's /vdxp")
    .option('--inbound-secret-file <path>', 'file holding the secret of the inbound system id')
    .action((id: string, o: SettingsOptions & Record<string, string | boolean | undefined>) =>
      run(async () => {
        const secret = await secretFrom(
          { secretFile: o.secretFile as string | undefined, secretStdin: o.secretStdin === true },
          'secret',
        );
        const inboundFile = o.inboundSecretFile as string | undefined;
        const inboundId = o.inboundSystemId as string | undefined;
        if ((inboundFile === undefined) !== (inboundId === undefined))
          throw new HubError(
            'PEER_INVALID',
            'give both --inbound-system-id and --inbound-secret-file, or neither',
          );
        if (!o.url || !o.systemId || !o.trustedRoots)
          throw new HubError('PEER_INVALID', 'add needs --url, --system-id and --trusted-roots');
        const patch = patchOf(o);
        const input: PeerInput = {
          ...patch,
          id,
          baseUrl: o.url,
          systemId: o.systemId,
          secret,
          trustedRootsPem: patch.trustedRootsPem!,
          ...(inboundId && inboundFile
            ? { inbound: { systemId: inboundId, secret: readFileSync(inboundFile, 'utf8').trim() } }
            : {}),
        };
        await withFederation(o.db, async (_f, ctx) => {
          const added = await ctx.services.peerAdmin.add(await ctx.actor(), input);
          done({ id: added.id, source: 'store', enabled: true }, `added peer ${added.id} (store, enabled)`);
        });
      }),
    );

  settingsOptions(p.command('update <id>').description("change a stored peer's settings (not its secrets)"))
    .option('--inbound-system-id <id>', "the system id the peer uses to call this hub's /vdxp")
    .action((id: string, o: SettingsOptions & { inboundSystemId?: string }) =>
      run(async () => {
        const patch = { ...patchOf(o), ...(o.inboundSystemId ? { inboundSystemId: o.inboundSystemId } : {}) };
        await withFederation(o.db, async (_f, ctx) => {
          const after = await ctx.services.peerAdmin.update(await ctx.actor(), id, patch);
          done({ id, version: after.version }, `updated peer ${id}`);
        });
      }),
    );

  for (const action of ['disable', 'enable'] as const)
    p.command(`${action} <id>`)
      .description(
        action === 'disable'
          ? 'stop relaying to, polling and syncing the peer, and refuse its calls (deliveries wait and retry)'
          : 'relay to, poll and sync the peer again',
      )
      .option('--db <name>', 'database name')
      .action((id: string, o: { db?: string }) =>
        run(() =>
          withFederation(o.db, async (_f, ctx) => {
            await ctx.services.peerAdmin.setEnabled(await ctx.actor(), id, action === 'enable');
            done({ id, enabled: action === 'enable' }, `${action}d peer ${id}`);
          }),
        ),
      );

  p.command('remove <id>')
    .description('remove a stored peer; refused while deliveries wait for it, unless --force')
    .option('--force', 'move the waiting deliveries to the dead letters (hubctl deadletters list)')
    .option('--db <name>', 'database name')
    .action((id: string, o: { force?: boolean; db?: string }) =>
      run(() =>
        withFederation(o.db, async (_f, ctx) => {
          const r = await ctx.services.peerAdmin.remove(await ctx.actor(), id, { force: o.force === true });
          done(
            { id, removed: true, ...r },
            `removed peer ${id} (${r.deadLettered} deliveries dead-lettered)`,
          );
        }),
      ),
    );

  p.command('rotate-secret <id>')
    .description(
      'replace the secret this hub holds at the peer, or with --inbound the one the peer uses here',
    )
    .option('--inbound', 'the inbound secret (how the peer authenticates to this hub)')
    .option('--inbound-system-id <id>', 'with --inbound: the inbound system id (required for a first one)')
    .option('--secret-file <path>', 'file holding the new secret')
    .option('--secret-stdin', 'read the new secret from stdin')
    .option('--db <name>', 'database name')
    .action(
      (
        id: string,
        o: {
          inbound?: boolean;
          inboundSystemId?: string;
          secretFile?: string;
          secretStdin?: boolean;
          db?: string;
        },
      ) =>
        run(async () => {
          const secret = await secretFrom(o, 'secret');
          await withFederation(o.db, async (_f, ctx) => {
            await ctx.services.peerAdmin.rotateSecret(
              await ctx.actor(),
              id,
              o.inbound
                ? { inbound: { secret, ...(o.inboundSystemId ? { systemId: o.inboundSystemId } : {}) } }
                : { secret },
            );
            done(
              { id, rotated: o.inbound ? 'inbound' : 'outbound' },
              `rotated the ${o.inbound ? 'inbound' : 'outbound'} secret of peer ${id}`,
            );
          });
        }),
    );
}
