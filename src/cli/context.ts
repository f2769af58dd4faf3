/**
 * What admin commands of hubctl work with: the same validated config and service graph as the hub
 * (src/services.ts), opened directly on MongoDB (administration works even while the hub is down,
 * e.g. bootstrap). Nothing is migrated here: `hubctl migrate` does that.
 */
import type { Connection } from 'mongoose';
import { loadConfig, type Config } from '../config.ts';
import { createLogger } from '../observability/logger.ts';
import { createServices, type Services } from '../services.ts';
import type { MongoStores } from '../store/stores.ts';
import { authenticateOperator, type OperatorOptions } from './identity.ts';

export interface CliContext {
  readonly config: Config;
  readonly services: Services;
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
  const services = await createServices(config, {
    ...(opts.dbName ? { dbName: opts.dbName } : {}),
    log: createLogger('silent'),
  });
  let actor: Promise<string> | undefined;
  return {
    config,
    services,
    stores: services.stores,
    mongo: services.mongo,
    actor(o?: OperatorOptions) {
      actor ??= services.accounts().then(({ users }) => authenticateOperator(users, o));
      return actor;
    },
    close: () => services.stop(),
  };
}

/** Exit codes scripts can rely on. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, REFUSED: 3, UNAVAILABLE: 4 } as const;
