/** MongoDB connection (FerretDB in development and tests, MongoDB in production). */
import mongoose, { type Connection } from 'mongoose';

export async function connectMongo(uri: string, opts: { dbName?: string } = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    ...(opts.dbName ? { dbName: opts.dbName } : {}),
    serverSelectionTimeoutMS: 5000,
    autoIndex: false,
    autoCreate: true,
  });
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
