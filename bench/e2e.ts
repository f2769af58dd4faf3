/**
 * End-to-end benchmark (issue 9, docs/benchmarks.md): the hub as its own process (api + worker
 * roles) on the real RabbitMQ and FerretDB, simulated agencies submitting signed edXML over HTTP at
 * a fixed concurrency, recipients pulling and acknowledging; and, in the same run, the raw engines
 * it is compared with (amqplib publish-with-confirm + consume-and-ack of the same sizes on the same
 * broker; bare signature verification of the same messages).
 *
 *   npm run bench [-- --quick] [--concurrency 8] [--only 50KB,broadcast] [--fanout 1,20,100]
 *                 [--no-scale] [--scale-agencies 120000] [--scale-recipients 10000]
 *                 [--broadcast-communes 3321] [--hub-dir ../before] [--verify-workers 2] [--docs 400]
 *                 [--out file.json] [--cpu-prof]
 *                 [--half-load 11]   (pace of the half-load run, documents/s; with --only none, only it;
 *                                     0: no half-load run)
 *
 * --only takes a comma-separated list of 5KB, 50KB, 1MB, 5MB, broadcast, scale, federation (none:
 * nothing but the half-load run; federation: one hop between two hubs beside the direct figure,
 * bench/federation-hop.ts); --docs: documents per size at fan-out 1 (fewer at higher fan-outs); --hub-dir
 * runs src/main.ts of another checkout (the code before a change) with this script, so that before
 * and after are measured by the same bench.
 *
 * Prints a markdown table and writes the JSON (default bench/results/e2e-<date>.json; with --quick
 * bench/results/e2e-quick.tmp.json). Figures only: nothing is asserted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { stringify } from 'csv-stringify/sync';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { buildEdxml } from '../src/domain/edxml/index.ts';
import { loadSigningKey, signEdxml, verifyEdxml } from '../src/crypto/signature.ts';
import { TrustStore } from '../src/crypto/trust.ts';
import { DirectoryService } from '../src/directory/service.ts';
import { HubClient } from '../src/sdk/client.ts';
import { connectMongo } from '../src/store/mongo.ts';
import { createMongoStores } from '../src/store/stores.ts';
import { documentMessage } from '../test/support/messages.ts';
import { freePort } from '../test/fault/harness.ts';
import { federationLines, federationRun } from './federation-hop.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '8' },
    'no-scale': { type: 'boolean', default: false },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'verify-workers': { type: 'string', default: '2' },
    only: { type: 'string' },
    fanout: { type: 'string' },
    docs: { type: 'string' },
    'hub-dir': { type: 'string' },
    'broadcast-communes': { type: 'string', default: '3321' },
    'half-load': { type: 'string' },
    'scale-agencies': { type: 'string', default: '120000' },
    'scale-recipients': { type: 'string', default: '10000' },
  },
});
const quick = args.quick;
const concurrency = Number(args.concurrency);
const log = (...a: unknown[]) => console.error('[bench]', ...a);

// ---------------------------------------------------------------------------------------------
// Scenarios. Attachment bytes are chosen so that the whole signed message has the named size.
interface Scenario {
  readonly size: string;
  readonly attachmentBytes: number;
  readonly fanout: number;
  readonly docs: number;
}
// size, attachment bytes, documents at fan-out 1, fan-outs
const SIZES: [string, number, number, number[]][] = quick
  ? [
      ['5 KB', 3_000, 30, [1, 20]],
      ['50 KB', 36_000, 30, [1, 20]],
    ]
  : [
      ['5 KB', 3_000, 400, [1, 20, 100]],
      ['50 KB', 36_000, 400, [1, 20, 100]],
      ['1 MB', 760_000, 40, [1, 20]],
      ['5 MB', 3_800_000, 12, [1, 20]],
    ];
/** --only: sizes (5KB, 50KB, 1MB, 5MB), broadcast, scale; none of them (e.g. `none`): the half-load run only. */
const only = args.only ? new Set(args.only.split(',').map((o) => o.replace(/\s/g, '').toLowerCase())) : null;
const selected = (name: string) => !only || only.has(name.replace(/\s/g, '').toLowerCase());
const FANOUTS = args.fanout ? args.fanout.split(',').map(Number) : null;
/** Documents per scenario: fewer as the fan-out grows (each brings `fanout` deliveries). */
const docsAt = (sizeDocs: number, fanout: number, docs = args.docs ? Number(args.docs) : sizeDocs) =>
  fanout === 1 ? docs : Math.max(fanout >= 100 ? 4 : 6, Math.floor(docs / (fanout >= 100 ? 20 : 4)));
const SCENARIOS: Scenario[] = SIZES.filter(([size]) => selected(size)).flatMap(
  ([size, attachmentBytes, docs, fanouts]) =>
    (FANOUTS ?? fanouts).map((fanout) => ({ size, attachmentBytes, fanout, docs: docsAt(docs, fanout) })),
);
const BROADCAST = (only ? selected('broadcast') : !quick) ? Number(args['broadcast-communes']) : 0;
/** One federation hop beside the direct figure (bench/federation-hop.ts): full mode, or --only federation. */
const FEDERATION = only ? selected('federation') : !quick;
const SCALE = !quick && !args['no-scale'] && (!only || selected('scale'));
/** The checkout whose hub runs (default this one): `--hub-dir` measures the code before a change. */
const HUB_DIR = path.resolve(args['hub-dir'] ?? PROJECT_ROOT);
const CORES = os.availableParallelism();

const SENDER = 'H29.001';
const certs = path.join(PROJECT_ROOT, 'certs-dev');
const key = loadSigningKey(
  path.join(certs, 'agencies', `${SENDER}.pem`),
  path.join(certs, 'agencies', `${SENDER}.key.pem`),
);
const baseConfig = loadConfig();
const amqpUrl = baseConfig.amqp.urls[0]!;

// ---------------------------------------------------------------------------------------------
// Small statistics helpers.
function percentiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : NaN);
  const r = (x: number) => +x.toFixed(1);
  return { n: s.length, p50: r(q(0.5)), p95: r(q(0.95)), p99: r(q(0.99)), max: r(s.at(-1) ?? NaN) };
}
const rate = (n: number, ms: number) => +(n / (ms / 1000)).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The hub process, with peak RSS (VmHWM, reset per scenario through clear_refs) and CPU time read
// from /proc.
class HubProc {
  readonly port: number;
  readonly opsPort: number;
  #child: ChildProcess | null = null;
  #out = '';
  constructor(port: number, opsPort: number) {
    this.port = port;
    this.opsPort = opsPort;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  /** /metrics is served on the ops port only. */
  get opsUrl() {
    return `http://127.0.0.1:${this.opsPort}`;
  }
  get pid() {
    return this.#child?.pid ?? 0;
  }
  async start(env: Record<string, string>, profDir?: string) {
    const flags = [
      '--disable-warning=ExperimentalWarning',
      ...(process.env.BENCH_HUB_FLAGS ?? '').split(' ').filter(Boolean),
    ];
    if (profDir) flags.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
    this.#child = spawn(process.execPath, [...flags, path.join(HUB_DIR, 'src/main.ts')], {
      cwd: HUB_DIR,
      env: {
        ...process.env,
        ...env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        OPS_PORT: String(this.opsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      this.#out = (this.#out + b.toString()).slice(-10_000);
      if (b.includes('[db-stats]')) process.stderr.write(b); // HUB_DB_STATS=1 (src/store/mongo.ts)
    };
    this.#child.stdout!.on('data', keep);
    this.#child.stderr!.on('data', keep);
    const end = Date.now() + 120_000;
    for (;;) {
      const ok = await fetch(`${this.url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > end || this.#child.exitCode !== null)
        throw new Error(`hub did not start: ${this.#out.slice(-2000)}`);
      await sleep(200);
    }
  }
  /** CPU seconds (user + system) of the process and all its threads so far. */
  cpuSeconds(): number {
    const f = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  }
  /** CPU seconds per thread name (main thread, verifier workers, libuv pool, V8 helpers). */
  threadCpu(): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of readdirSync(`/proc/${this.pid}/task`)) {
      try {
        const name = readFileSync(`/proc/${this.pid}/task/${t}/comm`, 'utf8').trim();
        const f = readFileSync(`/proc/${this.pid}/task/${t}/stat`, 'utf8');
        const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
        const key = t === String(this.pid) ? 'main' : name;
        out.set(key, (out.get(key) ?? 0) + (Number(rest[11]) + Number(rest[12])) / 100);
      } catch {
        /* thread ended */
      }
    }
    return out;
  }
  resetPeak() {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      /* not permitted: the peak then covers the whole run so far */
    }
  }
  /** Peak and current resident set size, MiB. */
  memory() {
    const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
    return { peakRssMiB: +(kb('VmHWM') / 1024).toFixed(1), rssMiB: +(kb('VmRSS') / 1024).toFixed(1) };
  }
  async stop() {
    const c = this.#child;
    if (!c) return;
    if (c.exitCode !== null || c.signalCode !== null) return void (this.#child = null); // ended already
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 20_000).unref();
    });
    this.#child = null;
  }
}

/**
 * The store's processes: the one listening on the port of MONGODB_URI (FerretDB or mongod) and, when
 * it is connected to a local PostgreSQL (FerretDB's postgresql handler), that server's postmaster,
 * whose backends are counted as they come and go (see `machineCpu`). Null when the store is not on
 * this machine or not found: the store's CPU is then that of every `ferretdb`/`mongod` process.
 */
interface StoreProcs {
  readonly pids: number[];
  /** Postmasters: their live children count too, and what ended children used (cutime, cstime). */
  readonly parents: number[];
}
function tcpSockets(): { local: number; remote: number; state: string; inode: string }[] {
  const out = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      const port = (a: string) => parseInt(a.slice(a.lastIndexOf(':') + 1), 16);
      out.push({ local: port(c[1]!), remote: port(c[2]!), state: c[3]!, inode: c[9]! });
    }
  return out;
}
function socketOwners(): Map<string, number> {
  const owners = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (l.startsWith('socket:[')) owners.set(l.slice(8, -1), Number(pid));
      }
    } catch {
      /* ended or not ours */
    }
  }
  return owners;
}
/** The process listening on a local port of a URL (127.0.0.1 or localhost), or null. */
function localListener(url: string, defaultPort: number): number | null {
  const m = /^[a-z+]+:\/\/(?:[^@/]+@)?(127\.0\.0\.1|localhost)(?::(\d+))?/.exec(url);
  if (!m) return null;
  try {
    const owners = socketOwners();
    const port = Number(m[2] ?? defaultPort);
    const s = tcpSockets().find((x) => x.local === port && x.state === '0A' && owners.has(x.inode));
    return s ? owners.get(s.inode)! : null;
  } catch {
    return null;
  }
}
function findStoreProcs(uri: string): StoreProcs | null {
  const m = /^mongodb:\/\/(?:[^@/]+@)?(127\.0\.0\.1|localhost)(?::(\d+))?/.exec(uri);
  if (!m) return null;
  const port = Number(m[2] ?? 27017);
  try {
    const sockets = tcpSockets();
    const owners = socketOwners();
    const listener = (p: number) => {
      const s = sockets.find((x) => x.local === p && x.state === '0A' && owners.has(x.inode));
      return s ? owners.get(s.inode)! : null;
    };
    const store = listener(port);
    if (!store) return null;
    const parents = new Set<number>();
    for (const s of sockets)
      if (s.state === '01' && owners.get(s.inode) === store) {
        const peer = listener(s.remote);
        if (peer && peer !== store && commOf(peer) === 'postgres') parents.add(peer);
      }
    return { pids: [store], parents: [...parents] };
  } catch {
    return null;
  }
}
function commOf(pid: number | string): string {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
}
let storeProcs: StoreProcs | null = null;
/** The broker's process: the one on the AMQP URL's port (other RabbitMQ nodes on the machine, e.g.
 * the fault tests', are not counted); null: every `beam.smp`. */
let brokerPid: number | null = null;

/** CPU seconds so far of the store's and the broker's processes on this machine (the store's found by
 * `findStoreProcs`, else by command name, the broker's by port, else by name), and of the whole machine (busy and
 * all, from /proc/stat): where the cores go besides the hub. */
function machineCpu(): { store: number; broker: number; busy: number; total: number } {
  const sum = { store: 0, broker: 0 };
  const own = new Set(storeProcs?.pids ?? []);
  const parents = new Set(storeProcs?.parents ?? []);
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      const n = Number(pid);
      // rest[1]: ppid; rest[11..14]: utime, stime, cutime, cstime (clock ticks, USER_HZ = 100)
      const mine = storeProcs
        ? own.has(n) || parents.has(n) || parents.has(Number(rest[1]))
        : comm === 'ferretdb' || comm === 'mongod';
      const broker = brokerPid ? n === brokerPid : comm === 'beam.smp';
      const kind = mine ? 'store' : broker ? 'broker' : null;
      if (!kind) continue;
      const reaped = parents.has(n) ? Number(rest[13]) + Number(rest[14]) : 0;
      sum[kind] += (Number(rest[11]) + Number(rest[12]) + reaped) / 100;
    } catch {
      /* process ended */
    }
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0) / 100; // user … steal
  const idle = (cpu[3]! + cpu[4]!) / 100; // idle + iowait
  return { ...sum, busy: total - idle, total };
}

/** How busy the whole machine was between two readings of `machineCpu`, in percent. */
function busyPercent(a: ReturnType<typeof machineCpu>, b: ReturnType<typeof machineCpu>): number {
  return +((100 * (b.busy - a.busy)) / Math.max(0.01, b.total - a.total)).toFixed(1);
}

/**
 * Waits (at most `maxMs`) until the machine is quiet — under `belowPercent` busy over half a second —
 * so that the baselines are not measured while the hub, the store or the broker are still finishing
 * the scenario before (the bare verification rate halved when they were). Returns the last reading.
 */
async function quiet(belowPercent = 15, maxMs = 30_000): Promise<number> {
  const end = Date.now() + maxMs;
  for (;;) {
    const a = machineCpu();
    await sleep(500);
    const busy = busyPercent(a, machineCpu());
    if (busy < belowPercent || Date.now() > end) return busy;
  }
}

// ---------------------------------------------------------------------------------------------
function signedMessage(attachmentBytes: number, recipients: string[], extra = {}): Buffer {
  const m = documentMessage(SENDER, recipients, extra);
  m.attachments[0]!.contentBase64 = randomBytes(attachmentBytes).toString('base64');
  return Buffer.from(signEdxml(buildEdxml(m), key));
}

/** Submits every message with `concurrency` in flight (or paced at `perSecond`); times each 202. */
async function submitAll(
  client: HubClient,
  messages: Buffer[],
  opts: { concurrency: number; perSecond?: number },
): Promise<{ submitted: Map<string, number>; ackMs: number[]; refused: number; wallMs: number }> {
  const submitted = new Map<string, number>(); // docId → epoch ms of the submission start
  const ackMs: number[] = [];
  let refused = 0;
  let next = 0;
  const t0 = performance.now();
  const startEpoch = Date.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= messages.length) return;
        if (opts.perSecond) {
          const due = startEpoch + (i * 1000) / opts.perSecond;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        const at = Date.now();
        const s = performance.now();
        try {
          const r = await client.submit(messages[i]!);
          ackMs.push(performance.now() - s);
          submitted.set(r.docId, at);
        } catch (err) {
          refused++;
          if (refused <= 3) log('submission refused:', (err as Error).message);
        }
      }
    }),
  );
  return { submitted, ackMs, refused, wallMs: performance.now() - t0 };
}

/**
 * Recipients pull their inbox (500 items a page, every 0.5 s), download each item and acknowledge it,
 * until told to stop. What they list is how the benchmark learns that a delivery is available, and
 * when: each inbox item carries the worker's `availableAt` (the API, not the store's collections).
 */
function startPullers(client: HubClient, workers: number) {
  let stop = false;
  let pulled = 0;
  let bytes = 0;
  const seen = new Map<string, { docId: string; availableAt: number; pulled: boolean }>(); // by inbox item id
  const queue: string[] = [];
  const lister = (async () => {
    while (!stop) {
      try {
        const { items } = await client.inbox({ limit: 500 });
        for (const it of items)
          if (!seen.has(it.id)) {
            // Never queued twice: a listing answered after an item's ack would bring it back.
            seen.set(it.id, { docId: it.docId, availableAt: Date.parse(it.availableAt), pulled: false });
            queue.push(it.id);
          }
      } catch (err) {
        log('inbox failed:', (err as Error).message);
      }
      await sleep(queue.length ? 100 : 500);
    }
  })();
  const runners = Array.from({ length: workers }, async () => {
    while (!stop || queue.length) {
      const id = queue.shift();
      if (!id) {
        await sleep(20);
        continue;
      }
      try {
        bytes += (await client.download(id)).length;
        await client.ack(id, 'done');
        pulled++;
        seen.get(id)!.pulled = true;
      } catch (err) {
        log('pull failed:', (err as Error).message);
      }
    }
  });
  /** The listed items of these documents: how many, how many pulled, and when each was available. */
  const of = (docIds: Set<string>) => {
    const items = [...seen.values()].filter((v) => docIds.has(v.docId));
    return { listed: items.length, pulled: items.filter((v) => v.pulled).length, items };
  };
  return {
    of,
    get pulled() {
      return pulled;
    },
    async stop() {
      stop = true;
      await Promise.all([lister, ...runners]);
      return { pulled, bytes };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Baselines: the raw broker and bare verification, same sizes, same run.
async function rawBroker(messageBytes: number, n: number) {
  const conn = await amqp.connect(amqpUrl, { noDelay: true }); // the hub's socket options
  const ch = await conn.createConfirmChannel();
  const q = `bench.raw.${randomBytes(4).toString('hex')}`;
  await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const body = randomBytes(messageBytes);
  const window = 64;
  let outstanding = 0;
  let t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let confirmed = 0;
    const pump = () => {
      while (outstanding < window && sent < n) {
        outstanding++;
        sent++;
        ch.sendToQueue(q, body, { persistent: true }, (err) => {
          if (err) return reject(err instanceof Error ? err : new Error(String(err)));
          outstanding--;
          if (++confirmed === n) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const publishMs = performance.now() - t0;
  const cch = await conn.createChannel();
  await cch.prefetch(200);
  t0 = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    void cch.consume(q, (m) => {
      if (!m) return;
      cch.ack(m);
      if (++got === n) resolve();
    });
  });
  const consumeMs = performance.now() - t0;
  await cch.close();
  await ch.deleteQueue(q);
  await conn.close();
  return {
    publishConfirmPerSec: rate(n, publishMs),
    consumeAckPerSec: rate(n, consumeMs),
    roundTripPerSec: rate(n, publishMs + consumeMs),
  };
}

/**
 * The hub's own histograms of where a document's time goes, read from its /metrics: per submission
 * stage (`hub_submission_stage_seconds`, src/observability/stages.ts) and, as the entry `listing`, the
 * worker's writes from the availability stamp to the inbox entry (`hub_delivery_listing_seconds`):
 * the cumulative bucket counts and the sum.
 */
type StageSnapshot = Map<string, { buckets: [number, number][]; sum: number; count: number }>;

/** The hub's /metrics text (on a new connection each time). */
async function hubMetrics(opsUrl: string): Promise<string> {
  // A kept-alive connection the hub closes just as it is reused fails once ("other side closed"):
  // ask again on a new one.
  const metrics = async (attempt = 1): Promise<string> => {
    try {
      return await (await fetch(`${opsUrl}/metrics`, { headers: { connection: 'close' } })).text();
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(200);
      return metrics(attempt + 1);
    }
  };
  return metrics();
}

async function stageSnapshot(opsUrl: string): Promise<StageSnapshot> {
  return parseStages(await hubMetrics(opsUrl));
}

function parseStages(text: string): StageSnapshot {
  const out: StageSnapshot = new Map();
  // The submission stages by label, and the worker's listing time (availability stamp → inbox entry
  // written, `hub_delivery_listing_seconds`, no label) as the entry `listing`.
  const re =
    /^hub_(submission_stage|delivery_listing|delivery_latency)_seconds_(bucket|sum|count)(?:\{([^}]*)\})? (\S+)$/gm;
  for (const [, metric, kind, rawLabels, value] of text.matchAll(re)) {
    const labels = Object.fromEntries(
      [...(rawLabels ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    // hub_delivery_latency_seconds (acceptance → available, label mode) as the entry `available`.
    if (metric === 'delivery_latency' && labels.mode !== 'pull') continue;
    const st =
      metric === 'delivery_listing' ? 'listing' : metric === 'delivery_latency' ? 'available' : labels.stage!;
    if (!out.has(st)) out.set(st, { buckets: [], sum: 0, count: 0 });
    const e = out.get(st)!;
    const v = Number(value);
    if (kind === 'bucket') e.buckets.push([labels.le === '+Inf' ? Infinity : Number(labels.le), v]);
    else if (kind === 'sum') e.sum = v;
    else e.count = v;
  }
  return out;
}

/**
 * The hub's store statement counters (`hub_store_statements_total`, `hub_store_write_statements_total`,
 * src/store/mongo.ts) summed over commands and collections, by command, and the deliveries the worker
 * completed (`hub_deliveries_delivered_total`). `statements` is null for a hub without the counters
 * (code before 2026-12-06, run with --hub-dir): the report then shows "—".
 */
interface CounterSnapshot {
  readonly statements: {
    all: number;
    writes: number;
    byCommand: Record<string, number>;
    /** By "command collection", e.g. "insert request_signatures". */
    byCollection: Record<string, number>;
  } | null;
  readonly delivered: number;
}
async function counterSnapshot(opsUrl: string): Promise<CounterSnapshot> {
  const text = await hubMetrics(opsUrl);
  let all = 0;
  let writes = 0;
  let found = false;
  const byCommand: Record<string, number> = {};
  const byCollection: Record<string, number> = {};
  const re = /^hub_store_(write_)?statements_total\{([^}]*)\} (\S+)$/gm;
  for (const [, write, labels, value] of text.matchAll(re)) {
    found = true;
    const v = Number(value);
    if (write) writes += v;
    else {
      all += v;
      const command = /command="([^"]*)"/.exec(labels!)?.[1] ?? '?';
      byCommand[command] = (byCommand[command] ?? 0) + v;
      const key = `${command} ${/collection="([^"]*)"/.exec(labels!)?.[1] ?? '?'}`;
      byCollection[key] = (byCollection[key] ?? 0) + v;
    }
  }
  let delivered = 0;
  for (const [, value] of text.matchAll(/^hub_deliveries_delivered_total\{[^}]*\} (\S+)$/gm))
    delivered += Number(value);
  return { statements: found ? { all, writes, byCommand, byCollection } : null, delivered };
}

/** Statements (and writes) per unit between two snapshots; null without the counters. */
function statementsPer(a: CounterSnapshot, b: CounterSnapshot, units: number) {
  if (!a.statements || !b.statements) return null;
  const per = (x: number) => +(x / Math.max(1, units)).toFixed(2);
  const delta = (x: Record<string, number>, y: Record<string, number>) => {
    const d: Record<string, number> = {};
    for (const [k, v] of Object.entries(y)) if (v - (x[k] ?? 0) > 0) d[k] = per(v - (x[k] ?? 0));
    return d;
  };
  // Most first: the per-collection table lists them in this order.
  const byCollection = Object.fromEntries(
    Object.entries(delta(a.statements.byCollection, b.statements.byCollection)).sort((x, y) => y[1] - x[1]),
  );
  return {
    statements: per(b.statements.all - a.statements.all),
    writes: per(b.statements.writes - a.statements.writes),
    byCommand: delta(a.statements.byCommand, b.statements.byCommand),
    byCollection,
  };
}

/** Per stage over an interval: mean and p95 (interpolated within the histogram's buckets), in ms. */
function stagesBetween(a: StageSnapshot, b: StageSnapshot) {
  const out: Record<string, { n: number; meanMs: number; p95Ms: number }> = {};
  for (const [st, e] of b) {
    const before = a.get(st);
    const n = e.count - (before?.count ?? 0);
    if (n <= 0) continue;
    const cum = e.buckets.map(([le, c], i) => [le, c - (before?.buckets[i]?.[1] ?? 0)] as const);
    const want = 0.95 * n;
    let p95 = NaN;
    let lo = 0;
    let below = 0;
    for (const [le, c] of cum) {
      if (c >= want) {
        p95 = le === Infinity ? lo : lo + ((le - lo) * (want - below)) / Math.max(1, c - below);
        break;
      }
      lo = le;
      below = c;
    }
    out[st] = {
      n,
      meanMs: +((1000 * (e.sum - (before?.sum ?? 0))) / n).toFixed(1),
      p95Ms: +(1000 * p95).toFixed(1),
    };
  }
  return out;
}

async function bareVerification(msg: Buffer, trust: TrustStore, budgetMs: number) {
  const limits = { maxBytes: 64 * 1024 * 1024, maxDepth: 64, maxElements: 20_000 };
  await verifyEdxml(msg, trust, { limits });
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs || n < 3) {
    await verifyEdxml(msg, trust, { limits });
    n++;
  }
  return rate(n, performance.now() - t0);
}

// ---------------------------------------------------------------------------------------------
function brokerQueues(prefix: string): number | null {
  const r = spawnSync('rabbitmqctl', ['-q', 'list_queues', 'name'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return r.stdout.split('\n').filter((l) => l.startsWith(prefix)).length;
}

async function main() {
  const runId = randomBytes(3).toString('hex');
  const dbName = `bench_e2e_${runId}`;
  const prefix = `bench.${runId}`;
  const uri = baseConfig.mongodb.uri;
  const mongo = await connectMongo(uri, { dbName });
  const stores = await createMongoStores(mongo, baseConfig.credentials.key, {
    directory: baseConfig.directory,
  });
  const directory = new DirectoryService({
    store: stores.agencies,
    audit: stores.audit,
    settings: baseConfig.directory,
  });
  const build = (await mongo.db!.admin().command({ buildInfo: 1 })) as {
    version?: string;
    ferretdbVersion?: string;
  };
  const hub = new HubProc(await freePort(), await freePort());
  const profDir = args['cpu-prof'] ? path.join(PROJECT_ROOT, 'bench/results/prof') : undefined;
  const out: Record<string, unknown> = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: {
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
      memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      cores: `${CORES} (os.availableParallelism(), the "× cores" of the ratio)`,
      store: '?',
      broker: spawnSync('rabbitmqctl', ['-q', 'version'], { encoding: 'utf8' }).stdout.trim() || '?',
    },
    hub: {
      dir: HUB_DIR,
      commit:
        spawnSync('git', ['-C', HUB_DIR, 'log', '-1', '--format=%h %s'], {
          encoding: 'utf8',
        }).stdout.trim() || '?',
    },
    settings: { concurrency, verifyWorkers: Number(args['verify-workers']), sender: SENDER },
  };
  // The store's own processes (its PostgreSQL's too, for FerretDB's postgresql handler).
  storeProcs = findStoreProcs(uri);
  brokerPid = localListener(amqpUrl, 5672);
  (out.machine as Record<string, unknown>).brokerProcess = brokerPid
    ? `${brokerPid} (${commOf(brokerPid)})`
    : 'not found by port: every beam.smp counted';
  (out.machine as Record<string, unknown>).store = build.ferretdbVersion
    ? `FerretDB ${build.ferretdbVersion} (${storeProcs?.parents.length ? 'PostgreSQL' : 'SQLite'})`
    : `MongoDB ${build.version}`;
  (out.machine as Record<string, unknown>).storeProcesses = storeProcs
    ? { ...storeProcs, names: [...storeProcs.pids, ...storeProcs.parents].map(commOf) }
    : 'not found by port: every ferretdb/mongod process counted';
  const results: Record<string, unknown>[] = [];
  try {
    log(`starting the hub (db ${dbName}, queues ${prefix}.*)`);
    await hub.start(
      {
        MONGODB_URI: uri.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`),
        AMQP_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        VERIFY_WORKERS: String(args['verify-workers']),
      },
      profDir,
    );
    // Recipients: H41.001 plus new communes under H41 (as many as the largest fan-out needs, at
    // least 19), served by one system acting for all.
    const recipients = ['H41.001'];
    const most = Math.max(20, ...SCENARIOS.map((sc) => sc.fanout));
    for (let i = 0; recipients.length < most; i++) {
      const { agency } = await directory.register('bench', {
        name: `UBND xã thử tải ${runId}-${i}`,
        block: 'state',
        kind: 'commune-people-committee',
        parentCode: 'H41',
      });
      recipients.push(agency.code);
    }
    const recipientSystem = {
      systemId: `bench-recipients-${runId}`,
      secret: randomBytes(24).toString('hex'),
    };
    await stores.credentials.upsert({
      ...recipientSystem,
      agencyCodes: recipients,
      rights: ['send'],
      active: true,
    });
    const senderAuth = { baseUrl: hub.url, systemId: `dms-${SENDER}`, secret: `DEV-ONLY-secret-${SENDER}` };
    const sender = new HubClient(senderAuth);
    const receiver = new HubClient({ baseUrl: hub.url, ...recipientSystem });
    const trust = await TrustStore.fromDirectory(certs);

    async function measure(sc: Scenario, perSecond?: number) {
      const to = recipients.slice(0, sc.fanout);
      log(`${sc.size} × ${sc.fanout}: signing ${sc.docs} messages`);
      const messages = Array.from({ length: sc.docs }, () => signedMessage(sc.attachmentBytes, to));
      const expected = sc.docs * sc.fanout;
      // Warm-up (JIT, connections): a few documents not counted.
      await submitAll(sender, messages.splice(0, Math.min(3, Math.floor(sc.docs / 10))), { concurrency: 1 });
      const counted = messages.length;
      const pullers = startPullers(receiver, 4);
      hub.resetPeak();
      // The peak includes what the process kept from earlier scenarios (V8 and malloc keep freed
      // memory for a while): the growth over this scenario's start is what its messages cost.
      const rssStart = hub.memory().rssMiB;
      const cpu0 = hub.cpuSeconds();
      const threads0 = hub.threadCpu();
      const machine0 = machineCpu();
      const stages0 = await stageSnapshot(hub.opsUrl);
      const counters0 = await counterSnapshot(hub.opsUrl);
      log(`${sc.size} × ${sc.fanout}: submitting ${counted}${perSecond ? ` at ${perSecond}/s` : ''}`);
      const sub = await submitAll(sender, messages, { concurrency, ...(perSecond ? { perSecond } : {}) });
      const docIds = [...sub.submitted.keys()];
      const mine = new Set(docIds);
      // Wait until the recipients have listed every delivery (their inbox items, with the worker's
      // availableAt: the API, not the store's collections).
      const want = docIds.length * sc.fanout;
      const deadline = Date.now() + 600_000;
      while (pullers.of(mine).listed < want && Date.now() < deadline) await sleep(100);
      const cpu = hub.cpuSeconds() - cpu0;
      const { listing, available, ...stages } = stagesBetween(stages0, await stageSnapshot(hub.opsUrl));
      const machine1 = machineCpu();
      const mem = hub.memory();
      const cpuByThread: Record<string, number> = {};
      for (const [k, v] of hub.threadCpu())
        if (v - (threads0.get(k) ?? 0) > 0) cpuByThread[k] = +(v - (threads0.get(k) ?? 0)).toFixed(2);
      // Availability times, from the inbox items listed.
      const latest = new Map<string, number>();
      const e2eMs: number[] = [];
      const { listed: done, items } = pullers.of(mine);
      for (const { docId, availableAt: at } of items) {
        e2eMs.push(at - sub.submitted.get(docId)!);
        latest.set(docId, Math.max(latest.get(docId) ?? 0, at));
      }
      const first = Math.min(...sub.submitted.values());
      const last = Math.max(...latest.values());
      // Let the recipients finish pulling what is there: the statements counted cover each
      // document's life up to its deliveries downloaded and acknowledged.
      const pullDeadline = Date.now() + 120_000;
      while (pullers.of(mine).pulled < done && Date.now() < pullDeadline) await sleep(100);
      const pulled = await pullers.stop();
      const perDoc = statementsPer(counters0, await counterSnapshot(hub.opsUrl), docIds.length);
      const row = {
        size: sc.size,
        messageBytes: messages[0]?.length ?? 0,
        fanout: sc.fanout,
        documents: counted,
        accepted: docIds.length,
        refused: sub.refused,
        deliveriesAvailable: done,
        deliveriesExpected: expected - (sc.docs - counted) * sc.fanout,
        pulledAndAcked: pulled.pulled,
        // Store statements per document from the hub's counters, from the first submission until the
        // recipients acknowledged every delivery (their listings included); null: a hub without them.
        storeStatementsPerDoc: perDoc,
        storeStatementsPerDelivery: perDoc
          ? {
              statements: +(perDoc.statements / sc.fanout).toFixed(2),
              writes: +(perDoc.writes / sc.fanout).toFixed(2),
            }
          : null,
        ...(perSecond ? { pacedPerSec: perSecond } : {}),
        submitPerSec: rate(docIds.length, sub.wallMs),
        e2eDocsPerSec: rate(docIds.length, last - first),
        e2eDeliveriesPerSec: rate(e2eMs.length, last - first),
        submitTo202Ms: percentiles(sub.ackMs),
        submitToInboxMs: percentiles(e2eMs),
        submitStagesMs: stages,
        // What the inbox times above leave out: from the availability stamp to the inbox entry written.
        ...(listing ? { listingAfterStampMs: listing } : {}),
        ...(available ? { acceptedToAvailableMs: available } : {}),
        hubPeakRssMiB: mem.peakRssMiB,
        hubRssAtStartMiB: rssStart,
        hubRssGrowthMiB: +(mem.peakRssMiB - rssStart).toFixed(1),
        hubCpuMsPerDoc: +((cpu * 1000) / Math.max(1, docIds.length)).toFixed(2),
        hubCpuSecondsByThread: cpuByThread,
        // The rest of the machine over the same interval (the pullers and the harness included).
        storeCpuMsPerDoc: +(((machine1.store - machine0.store) * 1000) / Math.max(1, docIds.length)).toFixed(
          2,
        ),
        brokerCpuMsPerDoc: +(
          ((machine1.broker - machine0.broker) * 1000) /
          Math.max(1, docIds.length)
        ).toFixed(2),
        machineBusyPercent: busyPercent(machine0, machine1),
      };
      log(row);
      return { row, sample: messages[0] ?? signedMessage(sc.attachmentBytes, to) };
    }

    for (const sc of SCENARIOS) {
      const { row, sample } = await measure(sc);
      const rawN = Math.max(50, Math.min(2000, Math.floor(200_000_000 / sample.length)));
      const busyBeforeRaw = await quiet();
      const raw = await rawBroker(sample.length, quick ? Math.min(rawN, 300) : rawN);
      const busyBeforeVerify = await quiet();
      const verifyPerSec = await bareVerification(sample, trust, quick ? 500 : 3000);
      results.push({
        ...row,
        baseline: {
          rawBroker: raw,
          bareVerifyPerSecOneCore: verifyPerSec,
          machineBusyPercentBefore: { rawBroker: busyBeforeRaw, bareVerify: busyBeforeVerify },
        },
        ratios: {
          hubOverRawPublishConfirm: +(row.e2eDocsPerSec / raw.publishConfirmPerSec).toFixed(3),
          hubOverRawRoundTrip: +(row.e2eDocsPerSec / raw.roundTripPerSec).toFixed(3),
          hubOverBareVerification: +(row.e2eDocsPerSec / verifyPerSec).toFixed(3),
          // What the machine's cores could verify (os.availableParallelism(), machine.cores).
          hubOverBareVerificationAllCores: +(row.e2eDocsPerSec / (verifyPerSec * CORES)).toFixed(3),
        },
      });
    }

    // Latency at half load: 50 KB, one recipient, paced at half the throughput just measured.
    const ref = results.find((r) => r.size === '50 KB' && r.fanout === 1) as
      { e2eDocsPerSec: number; documents: number } | undefined;
    // --half-load 0: none.
    if ((ref || args['half-load']) && args['half-load'] !== '0') {
      const half = args['half-load']
        ? Number(args['half-load'])
        : Math.max(1, Math.round(ref!.e2eDocsPerSec / 2));
      const docs = quick ? Math.min(20, half * 5) : Math.min(600, half * 30);
      const { row } = await measure({ size: '50 KB', attachmentBytes: 36_000, fanout: 1, docs }, half);
      out.halfLoad = row;
    }

    if (BROADCAST)
      out.broadcast = await broadcastRun(senderAuth).catch((err: unknown) => {
        log('broadcast failed:', err);
        return { error: (err as Error).message };
      });

    if (SCALE)
      out.scale = await scaleRun(sender).catch((err: unknown) => {
        log('scale run failed:', err);
        return { error: (err as Error).message };
      });

    if (FEDERATION)
      out.federation = await federationRun({
        HubProc,
        mongoUri: uri,
        concurrency,
        docs: args.docs ? Number(args.docs) : quick ? 30 : 200,
        attachmentBytes: 36_000,
        submitAll,
        startPullers,
        counterSnapshot,
        statementsPer,
        stageSnapshot,
        stagesBetween,
        hubMetrics,
        machineCpu,
        busyPercent,
        percentiles,
        rate,
        deleteQueues,
        log,
      }).catch((err: unknown) => {
        log('federation failed:', err);
        return { error: (err as Error).message };
      });
  } finally {
    await hub.stop();
    await mongo.db!.dropDatabase().catch(() => undefined);
    await mongo.close();
    await deleteQueues(prefix);
  }
  out.results = results;
  report(out);

  /**
   * A national broadcast: `BROADCAST` new communes (3,321 by default, half under H29, half under
   * H41) through the directory's bulk import, then ONE 50 KB document naming all of them. Measures the
   * time from the submission to the last delivery available (the worker's availableAt, read once from
   * `GET /v1/documents/:id` as the sender, after the hub's `hub_deliveries_delivered_total` has counted
   * them all: the harness does not poll the store meanwhile), deliveries/s, CPU per delivery of the
   * hub, the store and the broker, the hub's memory growth (peak RSS − RSS at the submission) and the
   * store statements per delivery. Nobody pulls the deliveries.
   */
  async function broadcastRun(senderAuth: { baseUrl: string; systemId: string; secret: string }) {
    const n = BROADCAST;
    const rows = Array.from({ length: n }, (_, i) => {
      const province = i % 2 ? 'H41' : 'H29';
      return {
        code: `${province}.${1001 + Math.floor(i / 2)}`,
        name: `UBND xã phát tin ${i + 1}`,
        block: 'state',
        kind: 'commune-people-committee',
        parent: province,
      };
    });
    log(`broadcast: importing ${n} communes`);
    const t0 = performance.now();
    await directory.importCsv(
      'bench',
      stringify(rows, { header: true, columns: ['code', 'name', 'block', 'kind', 'parent'] }),
    );
    const importMs = performance.now() - t0;
    const codes = rows.map((r) => r.code);
    const message = signedMessage(36_000, codes);
    await quiet();
    hub.resetPeak();
    const rssStart = hub.memory().rssMiB;
    const cpu0 = hub.cpuSeconds();
    const machine0 = machineCpu();
    const counters0 = await counterSnapshot(hub.opsUrl);
    const stages0 = await stageSnapshot(hub.opsUrl);
    log(`broadcast: submitting one document (${message.length} B) to ${n} communes`);
    const at = Date.now();
    const s0 = performance.now();
    // One request, however long the hub takes to accept it (not resent: the time is the figure).
    const r = await new HubClient({ ...senderAuth, timeoutMs: 900_000, retry: false }).submit(message);
    const ackMs = performance.now() - s0;
    const accepted = r.recipients.filter((x) => x.outcome !== 'refused').length;
    const deadline = Date.now() + 900_000;
    let peakSeen = hub.memory().peakRssMiB;
    let available = 0;
    let lastAt = Date.now();
    while (Date.now() < deadline) {
      const c = await counterSnapshot(hub.opsUrl);
      lastAt = Date.now();
      peakSeen = hub.memory().peakRssMiB;
      available = c.delivered - counters0.delivered;
      if (available >= accepted) break;
      await sleep(250);
    }
    const cpu = hub.cpuSeconds() - cpu0;
    const machine1 = machineCpu();
    const counters1 = await counterSnapshot(hub.opsUrl);
    const {
      listing,
      available: latency,
      ...stages
    } = stagesBetween(stages0, await stageSnapshot(hub.opsUrl));
    // When the last delivery was available: when the worker's counter (read every 250 ms) reached
    // them all. (Reading the availability stamps back through GET /v1/documents/:id took over 30 s
    // for 3,321 deliveries on the loaded machine: not a harness's read to make.)
    const lastMs = lastAt - at;
    const per = statementsPer(counters0, counters1, accepted);
    const perDelivery = (x: number) => +((x * 1000) / Math.max(1, accepted)).toFixed(3);
    const row = {
      communes: n,
      importSeconds: +(importMs / 1000).toFixed(1),
      messageBytes: message.length,
      recipientsAccepted: accepted,
      recipientsRefused: r.recipients.length - accepted,
      submitTo202Ms: +ackMs.toFixed(1),
      deliveriesAvailable: available,
      submitToLastAvailableMs: lastMs,
      // Acceptance → available per delivery, from the hub's hub_delivery_latency_seconds.
      ...(latency ? { acceptedToAvailableMs: latency } : {}),
      deliveriesPerSec: rate(available, lastMs),
      hubCpuMsPerDelivery: perDelivery(cpu),
      storeCpuMsPerDelivery: perDelivery(machine1.store - machine0.store),
      brokerCpuMsPerDelivery: perDelivery(machine1.broker - machine0.broker),
      machineBusyPercent: busyPercent(machine0, machine1),
      hubRssAtStartMiB: rssStart,
      hubPeakRssMiB: Math.max(peakSeen, hub.memory().peakRssMiB),
      hubRssGrowthMiB: +(Math.max(peakSeen, hub.memory().peakRssMiB) - rssStart).toFixed(1),
      // Over the submission and every delivery (nobody lists or pulls them); null: no counters.
      storeStatementsPerDelivery: per,
      submitStagesMs: stages,
      ...(listing ? { listingAfterStampMs: listing } : {}),
    };
    log('broadcast', row);
    return row;
  }

  async function scaleRun(sender: HubClient) {
    // 120,000 agencies: 899 new units under H29, each with its sub-units, through the bulk import.
    const target = Number(args['scale-agencies']);
    const rows: Record<string, string>[] = [];
    for (let g = 101; g <= 999 && rows.length < target; g++) {
      rows.push({
        code: `H29.${g}`,
        name: `Đơn vị ${g}`,
        block: 'state',
        kind: 'department',
        parent: 'H29',
      });
      for (let c = 1; c <= 133 && rows.length < target; c++)
        rows.push({
          code: `H29.${g}.${String(c).padStart(3, '0')}`,
          name: `Đơn vị ${c} thuộc ${g}`,
          block: 'state',
          kind: 'public-service-unit',
          parent: `H29.${g}`,
        });
    }
    log(`scale: importing ${rows.length} agencies`);
    const t0 = performance.now();
    let lastLog = 0;
    await directory.importCsv(
      'bench',
      stringify(rows, { header: true, columns: ['code', 'name', 'block', 'kind', 'parent'] }),
      {
        onProgress: (p) => {
          if (Date.now() - lastLog > 5000) {
            lastLog = Date.now();
            log(`scale: ${p.phase} ${p.done}/${p.total}`);
          }
        },
      },
    );
    const importMs = performance.now() - t0;
    const leaves = rows.filter((r) => r.code!.split('.').length === 3).map((r) => r.code!);
    const queuesBefore = brokerQueues(prefix);
    const fanout = 20;
    const docs = Math.min(
      Math.floor(leaves.length / fanout),
      Math.ceil(Number(args['scale-recipients']) / fanout),
    );
    const messages = Array.from({ length: docs }, (_, i) =>
      signedMessage(3_000, leaves.slice(i * fanout, (i + 1) * fanout)),
    );
    hub.resetPeak();
    const cpu0 = hub.cpuSeconds();
    log(`scale: submitting ${docs} documents to ${docs * fanout} distinct recipients`);
    const counters0 = await counterSnapshot(hub.opsUrl);
    const sub = await submitAll(sender, messages, { concurrency });
    const docIds = [...sub.submitted.keys()];
    // Every delivery made available, as the hub's worker counts them (nobody pulls in this run).
    const deadline = Date.now() + 900_000;
    let available = 0;
    while (Date.now() < deadline) {
      available = (await counterSnapshot(hub.opsUrl)).delivered - counters0.delivered;
      if (available >= docIds.length * fanout) break;
      await sleep(500);
    }
    const wall = Date.now() - Math.min(...sub.submitted.values());
    // The recipients of the accepted documents (their codes are distinct by construction).
    const distinctRecipients = new Set(
      messages.slice(0, docIds.length).flatMap((_, i) => leaves.slice(i * fanout, (i + 1) * fanout)),
    ).size;
    const row = {
      agencies: await mongo.collection('agencies').estimatedDocumentCount(),
      importSeconds: +(importMs / 1000).toFixed(1),
      documents: docs,
      accepted: docIds.length,
      distinctRecipientsPending: distinctRecipients,
      deliveriesAvailable: available,
      submitPerSec: rate(docIds.length, sub.wallMs),
      e2eDocsPerSec: rate(docIds.length, wall),
      submitTo202Ms: percentiles(sub.ackMs),
      hubPeakRssMiB: hub.memory().peakRssMiB,
      hubCpuMsPerDoc: +(((hub.cpuSeconds() - cpu0) * 1000) / Math.max(1, docIds.length)).toFixed(2),
      brokerQueuesBefore: queuesBefore,
      brokerQueuesAfter: brokerQueues(prefix),
    };
    log('scale', row);
    return row;
  }
}

async function deleteQueues(prefix: string) {
  const r = spawnSync('rabbitmqctl', ['-q', 'list_queues', 'name'], { encoding: 'utf8' });
  const names = r.stdout.split('\n').filter((l) => l.startsWith(prefix));
  if (!names.length) return;
  const conn = await amqp.connect(amqpUrl);
  const ch = await conn.createChannel();
  for (const n of names) await ch.deleteQueue(n).catch(() => undefined);
  for (const x of ['deliver', 'retry', 'dead', 'agency'])
    await ch.deleteExchange(`${prefix}.${x}`).catch(() => undefined);
  await conn.close().catch(() => undefined);
}

/**
 * Store statements per document by command and collection (the hub's `hub_store_statements_total`),
 * a column per scenario; `—` when the hub has no counters.
 */
function statementsByCollection(rows: Record<string, unknown>[]): string[] {
  const per = rows.map(
    (r) => (r.storeStatementsPerDoc as { byCollection?: Record<string, number> } | null)?.byCollection,
  );
  const keys = [...new Set(per.flatMap((p) => Object.keys(p ?? {})))];
  if (keys.length === 0) return [];
  const total = (k: string) => per.reduce((n, p) => n + (p?.[k] ?? 0), 0);
  keys.sort((x, y) => total(y) - total(x));
  return [
    '',
    `| statements per document | ${rows.map((r) => `${r.size as string} × ${r.fanout as number}`).join(' | ')} |`,
    `|---|${rows.map(() => '---|').join('')}`,
    ...keys.map((k) => `| ${k} | ${per.map((p) => (p ? (p[k] ?? 0) : '—')).join(' | ')} |`),
  ];
}

function report(out: Record<string, unknown>) {
  const rows = out.results as (Record<string, unknown> & {
    submitTo202Ms: { p50: number; p95: number; p99: number };
    submitToInboxMs: { p50: number; p95: number; p99: number };
    baseline: {
      rawBroker: { publishConfirmPerSec: number; consumeAckPerSec: number };
      bareVerifyPerSecOneCore: number;
    };
    ratios: {
      hubOverRawPublishConfirm: number;
      hubOverBareVerification: number;
      hubOverBareVerificationAllCores: number;
    };
    storeStatementsPerDoc: { statements: number; writes: number } | null;
    storeStatementsPerDelivery: { statements: number; writes: number } | null;
  })[];
  const st = (x: { statements: number; writes: number } | null | undefined) =>
    x ? `${x.statements} (${x.writes})` : '—';
  const lines = [
    `Hub: ${(out.hub as { dir: string; commit: string }).commit} (${(out.hub as { dir: string }).dir}); store: ${(out.machine as { store: string }).store}; cores: ${CORES}`,
    '',
    `| message | fan-out | docs | hub docs/s (e2e) | deliveries/s | 202 p50/p95/p99 ms | inbox p50/p95/p99 ms | peak RSS MiB (start + growth) | CPU ms/doc hub / store / broker | store CPU ms/delivery | store statements/doc (writes) | per delivery (writes) | machine busy % | raw publish+confirm /s | raw consume+ack /s | bare verify /s | hub ÷ raw publish | hub ÷ verify | hub ÷ (verify × ${CORES} cores) |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of rows)
    lines.push(
      `| ${r.size as string} (${r.messageBytes as number} B) | ${r.fanout as number} | ${r.accepted as number} | ${r.e2eDocsPerSec as number} | ${r.e2eDeliveriesPerSec as number} | ${r.submitTo202Ms.p50} / ${r.submitTo202Ms.p95} / ${r.submitTo202Ms.p99} | ${r.submitToInboxMs.p50} / ${r.submitToInboxMs.p95} / ${r.submitToInboxMs.p99} | ${r.hubPeakRssMiB as number} (${r.hubRssAtStartMiB as number} + ${r.hubRssGrowthMiB as number}) | ${r.hubCpuMsPerDoc as number} / ${r.storeCpuMsPerDoc as number} / ${r.brokerCpuMsPerDoc as number} | ${+((r.storeCpuMsPerDoc as number) / (r.fanout as number)).toFixed(2)} | ${st(r.storeStatementsPerDoc)} | ${st(r.storeStatementsPerDelivery)} | ${r.machineBusyPercent as number} | ${r.baseline.rawBroker.publishConfirmPerSec} | ${r.baseline.rawBroker.consumeAckPerSec} | ${r.baseline.bareVerifyPerSecOneCore} | ${r.ratios.hubOverRawPublishConfirm} | ${r.ratios.hubOverBareVerification} | ${r.ratios.hubOverBareVerificationAllCores} |`,
    );
  const half = out.halfLoad as
    | {
        pacedPerSec: number;
        submitToInboxMs: { p50: number; p95: number; p99: number };
        accepted: number;
        fanout: number;
        size: string;
        messageBytes: number;
        listingAfterStampMs?: { meanMs: number; p95Ms: number };
      }
    | undefined;
  if (half)
    lines.push(
      '',
      `Half load (50 KB, 1 recipient, paced at ${half.pacedPerSec}/s, ${half.accepted} docs): submit → inbox p50 ${half.submitToInboxMs.p50} ms, p95 ${half.submitToInboxMs.p95} ms, p99 ${half.submitToInboxMs.p99} ms` +
        (half.listingAfterStampMs
          ? ` (stamped as available; listed in the inbox after a further mean ${half.listingAfterStampMs.meanMs} / p95 ${half.listingAfterStampMs.p95Ms} ms).`
          : '.'),
    );
  // Where the 202's time goes, from the hub's own stage histogram; last column, the worker's listing
  // writes after the availability stamp that the inbox times are taken at.
  const STAGES = ['verify', 'checks', 'store', 'publish', 'outbox'];
  lines.push(
    '',
    `| message | fan-out | ${STAGES.map((st) => `${st} mean / p95 ms`).join(' | ')} | listing after the stamp mean / p95 ms |`,
    `|---|---|${STAGES.map(() => '---|').join('')}---|`,
  );
  type Timing = { meanMs: number; p95Ms: number };
  const cell = (t: Timing | undefined) => (t ? `${t.meanMs} / ${t.p95Ms}` : '–');
  const bc = out.broadcast as { communes?: number; submitStagesMs?: unknown } | undefined;
  for (const r of [
    ...rows,
    ...(half ? [{ ...half, size: `${half.size} (half load)` }] : []),
    ...(bc?.submitStagesMs ? [{ ...bc, size: '50 KB (broadcast)', fanout: bc.communes }] : []),
  ]) {
    const { submitStagesMs: st, listingAfterStampMs: listing } = r as {
      submitStagesMs?: Record<string, Timing>;
      listingAfterStampMs?: Timing;
    };
    if (!st) continue;
    lines.push(
      `| ${r.size as string} | ${r.fanout as number} | ${STAGES.map((k) => cell(st[k])).join(' | ')} | ${cell(listing)} |`,
    );
  }
  const b = out.broadcast as
    | {
        communes: number;
        recipientsAccepted: number;
        messageBytes: number;
        submitTo202Ms: number;
        submitToLastAvailableMs: number;
        deliveriesPerSec: number;
        hubCpuMsPerDelivery: number;
        storeCpuMsPerDelivery: number;
        brokerCpuMsPerDelivery: number;
        hubRssAtStartMiB: number;
        hubRssGrowthMiB: number;
        machineBusyPercent: number;
        storeStatementsPerDelivery: { statements: number; writes: number } | null;
        error?: string;
      }
    | undefined;
  if (b?.error) lines.push('', `National broadcast failed: ${b.error}`);
  else if (b)
    lines.push(
      '',
      `| national broadcast | recipients | 202 ms | submit → last available s | deliveries/s | CPU ms/delivery hub / store / broker | hub RSS MiB (start + growth) | store statements/delivery (writes) | machine busy % |`,
      `|---|---|---|---|---|---|---|---|---|`,
      `| 50 KB (${b.messageBytes} B) to ${b.communes} communes | ${b.recipientsAccepted} | ${b.submitTo202Ms} | ${+(b.submitToLastAvailableMs / 1000).toFixed(1)} | ${b.deliveriesPerSec} | ${b.hubCpuMsPerDelivery} / ${b.storeCpuMsPerDelivery} / ${b.brokerCpuMsPerDelivery} | ${b.hubRssAtStartMiB} + ${b.hubRssGrowthMiB} | ${st(b.storeStatementsPerDelivery)} | ${b.machineBusyPercent} |`,
    );
  lines.push(...federationLines(out.federation));
  lines.push(...statementsByCollection(rows));
  if (out.scale) lines.push('', `Scale run: ${JSON.stringify(out.scale)}`);
  console.log(lines.join('\n'));
  const file =
    args.out ??
    path.join(
      PROJECT_ROOT,
      'bench/results',
      quick ? 'e2e-quick.tmp.json' : `e2e-${new Date().toISOString().slice(0, 10)}.json`,
    );
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  log(`JSON written to ${path.relative(PROJECT_ROOT, file)}`);
}

await main();
