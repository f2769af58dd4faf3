/**
 * A local hub cluster on 127.0.0.1, for fault tests and demonstrations of the production layout:
 *
 *   - a 3-node RabbitMQ cluster: own node names (<name>1..3@localhost), AMQP and Erlang-distribution
 *     ports (real free ports), data, log and config directories, management disabled, joined with
 *     `rabbitmqctl join_cluster`. The machine's own node (rabbit@<host>, port 5672) is never touched;
 *   - N api and M worker hub processes (`HUB_ROLES=api` / `worker`, src/main.ts), each with the node
 *     list in AMQP_URL (rotated, so connections spread over the nodes), all against one dedicated
 *     database on the MongoDB/FerretDB of MONGODB_URI (default 127.0.0.1:27017).
 *
 * Commands (scripts/cluster-up and scripts/cluster-down are the wrappers):
 *   up     [--dir D] [--name hubc] [--db hubcluster] [--apis 2] [--workers 2] [--shards 4]
 *          [--prefix hubc] [--log-level warn]
 *   down   [--dir D] [--keep-data] [--drop-db]
 *   status [--dir D]
 *   kill   <member> [--dir D] [--signal KILL]      (member: rabbit1..3, api1.., worker1..)
 *   start  <member> [--dir D]
 *
 * Everything started is recorded in <dir>/cluster.json (written before anything starts, so `down`
 * also cleans up a half-started cluster); logs go to <dir>/logs/. Processes are stopped by PID only,
 * and a PID is used only after checking, in /proc/<pid>/environ, that it is the member it claims to
 * be (RABBITMQ_NODENAME for a node, HUB_CLUSTER_MEMBER for a hub process).
 * RabbitMQ runs as the rabbitmq user (the Debian wrapper drops to it when run as root), so the data
 * directories are given to that user; all nodes and rabbitmqctl share that user's Erlang cookie
 * (/var/lib/rabbitmq/.erlang.cookie, found through HOME=/var/lib/rabbitmq set by the wrapper).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RabbitMember {
  readonly id: string; // rabbit1..3
  readonly node: string; // <name>1@localhost
  readonly port: number;
  readonly distPort: number;
  readonly dir: string;
}

export interface HubMember {
  readonly id: string; // api1.., worker1..
  readonly role: 'api' | 'worker';
  readonly port: number;
  readonly amqpUrls: readonly string[];
}

export interface ClusterState {
  readonly version: 1;
  readonly dir: string;
  readonly name: string;
  readonly db: string;
  readonly mongoUri: string;
  readonly prefix: string;
  readonly shards: number;
  readonly logLevel: string;
  readonly rabbit: readonly RabbitMember[];
  readonly hubs: readonly HubMember[];
  readonly startedAt: string;
}

export interface UpOptions {
  readonly dir?: string;
  readonly name?: string;
  readonly db?: string;
  readonly mongoUri?: string;
  readonly apis?: number;
  readonly workers?: number;
  readonly shards?: number;
  readonly prefix?: string;
  readonly logLevel?: string;
  /** Progress lines (the CLI prints them). */
  readonly progress?: (line: string) => void;
}

export const DEFAULT_DIR = path.join(tmpdir(), 'hub-cluster');
const STATE_FILE = 'cluster.json';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- ports, processes, files

/** Distinct free loopback ports: all are held open until every one is chosen. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  } catch {
    return [];
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`);
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  return !alive(pid);
}

function logTail(file: string, chars = 1500): string {
  try {
    const s = readFileSync(file, 'utf8');
    return s.slice(-chars);
  } catch {
    return '';
  }
}

export function loadState(dir = DEFAULT_DIR): ClusterState | null {
  const f = path.join(dir, STATE_FILE);
  if (!existsSync(f)) return null;
  return JSON.parse(readFileSync(f, 'utf8')) as ClusterState;
}

function saveState(s: ClusterState): void {
  writeFileSync(path.join(s.dir, STATE_FILE), JSON.stringify(s, null, 2) + '\n');
}

/** mongodb://host[,host]/[db][?opts] with the database replaced. */
export function withDatabase(uri: string, db: string): string {
  const [base, query] = uri.split('?', 2) as [string, string | undefined];
  const schemeEnd = base.indexOf('://') + 3;
  const slash = base.indexOf('/', schemeEnd);
  const hosts = slash === -1 ? base : base.slice(0, slash);
  return `${hosts}/${db}${query ? `?${query}` : ''}`;
}

// ---------------------------------------------------------------- RabbitMQ nodes

function rabbitEnv(m: RabbitMember): Record<string, string> {
  return {
    RABBITMQ_NODENAME: m.node,
    RABBITMQ_NODE_PORT: String(m.port),
    RABBITMQ_DIST_PORT: String(m.distPort),
    RABBITMQ_CONFIG_FILE: path.join(m.dir, 'rabbitmq'),
    RABBITMQ_MNESIA_BASE: path.join(m.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(m.dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(m.dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(m.dir, 'pid'),
  };
}

/** rabbitmqctl against one of our nodes (never the machine's default node). */
export function rabbitmqctl(
  node: string,
  args: readonly string[],
  timeoutMs = 60_000,
): { ok: boolean; out: string } {
  const r = spawnSync('rabbitmqctl', ['-n', node, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function prepareRabbitDir(m: RabbitMember): void {
  if (existsSync(path.join(m.dir, 'rabbitmq.conf'))) return;
  mkdirSync(path.join(m.dir, 'mnesia'), { recursive: true });
  mkdirSync(path.join(m.dir, 'log'), { recursive: true });
  writeFileSync(path.join(m.dir, 'enabled_plugins'), '[].\n'); // no management plugin, no listeners but AMQP
  writeFileSync(
    path.join(m.dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.local = 127.0.0.1:${m.port}`,
      // A node cut off from the majority pauses instead of diverging (production setting too).
      'cluster_partition_handling = pause_minority',
      '',
    ].join('\n'),
  );
  // rabbitmq-server drops to the rabbitmq user: it must own its directories (and reach them).
  const uid = Number(spawnSync('id', ['-u', 'rabbitmq'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'rabbitmq'], { encoding: 'utf8' }).stdout.trim());
  if (Number.isInteger(uid) && Number.isInteger(gid)) {
    spawnSync('chown', ['-R', `${uid}:${gid}`, m.dir]);
    chownSync(path.dirname(m.dir), uid, gid);
  }
}

/** PIDs of the beam.smp processes of one of our nodes, found by the node name in their environment. */
export function beamPids(m: RabbitMember): number[] {
  const fromFile = readPid(path.join(m.dir, 'pid'));
  const marker = `RABBITMQ_NODENAME=${m.node}`;
  const ok = (pid: number) => environOf(pid).includes(marker);
  if (fromFile && alive(fromFile) && ok(fromFile)) return [fromFile];
  // No (or a stale) pid file: the node may still be booting. Look for our node name among beam processes.
  const out: number[] = [];
  for (const entry of spawnSync('ls', ['/proc'], { encoding: 'utf8' }).stdout.split('\n')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'beam.smp') continue;
    } catch {
      continue;
    }
    if (ok(pid)) out.push(pid);
  }
  return out;
}

export async function startRabbit(m: RabbitMember, timeoutMs = 120_000): Promise<void> {
  prepareRabbitDir(m);
  const r = spawnSync('rabbitmq-server', ['-detached'], {
    env: { ...process.env, ...rabbitEnv(m) },
    stdio: 'ignore',
  });
  if (r.status !== 0) throw new Error(`rabbitmq-server -detached failed for ${m.node} (exit ${r.status})`);
  await waitFor(() => portOpen(m.port), timeoutMs, `RabbitMQ node ${m.node} on port ${m.port}`).catch(
    (err: Error) => {
      const log = logTail(path.join(m.dir, 'log', `${m.node}.log`));
      throw new Error(`${err.message}\n${log}`);
    },
  );
  await waitFor(
    () => rabbitmqctl(m.node, ['await_startup', '--timeout', '30'], 40_000).ok,
    timeoutMs,
    `${m.node} to finish booting`,
  );
}

/** SIGKILL (or another signal) to the node's beam process: the node dies at once, as in a crash. */
export async function killRabbit(m: RabbitMember, signal: NodeJS.Signals = 'SIGKILL'): Promise<number[]> {
  const pids = beamPids(m);
  for (const pid of pids) process.kill(pid, signal);
  for (const pid of pids) await waitGone(pid, 15_000);
  return pids;
}

async function stopRabbit(m: RabbitMember): Promise<void> {
  if (beamPids(m).length === 0) return;
  rabbitmqctl(m.node, ['stop'], 30_000);
  const left = beamPids(m);
  for (const pid of left) if (!(await waitGone(pid, 10_000))) process.kill(pid, 'SIGKILL');
}

/** Running nodes of the cluster, as seen by `node`. */
export function runningNodes(node: string): string[] {
  const r = rabbitmqctl(node, ['cluster_status', '--formatter', 'json'], 30_000);
  if (!r.ok) return [];
  const json = r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1);
  try {
    return (JSON.parse(json) as { running_nodes?: string[] }).running_nodes ?? [];
  } catch {
    return [];
  }
}

export interface QueueInfo {
  readonly name: string;
  readonly type: string;
  readonly messages: number;
  readonly members: string[];
  readonly online: string[];
  readonly leader: string;
}

/** Queues of the cluster with their replicas (quorum queues: members, online members, leader). */
export function listQueues(node: string): QueueInfo[] {
  const r = rabbitmqctl(
    node,
    ['list_queues', '-q', '--formatter', 'json', 'name', 'type', 'messages', 'members', 'online', 'leader'],
    60_000,
  );
  if (!r.ok) throw new Error(`list_queues on ${node} failed: ${r.out.slice(0, 500)}`);
  const json = r.out.slice(r.out.indexOf('['), r.out.lastIndexOf(']') + 1);
  const rows = JSON.parse(json) as {
    name: string;
    type: string;
    messages: number | string;
    members?: string[] | string;
    online?: string[] | string;
    leader?: string;
  }[];
  const list = (v: string[] | string | undefined) => (Array.isArray(v) ? v : []);
  return rows.map((q) => ({
    name: q.name,
    type: q.type,
    messages: Number(q.messages) || 0,
    members: list(q.members),
    online: list(q.online),
    leader: typeof q.leader === 'string' ? q.leader : '',
  }));
}

// ---------------------------------------------------------------- hub processes

function hubMarker(s: ClusterState, h: HubMember): string {
  return `HUB_CLUSTER_MEMBER=${s.dir}#${h.id}`;
}

function hubPidFile(s: ClusterState, h: HubMember): string {
  return path.join(s.dir, 'pids', `${h.id}.pid`);
}

export function hubPid(s: ClusterState, h: HubMember): number | null {
  const pid = readPid(hubPidFile(s, h));
  return pid && alive(pid) && environOf(pid).includes(hubMarker(s, h)) ? pid : null;
}

export function hubUrl(h: HubMember): string {
  return `http://127.0.0.1:${h.port}`;
}

export function hubLog(s: ClusterState, h: HubMember): string {
  return path.join(s.dir, 'logs', `${h.id}.log`);
}

export async function startHub(s: ClusterState, h: HubMember, timeoutMs = 90_000): Promise<number> {
  if (hubPid(s, h)) throw new Error(`${h.id} is already running`);
  mkdirSync(path.join(s.dir, 'logs'), { recursive: true });
  mkdirSync(path.join(s.dir, 'pids'), { recursive: true });
  const out = openSync(hubLog(s, h), 'a');
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', path.join(PROJECT_ROOT, 'src/main.ts')],
    {
      cwd: PROJECT_ROOT,
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        HUB_ROLES: h.role,
        HOST: '127.0.0.1',
        PORT: String(h.port),
        OPS_PORT: '0', // an api member's /metrics port: any free one (several members share the host)
        MONGODB_URI: withDatabase(s.mongoUri, s.db),
        AMQP_URL: h.amqpUrls.join(','),
        AMQP_PREFIX: s.prefix,
        AMQP_SHARDS: String(s.shards),
        LOG_LEVEL: s.logLevel,
        VERIFY_WORKERS: '1',
        HUB_CLUSTER_MEMBER: `${s.dir}#${h.id}`,
      },
    },
  );
  child.unref();
  const pid = child.pid!;
  writeFileSync(hubPidFile(s, h), `${pid}\n`);
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(
    async () => {
      if (exited) throw new Error(`${h.id} exited while starting:\n${logTail(hubLog(s, h))}`);
      return (await fetch(`${hubUrl(h)}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    },
    timeoutMs,
    `${h.id} on port ${h.port}`,
  ).catch((err: Error) => {
    if (err.message.includes('exited while starting')) throw err;
    throw new Error(`${err.message}\n${logTail(hubLog(s, h))}`);
  });
  if (exited) throw new Error(`${h.id} exited while starting:\n${logTail(hubLog(s, h))}`);
  return pid;
}

export async function killHub(s: ClusterState, h: HubMember, signal: NodeJS.Signals = 'SIGKILL') {
  const pid = hubPid(s, h);
  if (!pid) return null;
  process.kill(pid, signal);
  if (signal === 'SIGKILL') await waitGone(pid, 10_000);
  return pid;
}

async function stopHub(s: ClusterState, h: HubMember): Promise<void> {
  const pid = hubPid(s, h);
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  if (!(await waitGone(pid, 20_000))) process.kill(pid, 'SIGKILL');
}

// ---------------------------------------------------------------- cluster

export function member(s: ClusterState, id: string): RabbitMember | HubMember {
  const m = s.rabbit.find((r) => r.id === id) ?? s.hubs.find((h) => h.id === id);
  if (!m)
    throw new Error(`no member ${id} (members: ${[...s.rabbit, ...s.hubs].map((x) => x.id).join(', ')})`);
  return m;
}

function isRabbit(m: RabbitMember | HubMember): m is RabbitMember {
  return 'node' in m;
}

export function canRun(): string | null {
  if (
    spawnSync('sh', ['-c', 'command -v rabbitmq-server && command -v rabbitmqctl && id rabbitmq'], {
      stdio: 'ignore',
    }).status !== 0
  )
    return 'rabbitmq-server, rabbitmqctl or the rabbitmq user is missing (apt-get install rabbitmq-server)';
  if (process.getuid && process.getuid() !== 0)
    return 'run as root: rabbitmq-server drops to the rabbitmq user only from root';
  return null;
}

export async function up(o: UpOptions = {}): Promise<ClusterState> {
  const why = canRun();
  if (why) throw new Error(`cannot start the cluster: ${why}`);
  const dir = path.resolve(o.dir ?? DEFAULT_DIR);
  const previous = loadState(dir);
  if (previous) {
    const running = [
      ...previous.rabbit.filter((m) => beamPids(m).length > 0).map((m) => m.id),
      ...previous.hubs.filter((h) => hubPid(previous, h)).map((h) => h.id),
    ];
    if (running.length)
      throw new Error(
        `a cluster is already running from ${dir} (${running.join(', ')}); stop it with scripts/cluster-down`,
      );
    rmSync(dir, { recursive: true, force: true });
  }
  const progress = o.progress ?? (() => undefined);
  const name = o.name ?? 'hubc';
  if (!/^[a-z][a-z0-9]*$/.test(name)) throw new Error('--name: lower-case letters and digits only');
  const apis = o.apis ?? 2;
  const workers = o.workers ?? 2;
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // the rabbitmq user must reach its data directories below it
  const ports = await freePorts(6 + apis + workers);
  const rabbit: RabbitMember[] = [0, 1, 2].map((i) => ({
    id: `rabbit${i + 1}`,
    node: `${name}${i + 1}@localhost`,
    port: ports[i]!,
    distPort: ports[3 + i]!,
    dir: path.join(dir, 'rabbit', `${name}${i + 1}`),
  }));
  const urls = rabbit.map((m) => `amqp://guest:guest@127.0.0.1:${m.port}`);
  const rotated = (k: number) => [...urls.slice(k % 3), ...urls.slice(0, k % 3)];
  const hubs: HubMember[] = [
    // worker1 starts first and declares the queues; api1 and worker1 prefer node 1, the others spread.
    ...Array.from({ length: workers }, (_, j) => ({
      id: `worker${j + 1}`,
      role: 'worker' as const,
      port: ports[6 + apis + j]!,
      amqpUrls: rotated(2 * j),
    })),
    ...Array.from({ length: apis }, (_, i) => ({
      id: `api${i + 1}`,
      role: 'api' as const,
      port: ports[6 + i]!,
      amqpUrls: rotated(i),
    })),
  ];
  const state: ClusterState = {
    version: 1,
    dir,
    name,
    db: o.db ?? 'hubcluster',
    mongoUri: o.mongoUri ?? process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017',
    prefix: o.prefix ?? 'hubc',
    shards: o.shards ?? 4,
    logLevel: o.logLevel ?? 'warn',
    rabbit,
    hubs,
    startedAt: new Date().toISOString(),
  };
  saveState(state); // before anything starts: `down` can clean up whatever follows

  // Nodes whose names are taken (a cluster left running from another directory) would not start.
  const epmd = spawnSync('epmd', ['-names'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of rabbit) {
    const short = m.node.split('@')[0]!;
    if (new RegExp(`^name ${short} at port`, 'm').test(epmd))
      throw new Error(`an Erlang node named ${short} is already running; pick another --name`);
  }

  progress(`starting RabbitMQ nodes ${rabbit.map((m) => `${m.node} (:${m.port})`).join(', ')}`);
  await Promise.all(rabbit.map((m) => startRabbit(m)));
  const [first, ...others] = rabbit as [RabbitMember, ...RabbitMember[]];
  for (const m of others) {
    progress(`joining ${m.node} to ${first.node}`);
    for (const args of [['stop_app'], ['reset'], ['join_cluster', first.node], ['start_app']]) {
      const r = rabbitmqctl(m.node, args, 120_000);
      if (!r.ok) throw new Error(`rabbitmqctl -n ${m.node} ${args.join(' ')} failed: ${r.out.slice(-800)}`);
    }
  }
  await waitFor(
    () => runningNodes(first.node).length === 3,
    60_000,
    `the 3 nodes to run as one cluster (running: ${runningNodes(first.node).join(', ')})`,
  );
  progress(`RabbitMQ cluster running: ${runningNodes(first.node).join(', ')}`);

  // Queues are declared by the first worker once all three nodes are in: each quorum queue gets a
  // replica on every node (RabbitMQ's default initial group size is the cluster size, up to 7).
  const [firstHub, ...restHubs] = hubs as [HubMember, ...HubMember[]];
  progress(`starting ${firstHub.id} (declares the topology)`);
  await startHub(state, firstHub);
  progress(`starting ${restHubs.map((h) => h.id).join(', ')}`);
  await Promise.all(restHubs.map((h) => startHub(state, h)));
  return state;
}

export async function down(
  dir = DEFAULT_DIR,
  o: { keepData?: boolean; dropDb?: boolean; progress?: (line: string) => void } = {},
): Promise<boolean> {
  const s = loadState(path.resolve(dir));
  if (!s) return false;
  const progress = o.progress ?? (() => undefined);
  progress(`stopping hub processes ${s.hubs.map((h) => h.id).join(', ')}`);
  await Promise.all(s.hubs.map((h) => stopHub(s, h)));
  progress(`stopping RabbitMQ nodes ${s.rabbit.map((m) => m.node).join(', ')}`);
  await Promise.all(s.rabbit.map((m) => stopRabbit(m)));
  if (o.dropDb) {
    const { connectMongo } = await import('../src/store/mongo.ts');
    const conn = await connectMongo(withDatabase(s.mongoUri, s.db));
    await conn.dropDatabase();
    await conn.close();
    progress(`dropped database ${s.db}`);
  }
  if (!o.keepData) rmSync(s.dir, { recursive: true, force: true });
  return true;
}

export function status(s: ClusterState): string[] {
  const lines = [`cluster in ${s.dir} (database ${s.db}, queue prefix ${s.prefix}, ${s.shards} shards)`];
  for (const m of s.rabbit) {
    const pids = beamPids(m);
    lines.push(
      `  ${m.id.padEnd(8)} ${m.node.padEnd(22)} amqp :${m.port}  dist :${m.distPort}  ${pids.length ? `running (pid ${pids.join(',')})` : 'stopped'}`,
    );
  }
  for (const h of s.hubs) {
    const pid = hubPid(s, h);
    lines.push(
      `  ${h.id.padEnd(8)} ${h.role.padEnd(22)} http :${h.port}  ${pid ? `running (pid ${pid})` : 'stopped'}  log ${hubLog(s, h)}`,
    );
  }
  return lines;
}

export async function killMember(s: ClusterState, id: string, signal: NodeJS.Signals = 'SIGKILL') {
  const m = member(s, id);
  return isRabbit(m) ? killRabbit(m, signal) : killHub(s, m, signal);
}

export async function startMember(s: ClusterState, id: string): Promise<void> {
  const m = member(s, id);
  if (isRabbit(m)) await startRabbit(m);
  else await startHub(s, m);
}

// ---------------------------------------------------------------- CLI

function parseArgs(argv: string[]): { cmd: string; pos: string[]; opt: Map<string, string> } {
  const [cmd = 'help', ...rest] = argv;
  const pos: string[] = [];
  const opt = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) pos.push(a);
    else if (a.includes('=')) opt.set(a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
    else if (['keep-data', 'drop-db'].includes(a.slice(2))) opt.set(a.slice(2), 'true');
    else opt.set(a.slice(2), rest[++i] ?? '');
  }
  return { cmd, pos, opt };
}

async function cli(argv: string[]): Promise<number> {
  const { cmd, pos, opt } = parseArgs(argv);
  const dir = opt.get('dir') ?? process.env.HUB_CLUSTER_DIR ?? DEFAULT_DIR;
  const num = (k: string) => (opt.has(k) ? Number(opt.get(k)) : undefined);
  const say = (l: string) => console.log(`[cluster] ${l}`);
  switch (cmd) {
    case 'up': {
      const t0 = Date.now();
      let s: ClusterState;
      try {
        s = await up({
          dir,
          name: opt.get('name'),
          db: opt.get('db'),
          apis: num('apis'),
          workers: num('workers'),
          shards: num('shards'),
          prefix: opt.get('prefix'),
          logLevel: opt.get('log-level'),
          progress: say,
        });
      } catch (err) {
        console.error(`[cluster] start failed: ${(err as Error).message}`);
        say('stopping what was started');
        await down(dir, { keepData: true }).catch(() => undefined);
        console.error(`[cluster] logs kept in ${dir}`);
        return 1;
      }
      say(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      for (const l of status(s)) console.log(l);
      console.log(
        `\n  api URLs: ${s.hubs
          .filter((h) => h.role === 'api')
          .map(hubUrl)
          .join(
            '  ',
          )}\n  AMQP_URL: ${s.hubs[0]!.amqpUrls.join(',')}\n  stop with: scripts/cluster-down${dir === DEFAULT_DIR ? '' : ` --dir ${dir}`}\n`,
      );
      return 0;
    }
    case 'down': {
      const done = await down(dir, {
        keepData: opt.has('keep-data'),
        dropDb: opt.has('drop-db'),
        progress: say,
      });
      say(done ? 'stopped' : `nothing recorded in ${dir}`);
      return 0;
    }
    case 'status': {
      const s = loadState(dir);
      if (!s) {
        say(`no cluster recorded in ${dir}`);
        return 1;
      }
      for (const l of status(s)) console.log(l);
      return 0;
    }
    case 'kill':
    case 'start': {
      const s = loadState(dir);
      if (!s || !pos[0]) {
        console.error(`usage: cluster.ts ${cmd} <member> [--dir D]` + (s ? '' : ` (no cluster in ${dir})`));
        return 2;
      }
      if (cmd === 'kill') {
        const signal = `SIG${(opt.get('signal') ?? 'KILL').replace(/^SIG/, '')}` as NodeJS.Signals;
        say(`${pos[0]}: ${signal} → ${JSON.stringify(await killMember(s, pos[0], signal))}`);
      } else {
        await startMember(s, pos[0]);
        say(`${pos[0]} started`);
      }
      return 0;
    }
    default:
      console.log(
        'usage: cluster.ts up|down|status|kill <member>|start <member> [--dir D] (see the header of scripts/cluster.ts)',
      );
      return cmd === 'help' ? 0 : 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`[cluster] ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
