/**
 * The read-side adapters built over the store's own models (web UI lists, the /vdxp axis): built
 * here so that the mongoose models stay private to src/store (issue 20; eslint.config.js).
 */
import type { Connection } from 'mongoose';
import type { MongoStores } from './stores.ts';
import { MongoWebQueryStore } from './web-store.ts';
import { MongoVdxpStore } from './vdxp-store.ts';

export function createWebQueryStore(stores: MongoStores): MongoWebQueryStore {
  return new MongoWebQueryStore(stores.models);
}

export function createVdxpStore(conn: Connection, stores: MongoStores): MongoVdxpStore {
  return new MongoVdxpStore(conn, stores.models, stores.deliveries);
}
