/**
 * Federation scenario of the end-to-end benchmark (issue 22, docs/benchmarks.md "One federation hop"):
 * documents/s and latency across one federation hop, beside the direct figure, in the same run and the
 * same process setup.
 *
 * Two hub processes, A and B (src/main.ts, api + worker roles), each the other's peer (`push`: relayed
 * with sendEdoc), with their own database and queue prefix on the same RabbitMQ and FerretDB:
 *
 *   A serves the H29, D29 and M29 units      B serves every other unit of the development seed
 *
 * - **hop**: a 50 KB signed document from H29.001 (an agency of A) to H41.001 (an agency of B):
 *   A accepts, verifies and receipts it, its worker relays the signed bytes to B's /vdxp, B verifies
 *   and accepts it again, B's worker makes it available in H41.001's inbox;
 * - **direct**: the same kind of document from G22 (an agency of B) to H41.001, at B only.
 *
 * For each: documents/s (first submission → last delivery available at the final recipient), submit →
 * available p50/p95/p99 (the submission at the first hub, the `availableAt` of B's inbox items as the
 * recipient lists them), the hub CPU per document of each process, and the store statements per
 * document of each hub (their own counters). The harness's helpers (hub process, submitters, pullers,
 * metric snapshots) are those of bench/e2e.ts, passed in (`Harness`).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { buildEdxml } from '../src/domain/edxml/index.ts';
import { loadSigningKey, signEdxml } from '../src/crypto/signature.ts';
import { HubClient } from '../src/sdk/client.ts';
import { connectMongo } from '../src/store/mongo.ts';
import { documentMessage } from '../test/support/messages.ts';

interface HubLike {
  readonly url: string;
  readonly opsUrl: string;
  start(env: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
  cpuSeconds(): number;
}
interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
interface Pullers {
  of(docIds: Set<string>): {
    listed: number;
    pulled: number;
    items: { docId: string; availableAt: number }[];
  };
  stop(): Promise<{ pulled: number; bytes: number }>;
}
type Snapshot = unknown;
type MachineCpu = { busy: number; total: number };

/** What bench/e2e.ts lends this scenario (its hub process and measuring helpers). */
export interface Harness {
  readonly HubProc: new (port: number, opsPort: number) => HubLike;
  readonly mongoUri: string;
  readonly concurrency: number;
  readonly docs: number;
  readonly attachmentBytes: number;
  submitAll(
    client: HubClient,
    messages: Buffer[],
    opts: { concurrency: number },
  ): Promise<{ submitted: Map<string, number>; ackMs: number[]; refused: number; wallMs: number }>;
  startPullers(client: HubClient, workers: number): Pullers;
  counterSnapshot(opsUrl: string): Promise<Snapshot>;
  statementsPer(
    a: never,
    b: never,
    units: number,
  ): { statements: number; writes: number; byCommand: Record<string, number> } | null;
  stageSnapshot(opsUrl: string): Promise<Snapshot>;
  stagesBetween(a: never, b: never): Record<string, { n: number; meanMs: number; p95Ms: number }>;
  hubMetrics(opsUrl: string): Promise<string>;
  machineCpu(): MachineCpu;
  busyPercent(a: never, b: never): number;
  percentiles(xs: number[]): Percentiles;
  rate(n: number, ms: number): number;
  deleteQueues(prefix: string): Promise<void>;
  log(...a: unknown[]): void;
}

const A_SERVES = /^[HDM]29(\.|$)/;
/** The three paths measured: by sendEdoc A → B, by polling B → A (A collects), and within B. */
const PHASES = [
  { name: 'direct', from: 'G22', to: 'H41.001', first: 'b', final: 'b' },
  { name: 'hop (push)', from: 'H29.001', to: 'H41.001', first: 'a', final: 'b' },
  { name: 'hop (poll)', from: 'G22', to: 'H29', first: 'b', final: 'a' },
] as const;
/** BENCH_FED_POLL_MS: how often A polls B (default: the configuration's default, 30 s). */
const POLL_MS = process.env.BENCH_FED_POLL_MS ? Number(process.env.BENCH_FED_POLL_MS) : undefined;
const PORTS = { first: 41300, last: 41399 }; // this scenario's range (4 ports a run)

/** Mean acceptance → delivered per delivery mode (`hub_delivery_latency_seconds`), sums and counts. */
function latencyByMode(text: string): Map<string, { sum: number; count: number }> {
  const out = new Map<string, { sum: number; count: number }>();
  for (const [, kind, mode, value] of text.matchAll(
    /^hub_delivery_latency_seconds_(sum|count)\{mode="([^"]*)"\} (\S+)$/gm,
  )) {
    const e = out.get(mode!) ?? { sum: 0, count: 0 };
    e[kind as 'sum' | 'count'] = Number(value);
    out.set(mode!, e);
  }
  return out;
}
function meanLatencyMs(a: ReturnType<typeof latencyByMode>, b: ReturnType<typeof latencyByMode>) {
  const out: Record<string, number> = {};
  for (const [mode, e] of b) {
    const n = e.count - (a.get(mode)?.count ?? 0);
    if (n > 0) out[mode] = +((1000 * (e.sum - (a.get(mode)?.sum ?? 0))) / n).toFixed(1);
  }
  return out;
}

export async function federationRun(h: Harness) {
  const runId = randomBytes(3).toString('hex');
  const base = PORTS.first + 4 * Math.floor(Math.random() * ((PORTS.last - PORTS.first + 1) / 4));
  const hubs = { a: new h.HubProc(base, base + 1), b: new h.HubProc(base + 2, base + 3) };
  const ids = ['a', 'b'] as const;
  const dbName = (x: string) => `fedbench_${runId}_${x}`;
  const prefix = (x: string) => `fedbench.${runId}.${x}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedbench-'));
  const seed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-directory.json'), 'utf8')) as {
    agencies: { code: string }[];
    systems: { agencyCodes: string[] }[];
  };
  const users = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-users.json'), 'utf8')) as {
    users: { agencies?: string[] }[];
  };
  const serves = (x: 'a' | 'b', code: string) => A_SERVES.test(code) === (x === 'a');
  for (const x of ids) {
    const y = x === 'a' ? 'b' : 'a';
    writeFileSync(path.join(dir, `${x}-${y}.secret`), randomBytes(24).toString('hex'));
  }
  const env = (x: 'a' | 'b') => {
    const y = x === 'a' ? 'b' : 'a';
    const seedFile = path.join(dir, `seed-${x}.json`);
    writeFileSync(
      seedFile,
      JSON.stringify({
        agencies: seed.agencies.filter((a) => serves(x, a.code)),
        systems: seed.systems.filter((s) => s.agencyCodes.length && s.agencyCodes.every((c) => serves(x, c))),
      }),
    );
    const usersFile = path.join(dir, `users-${x}.json`);
    writeFileSync(
      usersFile,
      JSON.stringify({
        users: users.users.filter((u) => (u.agencies ?? []).every((c) => serves(x, c))),
      }),
    );
    const configFile = path.join(dir, `hub-${x}.json`);
    writeFileSync(
      configFile,
      JSON.stringify({
        // The development users of its agencies too: `hubctl peers sync` acts as their administrator.
        seed: { directoryFile: seedFile, usersFile },
        federation: {
          allowInsecureLoopback: true,
          peers: [
            {
              id: y,
              name: `Hub ${y.toUpperCase()}`,
              baseUrl: `${hubs[y].url}/vdxp`,
              systemId: `hub-${x}`,
              secretFile: path.join(dir, `${x}-${y}.secret`),
              inbound: { systemId: `hub-${y}`, secretFile: path.join(dir, `${y}-${x}.secret`) },
              trustedRoots: ['certs-dev/root-ca.pem'],
              // A pushes to B (sendEdoc); B holds what goes to A, and A collects it by polling.
              outbound: x === 'a' ? 'push' : 'hold',
              ...(POLL_MS !== undefined ? { pollIntervalMs: POLL_MS } : {}),
              // The configuration's defaults otherwise (pollIntervalMs 30 s, syncIntervalMs 1 h).
            },
          ],
        },
      }),
    );
    return {
      HUB_CONFIG: configFile,
      MONGODB_URI: h.mongoUri.replace(/\/[^/?]*(\?|$)/, `/${dbName(x)}$1`),
      AMQP_PREFIX: prefix(x),
      LOG_LEVEL: 'warn',
    };
  };
  const key = (code: string) =>
    loadSigningKey(
      path.join(PROJECT_ROOT, 'certs-dev/agencies', `${code}.pem`),
      path.join(PROJECT_ROOT, 'certs-dev/agencies', `${code}.key.pem`),
    );
  const message = (from: string, to: string, signingKey: ReturnType<typeof key>) => {
    const m = documentMessage(from, [to]);
    m.attachments[0]!.contentBase64 = randomBytes(h.attachmentBytes).toString('base64');
    return Buffer.from(signEdxml(buildEdxml(m), signingKey));
  };
  const client = (hub: HubLike, code: string) =>
    new HubClient({ baseUrl: hub.url, systemId: `dms-${code}`, secret: `DEV-ONLY-secret-${code}` });

  try {
    h.log(`federation: starting hubs A and B (db ${dbName('*')}, queues ${prefix('*')}.*)`);
    for (const x of ids) await hubs[x].start(env(x));
    // Each hub learns the other's units: the start-up sync of A found B down, so both sync again
    // now, through A's and B's own /vdxp (hubctl peers sync, as an operator would).
    const passwordFile = path.join(dir, 'admin.password');
    writeFileSync(passwordFile, 'DEV-ONLY-admin-password'); // config/seed-users.json
    for (const x of ids)
      hubctlSync(
        { ...env(x), HUBCTL_USER: 'admin', HUBCTL_PASSWORD_FILE: passwordFile },
        x === 'a' ? 'b' : 'a',
      );
    const phases: Record<string, unknown> = {};
    // The direct figure first, then the hop, on the same two processes.
    for (const path_ of PHASES) {
      const { name } = path_;
      const signingKey = key(path_.from);
      const sender = client(hubs[path_.first], path_.from);
      const receiver = client(hubs[path_.final], path_.to);
      h.log(`federation ${name}: signing ${h.docs} messages ${path_.from} → ${path_.to}`);
      const messages = Array.from({ length: h.docs }, () => message(path_.from, path_.to, signingKey));
      const pullers = h.startPullers(receiver, 4);
      // Warm-up (JIT, connections, the relay's first call): three documents, available before counting.
      const warm = await h.submitAll(sender, messages.splice(0, 3), { concurrency: 1 });
      const warmIds = new Set(warm.submitted.keys());
      const warmUntil = Date.now() + 180_000;
      while (pullers.of(warmIds).pulled < warmIds.size && Date.now() < warmUntil) await sleep(100);
      if (pullers.of(warmIds).pulled < warmIds.size)
        throw new Error(`federation ${name}: the warm-up documents never reached ${path_.to}`);
      const cpu0 = { a: hubs.a.cpuSeconds(), b: hubs.b.cpuSeconds() };
      const counters0 = {
        a: await h.counterSnapshot(hubs.a.opsUrl),
        b: await h.counterSnapshot(hubs.b.opsUrl),
      };
      const stages0 = { a: await h.stageSnapshot(hubs.a.opsUrl), b: await h.stageSnapshot(hubs.b.opsUrl) };
      const latency0 = {
        a: latencyByMode(await h.hubMetrics(hubs.a.opsUrl)),
        b: latencyByMode(await h.hubMetrics(hubs.b.opsUrl)),
      };
      const machine0 = h.machineCpu();
      const load0 = os.loadavg()[0]!;
      h.log(`federation ${name}: submitting ${messages.length}`);
      const sub = await h.submitAll(sender, messages, { concurrency: h.concurrency });
      const mine = new Set(sub.submitted.keys());
      const deadline = Date.now() + 600_000;
      while (pullers.of(mine).listed < mine.size && Date.now() < deadline) await sleep(100);
      const cpu = { a: hubs.a.cpuSeconds() - cpu0.a, b: hubs.b.cpuSeconds() - cpu0.b };
      const machine1 = h.machineCpu();
      const { items, listed } = pullers.of(mine);
      const e2eMs = items.map((it) => it.availableAt - sub.submitted.get(it.docId)!);
      const first_ = Math.min(...sub.submitted.values());
      const last = Math.max(...items.map((it) => it.availableAt));
      const pullUntil = Date.now() + 120_000;
      while (pullers.of(mine).pulled < listed && Date.now() < pullUntil) await sleep(100);
      await pullers.stop();
      const n = mine.size;
      const perDoc = (s: number) => +((s * 1000) / Math.max(1, n)).toFixed(2);
      const row = {
        path: `${path_.from} → ${path_.to}`,
        hubs:
          path_.first === path_.final ? 'B' : `${path_.first.toUpperCase()} → ${path_.final.toUpperCase()}`,
        first: path_.first,
        final: path_.final,
        ...(name === 'hop (poll)' ? { pollIntervalMs: POLL_MS ?? 'default (30000)' } : {}),
        messageBytes: messages[0]?.length ?? 0,
        documents: messages.length,
        accepted: n,
        refused: sub.refused,
        available: listed,
        e2eDocsPerSec: h.rate(listed, last - first_),
        submitTo202Ms: h.percentiles(sub.ackMs),
        submitToAvailableMs: h.percentiles(e2eMs),
        hubCpuMsPerDoc: { a: perDoc(cpu.a), b: perDoc(cpu.b), total: perDoc(cpu.a + cpu.b) },
        storeStatementsPerDoc: {
          a: h.statementsPer(counters0.a as never, (await h.counterSnapshot(hubs.a.opsUrl)) as never, n),
          b: h.statementsPer(counters0.b as never, (await h.counterSnapshot(hubs.b.opsUrl)) as never, n),
        },
        // Where the time goes: each hub's submission stages, and acceptance → delivered per mode
        // (`peer`: until the peer accepted the relayed bytes; `pull`: until available in the pull
        // inbox — the recipient's, or for `hold`, the one the peer collects from).
        submitStagesMs: {
          a: h.stagesBetween(stages0.a as never, (await h.stageSnapshot(hubs.a.opsUrl)) as never),
          b: h.stagesBetween(stages0.b as never, (await h.stageSnapshot(hubs.b.opsUrl)) as never),
        },
        acceptedToDeliveredMeanMs: {
          a: meanLatencyMs(latency0.a, latencyByMode(await h.hubMetrics(hubs.a.opsUrl))),
          b: meanLatencyMs(latency0.b, latencyByMode(await h.hubMetrics(hubs.b.opsUrl))),
        },
        machineBusyPercent: h.busyPercent(machine0 as never, machine1 as never),
        loadAverage1m: { before: +load0.toFixed(2), after: +os.loadavg()[0]!.toFixed(2) },
      };
      h.log(`federation ${name}`, row);
      phases[name] = row;
    }
    return phases;
  } finally {
    for (const x of ids) await hubs[x].stop().catch(() => undefined);
    for (const x of ids) {
      const m = await connectMongo(h.mongoUri, { dbName: dbName(x) }).catch(() => null);
      await m?.db?.dropDatabase().catch(() => undefined);
      await m?.close().catch(() => undefined);
      await h.deleteQueues(prefix(x)).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `hubctl peers sync <peer>` against a hub's database and configuration. */
function hubctlSync(env: Record<string, string>, peer: string) {
  const r = spawnSync(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      path.join(PROJECT_ROOT, 'src/cli/hubctl.ts'),
      'peers',
      'sync',
      peer,
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`hubctl peers sync ${peer}: ${r.stderr || r.stdout}`);
}

type Row = {
  path: string;
  hubs: string;
  first: 'a' | 'b';
  final: 'a' | 'b';
  messageBytes: number;
  accepted: number;
  e2eDocsPerSec: number;
  submitTo202Ms: Percentiles;
  submitToAvailableMs: Percentiles;
  hubCpuMsPerDoc: { a: number; b: number; total: number };
  storeStatementsPerDoc: Record<'a' | 'b', { statements: number; writes: number } | null>;
  submitStagesMs: Record<'a' | 'b', Record<string, { meanMs: number }>>;
  acceptedToDeliveredMeanMs: Record<'a' | 'b', Record<string, number>>;
  machineBusyPercent: number;
  loadAverage1m: { before: number; after: number };
};

/** The markdown lines of the scenario's report (bench/e2e.ts `report`). */
export function federationLines(fed: unknown): string[] {
  if (!fed) return [];
  if ((fed as { error?: string }).error)
    return ['', `Federation scenario failed: ${(fed as { error: string }).error}`];
  const rows = Object.entries(fed as Record<string, Row>);
  const st = (x: { statements: number; writes: number } | null) =>
    x ? `${x.statements} (${x.writes})` : '—';
  const p = (x: Percentiles) => `${x.p50} / ${x.p95} / ${x.p99}`;
  const ms = (x: { meanMs: number } | undefined) => (x ? String(x.meanMs) : '–');
  return [
    '',
    '| federation | path | hubs | docs | docs/s (e2e) | 202 p50/p95/p99 ms | submit → available p50/p95/p99 ms | hub CPU ms/doc A / B | store statements/doc A / B (writes) | machine busy % | load 1 min |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      ([name, r]) =>
        `| ${name} (${r.messageBytes} B) | ${r.path} | ${r.hubs} | ${r.accepted} | ${r.e2eDocsPerSec} | ${p(r.submitTo202Ms)} | ${p(r.submitToAvailableMs)} | ${r.hubCpuMsPerDoc.a} / ${r.hubCpuMsPerDoc.b} | ${st(r.storeStatementsPerDoc.a)} / ${st(r.storeStatementsPerDoc.b)} | ${r.machineBusyPercent} | ${r.loadAverage1m.before} → ${r.loadAverage1m.after} |`,
    ),
    '',
    '| federation | first hub verify / store / publish mean ms | first hub accepted → relayed (push) or held (poll) mean ms | final hub verify / store / publish mean ms | final hub accepted → available mean ms |',
    '|---|---|---|---|---|',
    ...rows.map(([name, r]) => {
      const stages = (x: 'a' | 'b') =>
        ['verify', 'store', 'publish'].map((k) => ms(r.submitStagesMs[x][k])).join(' / ');
      const hop = r.first !== r.final;
      const relay = r.acceptedToDeliveredMeanMs[r.first];
      return `| ${name} | ${hop ? stages(r.first) : '–'} | ${hop ? (relay.peer ?? relay.pull ?? '–') : '–'} | ${stages(r.final)} | ${r.acceptedToDeliveredMeanMs[r.final].pull ?? '–'} |`;
    }),
  ];
}
