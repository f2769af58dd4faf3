/**
 * What admin commands of hubctl work with: the same validated config and stores as the hub,
 * opened directly on MongoDB (administration works even while the hub is down, e.g. bootstrap).
 */
import type { Connection } from 'mongoose';
import { loadConfig, type Config } from '../config.ts';
import { connectMongo } from '../store/mongo.ts';
import { createMongoStores, type MongoStores } from '../store/stores.ts';
import { createUserServices } from '../users/accounts.ts';
import { authenticateOperator, type OperatorOptions } from './identity.ts';

export interface CliContext {
  readonly config: Config;
  readonly stores: MongoStores;
  readonly mongo: Connection;
  /**
   * The authenticated operator of a mutating command, as the audit actor (`hubctl:<user>`): asks for
   * the login on first use (src/cli/identity.ts). Call it BEFORE changing anything.
   */
  actor(o?: OperatorOptions): Promise<string>;
  close(): Promise<void>;
}

export async function openContext(opts: { dbName?: string } = {}): Promise<CliContext> {
  const config = loadConfig();
  const mongo = await connectMongo(config.mongodb.uri, opts.dbName ? { dbName: opts.dbName } : {});
  const stores = await createMongoStores(mongo, config.credentials);
  let actor: Promise<string> | undefined;
  return {
    config,
    stores,
    mongo,
    actor(o?: OperatorOptions) {
      actor ??= createUserServices(mongo, stores).then(({ users }) => authenticateOperator(users, o));
      return actor;
    },
    close: () => mongo.close(),
  };
}

/** Exit codes scripts can rely on. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, REFUSED: 3, UNAVAILABLE: 4 } as const;
