/**
 * Fault-test harness: the hub and (optionally) FerretDB as child processes that tests can SIGKILL and
 * restart, and a load generator that retries with the same bytes (submissions are idempotent).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** A child that ended while it was awaited: no point in waiting longer. */
class ProcessExited extends Error {}

async function waitFor(
  check: () => Promise<boolean>,
  ms: number,
  what: string,
  detail: () => string = () => '',
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof ProcessExited) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${detail()}`);
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export class FerretProcess {
  readonly port: number;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'ferret-'));
  #child: ChildProcess | null = null;

  constructor(port: number) {
    this.port = port;
  }

  async start(): Promise<void> {
    this.#child = spawn(
      path.join(PROJECT_ROOT, '.cache/bin/ferretdb'),
      [
        `--listen-addr=127.0.0.1:${this.port}`,
        '--handler=sqlite',
        `--sqlite-url=file:${this.dir}/`,
        `--state-dir=${this.dir}`,
        '--telemetry=disable',
        '--log-level=error',
        '--debug-addr=-',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(() => portOpen(this.port), 20_000, 'FerretDB');
  }

  kill(): void {
    this.#child?.kill('SIGKILL');
    this.#child = null;
  }
}

export class HubProcess {
  readonly port: number;
  readonly env: Record<string, string>;
  #child: ChildProcess | null = null;
  output = '';

  constructor(port: number, env: Record<string, string>) {
    this.port = port;
    this.env = env;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The process id while it runs (0 otherwise). */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  async start(): Promise<void> {
    this.#child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', path.join(PROJECT_ROOT, 'src/main.ts')],
      {
        // OPS_PORT 0: an api process's /metrics port, any free one unless the test sets it.
        env: { ...process.env, OPS_PORT: '0', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    this.#child.stdout!.on('data', keep);
    this.#child.stderr!.on('data', keep);
    const child = this.#child;
    await waitFor(
      async () => {
        // A hub that refused to start or died says why at once, not after the whole wait.
        if (child.exitCode !== null || child.signalCode !== null)
          throw new ProcessExited(
            `hub on ${this.port} exited (${child.exitCode ?? child.signalCode}): ${this.output.slice(-1000)}`,
          );
        return (await fetch(`${this.url}/readyz`)).ok;
      },
      60_000,
      `hub on ${this.port}`,
      () => this.output.slice(-1000),
    );
  }

  kill(): void {
    this.#child?.kill('SIGKILL');
    this.#child = null;
  }

  async stop(): Promise<void> {
    const c = this.#child;
    if (!c) return;
    this.#child = null;
    if (c.exitCode !== null || c.signalCode !== null) return; // already gone: no 'exit' to wait for
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
    });
  }
}

/** Retries an operation until it succeeds (connection refused, 5xx) or the deadline passes. */
export async function retrying<T>(fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const status = (err as { status?: number }).status;
      if ((status !== undefined && status < 500) || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * A dedicated RabbitMQ node (own name, ports, data directory) that a test may stop and restart
 * without touching the machine's broker. Runs as the rabbitmq user, as the Debian scripts require.
 */
export class RabbitNode {
  readonly port: number;
  readonly name: string;
  readonly dir: string;
  #env: Record<string, string>;

  /** `distPort` is the Erlang distribution port; it must be a real free port (port + N may exceed 65535). */
  constructor(port: number, distPort: number) {
    this.port = port;
    this.name = `hubtest${port}@localhost`;
    this.dir = mkdtempSync(path.join(tmpdir(), 'rabbit-'));
    this.#env = {
      RABBITMQ_NODENAME: this.name,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_CONFIG_FILE: path.join(this.dir, 'rabbitmq'),
      RABBITMQ_MNESIA_BASE: path.join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(this.dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: path.join(this.dir, 'pid'),
    };
  }

  static async create(): Promise<RabbitNode> {
    const port = await freePort();
    let dist = await freePort();
    while (dist === port) dist = await freePort();
    return new RabbitNode(port, dist);
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  static available(): boolean {
    return (
      spawnSync('sh', ['-c', 'command -v rabbitmq-server && id rabbitmq'], { stdio: 'ignore' }).status === 0
    );
  }

  async start(): Promise<void> {
    if (!existsSync(path.join(this.dir, 'rabbitmq.conf'))) {
      mkdirSync(path.join(this.dir, 'mnesia'), { recursive: true });
      mkdirSync(path.join(this.dir, 'log'), { recursive: true });
      writeFileSync(path.join(this.dir, 'enabled_plugins'), '[].');
      writeFileSync(path.join(this.dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${this.port}\n`);
      spawnSync('chown', ['-R', 'rabbitmq:rabbitmq', this.dir]);
    }
    const r = spawnSync('rabbitmq-server', ['-detached'], {
      env: { ...process.env, ...this.#env },
      stdio: 'ignore',
    });
    if (r.status !== 0) throw new Error(`rabbitmq-server -detached failed (${r.status})`);
    await waitFor(() => portOpen(this.port), 60_000, `RabbitMQ node ${this.name}`);
  }

  stop(): void {
    spawnSync('rabbitmqctl', ['-n', this.name, 'stop'], { stdio: 'ignore' });
  }
}
