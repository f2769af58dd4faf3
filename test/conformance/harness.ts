/**
 * Conformance harness (issue 20): every store adapter must behave the same. A suite written with
 * `describeAdapters` runs once per adapter:
 *
 * - `ferretdb`: FerretDB in its own dialect (what development and CI run);
 * - `mongodb-on-ferretdb`: the MongoDB dialect forced on FerretDB (conditional updates with
 *   `findOneAndUpdate`) so that the production path runs in CI. FerretDB 1.24 runs each such
 *   update as a read then a write, not atomically: one at a time it behaves like MongoDB, but two
 *   connections racing can both win (measured: 100 concurrent `$inc` from 4 connections ended at 88).
 *   Cases about concurrent writers therefore skip this adapter (and say so) and run on `mongodb`;
 *   every single-writer case runs here;
 * - `mongodb`: a real MongoDB, only when `MONGODB_URI` is set (skipped otherwise, and said so).
 *
 * Each test gets its own database (dropped afterwards): suites never depend on each other's state.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/store/mongo.ts';
import type { UpdateDialect } from '../../src/store/stores.ts';

/** The store every test of the project uses (scripts/ensure-store.sh). */
export const FERRETDB_URI = 'mongodb://127.0.0.1:27017/';

export interface Adapter {
  readonly name: 'ferretdb' | 'mongodb-on-ferretdb' | 'mongodb';
  readonly uri: string;
  readonly dialect: UpdateDialect;
}

export const ADAPTERS: readonly Adapter[] = [
  { name: 'ferretdb', uri: FERRETDB_URI, dialect: 'id-only' },
  { name: 'mongodb-on-ferretdb', uri: FERRETDB_URI, dialect: 'mongodb' },
  ...(process.env.MONGODB_URI
    ? [{ name: 'mongodb' as const, uri: process.env.MONGODB_URI, dialect: 'mongodb' as const }]
    : []),
];

export interface AdapterContext {
  readonly adapter: Adapter;
  /** A connection to a database of this test alone (dropped after the test). */
  readonly conn: Connection;
  readonly dbName: string;
}

/**
 * `describe` once per adapter; `ctx()` inside a test gives the adapter and a fresh database.
 * Usage: describeAdapters('DeliveryStore', (ctx) => { it('…', async () => { const { conn, adapter } = ctx(); … }); });
 */
export function describeAdapters(title: string, body: (ctx: () => AdapterContext) => void): void {
  for (const adapter of ADAPTERS) {
    describe(`${title} [${adapter.name}]`, function () {
      let current: AdapterContext | null = null;
      beforeEach(async () => {
        const dbName = `conf_${randomBytes(5).toString('hex')}`;
        const conn = await connectMongo(adapter.uri, { dbName });
        current = { adapter, conn, dbName };
      });
      afterEach(async () => {
        const c = current;
        current = null;
        if (!c) return;
        await c.conn.dropDatabase().catch(() => undefined);
        await c.conn.close();
      });
      body(() => {
        if (!current) throw new Error('ctx() is only available inside a test');
        return current;
      });
    });
  }
  if (!process.env.MONGODB_URI) {
    describe(`${title} [mongodb]`, () => {
      it.skip('runs only when MONGODB_URI points at a real MongoDB');
    });
  }
}
