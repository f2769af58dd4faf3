/**
 * Backups without mongodump (issue 23; docs/deployment.md ## Backups): every collection of the hub's
 * database (documents, payloads, deliveries, outbox, inbox, audit chain, directory, credentials,
 * users, dead letters, …) as canonical Extended JSON lines, one file per collection, with a manifest
 * of counts, SHA-256 digests and index definitions. Canonical EJSON keeps every BSON type (dates,
 * binaries, 64-bit integers), so a restore writes back the very same documents.
 *
 * Consistency: the audit chain is copied up to the entry that was last when the backup started, so
 * it always verifies; the other collections are read one after the other, so writes made during the
 * copy may be partly in it. Take it with the api processes out of the load balancer (the manifest
 * says `quiescent: false` when counts moved during the copy); after a restore `hubctl deliveries
 * requeue` re-sends whatever the copy caught half way.
 *
 * Restore goes only into an empty database, checks every file against the manifest before writing
 * anything, and drops what it wrote if a write fails: a refused or failed restore leaves no partial
 * state.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import mongoose, { type Connection } from 'mongoose';
import { HubError } from '../domain/errors.ts';

const { EJSON } = mongoose.mongo.BSON;

export const BACKUP_FORMAT = 'vn-dochub-backup/1';
const MANIFEST = 'manifest.json';
const AUDIT = 'audit';
const BATCH = 500;

export interface BackupCollection {
  readonly name: string;
  readonly file: string;
  readonly count: number;
  readonly sha256: string;
  readonly indexes: readonly Record<string, unknown>[];
}

export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly createdAt: string;
  readonly database: string;
  /** The last audit entry copied: the chain in the backup ends there. */
  readonly auditLastSeq: number;
  /** False when documents were added or removed while the copy ran (see the module comment). */
  readonly quiescent: boolean;
  readonly collections: readonly BackupCollection[];
}

const fileOf = (name: string) => `${name}.ejson`;
const validName = (name: string) => /^[A-Za-z0-9_.-]{1,120}$/.test(name) && !name.startsWith('system.');

async function collectionNames(conn: Connection): Promise<string[]> {
  const list = await conn.db!.listCollections({}, { nameOnly: true }).toArray();
  return list
    .map((c) => c.name)
    .filter(validName)
    .sort();
}

async function counts(conn: Connection, names: readonly string[]): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const n of names) m.set(n, await conn.db!.collection(n).countDocuments());
  return m;
}

/** Writes a backup of the connection's database into `dir` (created; must be new or empty). */
export async function createBackup(
  conn: Connection,
  dir: string,
  now: () => Date = () => new Date(),
): Promise<BackupManifest> {
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new HubError('BACKUP_DIR_IN_USE', `${dir} already holds files`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const createdAt = now().toISOString();
  const names = await collectionNames(conn);
  const before = await counts(conn, names);
  const head = await conn
    .db!.collection<{ _id: number }>(AUDIT)
    .find({}, { sort: { _id: -1 }, limit: 1 })
    .next();
  const auditLastSeq = head?._id ?? 0;
  const collections: BackupCollection[] = [];
  for (const name of names) {
    const coll = conn.db!.collection(name);
    const filter = name === AUDIT ? { _id: { $lte: auditLastSeq } } : {};
    const out = createWriteStream(path.join(dir, fileOf(name)), { mode: 0o600 });
    const hash = createHash('sha256');
    let count = 0;
    for await (const doc of coll.find(filter as Record<string, unknown>, { sort: { _id: 1 } })) {
      const line = EJSON.stringify(doc, { relaxed: false }) + '\n';
      hash.update(line);
      if (!out.write(line)) await once(out, 'drain');
      count++;
    }
    out.end();
    await once(out, 'finish');
    const indexes = (await coll.indexes())
      .filter((ix) => ix.name !== '_id_')
      .map(({ v: _v, ns: _ns, ...rest }) => rest as Record<string, unknown>);
    collections.push({ name, file: fileOf(name), count, sha256: hash.digest('hex'), indexes });
  }
  const after = await counts(conn, names);
  const quiescent =
    names.every((n) => n === AUDIT || before.get(n) === after.get(n)) &&
    (await collectionNames(conn)).join() === names.join();
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt,
    database: conn.db!.databaseName,
    auditLastSeq,
    quiescent,
    collections,
  };
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return manifest;
}

/** Reads the manifest and checks every file against it (count and SHA-256) before anything is written. */
export async function checkBackup(dir: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as BackupManifest;
  } catch (err) {
    throw new HubError('BACKUP_INVALID', `${path.join(dir, MANIFEST)}: ${(err as Error).message}`);
  }
  if (manifest.format !== BACKUP_FORMAT || !Array.isArray(manifest.collections))
    throw new HubError('BACKUP_INVALID', `not a ${BACKUP_FORMAT} manifest`);
  for (const c of manifest.collections as readonly BackupCollection[]) {
    if (!validName(c.name) || c.file !== fileOf(c.name))
      throw new HubError('BACKUP_INVALID', `bad collection entry ${JSON.stringify(c.name)}`);
    const hash = createHash('sha256');
    let count = 0;
    try {
      for await (const line of lines(path.join(dir, c.file))) {
        hash.update(line + '\n');
        count++;
      }
    } catch (err) {
      throw new HubError('BACKUP_INVALID', `${c.file}: ${(err as Error).message}`);
    }
    if (count !== c.count || hash.digest('hex') !== c.sha256)
      throw new HubError('BACKUP_INVALID', `${c.file} does not match the manifest (count or SHA-256)`);
  }
  return manifest;
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}

/** Collections holding documents: a restore target must have none. */
export async function nonEmptyCollections(conn: Connection): Promise<string[]> {
  const names = await collectionNames(conn);
  const full: string[] = [];
  for (const n of names)
    if (await conn.db!.collection(n).findOne({}, { projection: { _id: 1 } })) full.push(n);
  return full;
}

/**
 * Restores a checked backup into the connection's database, which must hold no documents. On a
 * failed write the collections it wrote are dropped again.
 */
export async function restoreBackup(conn: Connection, dir: string): Promise<BackupManifest> {
  const manifest = await checkBackup(dir);
  const full = await nonEmptyCollections(conn);
  if (full.length)
    throw new HubError(
      'BACKUP_TARGET_NOT_EMPTY',
      `database ${conn.db!.databaseName} holds documents in ${full.slice(0, 5).join(', ')}${full.length > 5 ? ', …' : ''}`,
    );
  const written: string[] = [];
  try {
    for (const c of manifest.collections) {
      const coll = conn.db!.collection(c.name);
      written.push(c.name);
      let batch: Record<string, unknown>[] = [];
      for await (const line of lines(path.join(dir, c.file))) {
        batch.push(EJSON.parse(line, { relaxed: false }) as Record<string, unknown>);
        if (batch.length === BATCH) {
          await coll.insertMany(batch, { ordered: true });
          batch = [];
        }
      }
      if (batch.length) await coll.insertMany(batch, { ordered: true });
      if (c.indexes.length)
        await coll.createIndexes(c.indexes as unknown as Parameters<typeof coll.createIndexes>[0]);
    }
  } catch (err) {
    for (const name of written)
      await conn
        .db!.collection(name)
        .deleteMany({})
        .catch(() => undefined);
    throw err;
  }
  return manifest;
}
