/**
 * The account services on a MongoDB connection: users, sessions and login throttling (stored by
 * src/store/user-store.ts). Used by the hub's web UI and by `hubctl users`.
 */
import type { Connection } from 'mongoose';
import type { MongoStores } from '../store/stores.ts';
import { openUserStores } from '../store/user-store.ts';
import { UserService } from './service.ts';
import { SessionService } from './sessions.ts';
import { LoginThrottle } from './throttle.ts';

export async function createUserServices(mongo: Connection, stores: Pick<MongoStores, 'agencies' | 'audit'>) {
  const us = await openUserStores(mongo);
  const throttle = new LoginThrottle(us.attempts);
  const users = new UserService({
    users: us.users,
    sessions: us.sessions,
    throttle,
    audit: stores.audit,
    resolveAgencies: async (codes) =>
      new Map([...(await stores.agencies.findMany(codes)).entries()].map(([k, a]) => [k, a.code])),
  });
  return { stores: us, throttle, users, sessions: new SessionService(us.sessions, us.users) };
}
