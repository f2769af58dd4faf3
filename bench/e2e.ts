/**
 * End-to-end benchmark (issue 9, docs/benchmarks.md): the hub as its own process (api + worker
 * roles) on the real RabbitMQ and FerretDB, simulated agencies submitting signed edXML over HTTP at
 * a fixed concurrency, recipients pulling and acknowledging; and, in the same run, the raw engines
 * it is compared with (amqplib publish-with-confirm + consume-and-ack of the same sizes on the same
 * broker; bare signature verification of the same messages).
 *
 *   npm run bench [-- --quick] [--concurrency 8] [--only 50KB] [--no-scale] [--scale-agencies 120000]
 *                 [--scale-recipients 10000] [--verify-workers 2] [--out file.json] [--cpu-prof]
 *                 [--half-load 11]   (pace of the half-load run, documents/s; with --only none, only it)
 *
 * Prints a markdown table and writes the JSON (default bench/results/e2e-<date>.json; with --quick
 * bench/results/e2e-quick.tmp.json). Figures only: nothing is asserted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '8' },
    'no-scale': { type: 'boolean', default: false },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'verify-workers': { type: 'string', default: '2' },
    only: { type: 'string' },
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
const SIZES: [string, number, number][] = quick
  ? [
      ['5 KB', 3_000, 30],
      ['50 KB', 36_000, 30],
    ]
  : [
      ['5 KB', 3_000, 400],
      ['50 KB', 36_000, 400],
      ['1 MB', 760_000, 40],
      ['5 MB', 3_800_000, 12],
    ];
const SCENARIOS: Scenario[] = SIZES.filter(
  ([size]) => !args.only || size.replace(' ', '') === args.only,
).flatMap(([size, attachmentBytes, docs]) => [
  { size, attachmentBytes, fanout: 1, docs },
  { size, attachmentBytes, fanout: 20, docs: Math.max(6, Math.floor(docs / 4)) },
]);

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
    this.#child = spawn(process.execPath, [...flags, path.join(PROJECT_ROOT, 'src/main.ts')], {
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
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 20_000).unref();
    });
    this.#child = null;
  }
}

/** CPU seconds so far of the store's and the broker's processes on this machine (by command name),
 * and of the whole machine (busy and all, from /proc/stat): where the cores go besides the hub. */
function machineCpu(): { store: number; broker: number; busy: number; total: number } {
  const sum = { store: 0, broker: 0 };
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      const kind = comm === 'ferretdb' || comm === 'mongod' ? 'store' : comm === 'beam.smp' ? 'broker' : null;
      if (!kind) continue;
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      sum[kind] += (Number(rest[11]) + Number(rest[12])) / 100;
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

/** Recipients pull their inbox, download each item and acknowledge it, until told to stop. */
function startPullers(client: HubClient, workers: number) {
  let stop = false;
  let pulled = 0;
  let bytes = 0;
  const inFlight = new Set<string>();
  const queue: string[] = [];
  const lister = (async () => {
    while (!stop) {
      try {
        const { items } = await client.inbox({ limit: 500 });
        for (const it of items)
          if (!inFlight.has(it.id)) {
            inFlight.add(it.id);
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
      } catch (err) {
        log('pull failed:', (err as Error).message);
      }
      inFlight.delete(id);
    }
  });
  return {
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

async function stageSnapshot(opsUrl: string): Promise<StageSnapshot> {
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
  const text = await metrics();
  const out: StageSnapshot = new Map();
  // The submission stages by label, and the worker's listing time (availability stamp → inbox entry
  // written, `hub_delivery_listing_seconds`, no label) as the entry `listing`.
  const re = /^hub_(submission_stage|delivery_listing)_seconds_(bucket|sum|count)(?:\{([^}]*)\})? (\S+)$/gm;
  for (const [, metric, kind, rawLabels, value] of text.matchAll(re)) {
    const labels = Object.fromEntries(
      [...(rawLabels ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    const st = metric === 'delivery_listing' ? 'listing' : labels.stage!;
    if (!out.has(st)) out.set(st, { buckets: [], sum: 0, count: 0 });
    const e = out.get(st)!;
    const v = Number(value);
    if (kind === 'bucket') e.buckets.push([labels.le === '+Inf' ? Infinity : Number(labels.le), v]);
    else if (kind === 'sum') e.sum = v;
    else e.count = v;
  }
  return out;
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
      store: build.ferretdbVersion
        ? `FerretDB ${build.ferretdbVersion} (SQLite)`
        : `MongoDB ${build.version}`,
      broker: spawnSync('rabbitmqctl', ['-q', 'version'], { encoding: 'utf8' }).stdout.trim() || '?',
    },
    settings: { concurrency, verifyWorkers: Number(args['verify-workers']), sender: SENDER },
  };
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
    // Recipients: H41.001 plus 19 new communes under H41, served by one system acting for all.
    const recipients = ['H41.001'];
    for (let i = 0; recipients.length < 20; i++) {
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
    const sender = new HubClient({
      baseUrl: hub.url,
      systemId: `dms-${SENDER}`,
      secret: `DEV-ONLY-secret-${SENDER}`,
    });
    const receiver = new HubClient({ baseUrl: hub.url, ...recipientSystem });
    const trust = await TrustStore.fromDirectory(certs);
    const Delivery = mongo.collection('deliveries');

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
      log(`${sc.size} × ${sc.fanout}: submitting ${counted}${perSecond ? ` at ${perSecond}/s` : ''}`);
      const sub = await submitAll(sender, messages, { concurrency, ...(perSecond ? { perSecond } : {}) });
      const docIds = [...sub.submitted.keys()];
      // Wait until every delivery is available (or already acknowledged) in the inbox. Counting
      // them scans the deliveries (FerretDB pushes no such filter down): done only once the pullers
      // have pulled as many, or every 5 s, so that the harness does not load the store it measures.
      const want = docIds.length * sc.fanout;
      const deadline = Date.now() + 600_000;
      let done = 0;
      let checkedAt = 0;
      while (Date.now() < deadline) {
        const due = pullers.pulled >= want ? 1_000 : 5_000;
        if (Date.now() - checkedAt >= due) {
          checkedAt = Date.now();
          done = 0;
          for (let i = 0; i < docIds.length; i += 200)
            done += await Delivery.countDocuments({
              docId: { $in: docIds.slice(i, i + 200) },
              transport: { $in: ['available', 'acknowledged'] },
            });
          if (done >= want) break;
        }
        await sleep(100);
      }
      const cpu = hub.cpuSeconds() - cpu0;
      const { listing, ...stages } = stagesBetween(stages0, await stageSnapshot(hub.opsUrl));
      const machine1 = machineCpu();
      const mem = hub.memory();
      const cpuByThread: Record<string, number> = {};
      for (const [k, v] of hub.threadCpu())
        if (v - (threads0.get(k) ?? 0) > 0) cpuByThread[k] = +(v - (threads0.get(k) ?? 0)).toFixed(2);
      // Collect availability times.
      const latest = new Map<string, number>();
      const e2eMs: number[] = [];
      for (let i = 0; i < docIds.length; i += 200) {
        const rows = await Delivery.find(
          { docId: { $in: docIds.slice(i, i + 200) } },
          { projection: { docId: 1, availableAt: 1 } },
        ).toArray();
        for (const r of rows) {
          const at = (r.availableAt as Date | undefined)?.getTime();
          if (at === undefined) continue;
          const docId = r.docId as string;
          e2eMs.push(at - sub.submitted.get(docId)!);
          latest.set(docId, Math.max(latest.get(docId) ?? 0, at));
        }
      }
      const first = Math.min(...sub.submitted.values());
      const last = Math.max(...latest.values());
      // Let the recipients finish pulling what is there.
      const pullDeadline = Date.now() + 120_000;
      while (pullers.pulled < done && Date.now() < pullDeadline) await sleep(100);
      const pulled = await pullers.stop();
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
        ...(perSecond ? { pacedPerSec: perSecond } : {}),
        submitPerSec: rate(docIds.length, sub.wallMs),
        e2eDocsPerSec: rate(docIds.length, last - first),
        e2eDeliveriesPerSec: rate(e2eMs.length, last - first),
        submitTo202Ms: percentiles(sub.ackMs),
        submitToInboxMs: percentiles(e2eMs),
        submitStagesMs: stages,
        // What the inbox times above leave out: from the availability stamp to the inbox entry written.
        ...(listing ? { listingAfterStampMs: listing } : {}),
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
        },
      });
    }

    // Latency at half load: 50 KB, one recipient, paced at half the throughput just measured.
    const ref = results.find((r) => r.size === '50 KB' && r.fanout === 1) as
      { e2eDocsPerSec: number; documents: number } | undefined;
    if (ref || args['half-load']) {
      const half = args['half-load']
        ? Number(args['half-load'])
        : Math.max(1, Math.round(ref!.e2eDocsPerSec / 2));
      const docs = quick ? Math.min(20, half * 5) : Math.min(600, half * 30);
      const { row } = await measure({ size: '50 KB', attachmentBytes: 36_000, fanout: 1, docs }, half);
      out.halfLoad = row;
    }

    if (!quick && !args['no-scale'])
      out.scale = await scaleRun(sender, Delivery).catch((err: unknown) => {
        log('scale run failed:', err);
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

  async function scaleRun(sender: HubClient, Delivery: ReturnType<typeof mongo.collection>) {
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
    const sub = await submitAll(sender, messages, { concurrency });
    const docIds = [...sub.submitted.keys()];
    const deadline = Date.now() + 900_000;
    let available = 0;
    while (Date.now() < deadline) {
      available = 0;
      for (let i = 0; i < docIds.length; i += 200)
        available += await Delivery.countDocuments({
          docId: { $in: docIds.slice(i, i + 200) },
          transport: 'available',
        });
      if (available >= docIds.length * fanout) break;
      await sleep(2_000); // each count scans the deliveries: do not load the store being measured
    }
    const wall = Date.now() - Math.min(...sub.submitted.values());
    const distinctRecipients = new Set(
      (await Delivery.distinct('recipientCode', { docId: { $in: docIds.slice(0, docs) } })) as string[],
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

function report(out: Record<string, unknown>) {
  const rows = out.results as (Record<string, unknown> & {
    submitTo202Ms: { p50: number; p95: number; p99: number };
    submitToInboxMs: { p50: number; p95: number; p99: number };
    baseline: {
      rawBroker: { publishConfirmPerSec: number; consumeAckPerSec: number };
      bareVerifyPerSecOneCore: number;
    };
    ratios: { hubOverRawPublishConfirm: number; hubOverBareVerification: number };
  })[];
  const lines = [
    `| message | fan-out | docs | hub docs/s (e2e) | deliveries/s | 202 p50/p95/p99 ms | inbox p50/p95/p99 ms | peak RSS MiB (start + growth) | CPU ms/doc hub / store / broker | machine busy % | raw publish+confirm /s | raw consume+ack /s | bare verify /s | hub ÷ raw publish | hub ÷ verify |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of rows)
    lines.push(
      `| ${r.size as string} (${r.messageBytes as number} B) | ${r.fanout as number} | ${r.accepted as number} | ${r.e2eDocsPerSec as number} | ${r.e2eDeliveriesPerSec as number} | ${r.submitTo202Ms.p50} / ${r.submitTo202Ms.p95} / ${r.submitTo202Ms.p99} | ${r.submitToInboxMs.p50} / ${r.submitToInboxMs.p95} / ${r.submitToInboxMs.p99} | ${r.hubPeakRssMiB as number} (${r.hubRssAtStartMiB as number} + ${r.hubRssGrowthMiB as number}) | ${r.hubCpuMsPerDoc as number} / ${r.storeCpuMsPerDoc as number} / ${r.brokerCpuMsPerDoc as number} | ${r.machineBusyPercent as number} | ${r.baseline.rawBroker.publishConfirmPerSec} | ${r.baseline.rawBroker.consumeAckPerSec} | ${r.baseline.bareVerifyPerSecOneCore} | ${r.ratios.hubOverRawPublishConfirm} | ${r.ratios.hubOverBareVerification} |`,
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
  for (const r of [...rows, ...(half ? [{ ...half, size: `${half.size} (half load)` }] : [])]) {
    const { submitStagesMs: st, listingAfterStampMs: listing } = r as {
      submitStagesMs?: Record<string, Timing>;
      listingAfterStampMs?: Timing;
    };
    if (!st) continue;
    lines.push(
      `| ${r.size as string} | ${r.fanout as number} | ${STAGES.map((k) => cell(st[k])).join(' | ')} | ${cell(listing)} |`,
    );
  }
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
