/** MongoDB connection (FerretDB in development and tests, MongoDB in production). */
import mongoose, { type Connection } from 'mongoose';

export async function connectMongo(uri: string, opts: { dbName?: string } = {}): Promise<Connection> {
  const stats = process.env.HUB_DB_STATS === '1';
  const conn = mongoose.createConnection(uri, {
    ...(opts.dbName ? { dbName: opts.dbName } : {}),
    serverSelectionTimeoutMS: 5000,
    autoIndex: false,
    autoCreate: true,
    ...(stats ? { monitorCommands: true } : {}),
  });
  if (stats) collectCommandStats(conn);
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
 * Diagnostics (HUB_DB_STATS=1): statements per command and collection with their total and mean
 * time, printed to stderr every 10 s and at exit. Used to find what the store spends its time on.
 */
function collectCommandStats(conn: Connection): void {
  const started = new Map<number, string>();
  const totals = new Map<string, { n: number; ms: number }>();
  const client = conn.getClient();
  client.on('commandStarted', (e) => {
    const cmd = e.command as Record<string, unknown>;
    const coll = cmd[e.commandName];
    // The filter's shape (its field names) tells an `_id` lookup from a scan.
    const updates = cmd.updates as { q?: Record<string, unknown> }[] | undefined;
    const deletes = cmd.deletes as { q?: Record<string, unknown> }[] | undefined;
    const filter = (cmd.filter ?? cmd.query ?? updates?.[0]?.q ?? deletes?.[0]?.q) as
      Record<string, unknown> | undefined;
    const shape = filter && typeof filter === 'object' ? ` {${Object.keys(filter).join(',')}}` : '';
    started.set(e.requestId, `${e.commandName} ${typeof coll === 'string' ? coll : ''}${shape}`);
  });
  client.on('commandSucceeded', (e) => {
    const k = started.get(e.requestId) ?? e.commandName;
    started.delete(e.requestId);
    const t = totals.get(k) ?? { n: 0, ms: 0 };
    t.n++;
    t.ms += e.duration;
    totals.set(k, t);
  });
  const print = () => {
    const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    process.stderr.write(
      `[db-stats] ${rows.map(([k, t]) => `${k}: ${t.n} × ${(t.ms / t.n).toFixed(1)} ms = ${t.ms.toFixed(0)} ms`).join('\n[db-stats] ')}\n`,
    );
  };
  setInterval(print, 10_000).unref();
  process.once('exit', print);
}
