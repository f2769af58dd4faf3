/** MongoDB connection (FerretDB in development and tests, MongoDB in production). */
import mongoose, { type Connection } from 'mongoose';

/** One store statement as the driver's command monitoring saw it end (src/observability/metrics.ts). */
export interface StoreStatement {
  readonly command: string;
  /** The collection it names ('' for commands on none: ping, endSessions, transactions). */
  readonly collection: string;
  /** insert, update, delete, findAndModify, bulkWrite: a write transaction on FerretDB's SQLite. */
  readonly write: boolean;
  readonly seconds: number;
  readonly failed: boolean;
  /** The filter's field names, `{_id}` or `{docId,transport}` (only with HUB_DB_STATS=1). */
  readonly shape?: string;
}

/** The commands that write (a write statement each, whatever the number of documents it carries). */
const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'bulkWrite']);

export interface ConnectOptions {
  readonly dbName?: string;
  /** Called for every statement the connection sends (command monitoring on: costs some CPU). */
  readonly onStatement?: (s: StoreStatement) => void;
}

export async function connectMongo(uri: string, opts: ConnectOptions = {}): Promise<Connection> {
  const stats = process.env.HUB_DB_STATS === '1';
  const monitor = stats || opts.onStatement !== undefined;
  const conn = mongoose.createConnection(uri, {
    ...(opts.dbName ? { dbName: opts.dbName } : {}),
    serverSelectionTimeoutMS: 5000,
    autoIndex: false,
    autoCreate: true,
    ...(monitor ? { monitorCommands: true } : {}),
  });
  if (monitor)
    monitorStatements(
      conn,
      [...(stats ? [commandStats()] : []), ...(opts.onStatement ? [opts.onStatement] : [])],
      stats,
    );
  try {
    await conn.asPromise();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new Error(
      `Cannot reach MongoDB at ${redactUri(uri)}: ${(err as Error).message}. ` +
        'With the default configuration, `npm start` starts FerretDB itself (scripts/ensure-store.sh); ' +
        'otherwise set MONGODB_URI to a reachable server.',
      { cause: err },
    );
  }
  return conn;
}

export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

export async function pingMongo(conn: Connection): Promise<boolean> {
  try {
    await conn.db!.admin().ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * The driver's command monitoring, in one place: each statement, when it ends, goes to every sink
 * (the hub's counters, the HUB_DB_STATS diagnostics). `shapes` adds the filter's field names, which
 * tell an `_id` lookup from a scan (diagnostics only: it costs a walk of the filter).
 */
function monitorStatements(conn: Connection, sinks: ((s: StoreStatement) => void)[], shapes: boolean): void {
  const started = new Map<number, { command: string; collection: string; shape?: string }>();
  const client = conn.getClient();
  client.on('commandStarted', (e) => {
    const cmd = e.command as Record<string, unknown>;
    const named = e.commandName === 'getMore' ? cmd.collection : cmd[e.commandName];
    const collection = typeof named === 'string' ? named : '';
    let shape: string | undefined;
    if (shapes) {
      const updates = cmd.updates as { q?: Record<string, unknown> }[] | undefined;
      const deletes = cmd.deletes as { q?: Record<string, unknown> }[] | undefined;
      const filter = (cmd.filter ?? cmd.query ?? updates?.[0]?.q ?? deletes?.[0]?.q) as
        Record<string, unknown> | undefined;
      if (filter && typeof filter === 'object') shape = ` {${Object.keys(filter).join(',')}}`;
    }
    started.set(e.requestId, { command: e.commandName, collection, ...(shape ? { shape } : {}) });
  });
  const ended = (e: { requestId: number; commandName: string; duration: number }, failed: boolean) => {
    const s = started.get(e.requestId) ?? { command: e.commandName, collection: '' };
    started.delete(e.requestId);
    const statement = { ...s, write: WRITE_COMMANDS.has(s.command), seconds: e.duration / 1000, failed };
    for (const sink of sinks) sink(statement);
  };
  client.on('commandSucceeded', (e) => ended(e, false));
  client.on('commandFailed', (e) => ended(e, true));
}

/**
 * Diagnostics (HUB_DB_STATS=1): statements per command and collection (with the filter's shape) with
 * their total and mean time, printed to stderr every 10 s and at exit. Used to find what the store
 * spends its time on.
 */
function commandStats(): (s: StoreStatement) => void {
  const totals = new Map<string, { n: number; ms: number }>();
  const print = () => {
    const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    process.stderr.write(
      `[db-stats] ${rows.map(([k, t]) => `${k}: ${t.n} × ${(t.ms / t.n).toFixed(1)} ms = ${t.ms.toFixed(0)} ms`).join('\n[db-stats] ')}\n`,
    );
  };
  setInterval(print, 10_000).unref();
  process.once('exit', print);
  return (s) => {
    const k = `${s.command} ${s.collection}${s.shape ?? ''}`;
    const t = totals.get(k) ?? { n: 0, ms: 0 };
    t.n++;
    t.ms += s.seconds * 1000;
    totals.set(k, t);
  };
}
