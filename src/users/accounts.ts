/**
 * The account services over their stores (src/store/user-store.ts, opened by the service graph,
 * src/services.ts): users, sessions and login throttling. Used by the hub's web UI and by hubctl.
 */
import type { MongoStores } from '../store/stores.ts';
import type { UserStores } from '../store/user-store.ts';
import { UserService } from './service.ts';
import { SessionService } from './sessions.ts';
import { LoginThrottle } from './throttle.ts';

export type UserServices = ReturnType<typeof createUserServices>;

export function createUserServices(us: UserStores, stores: Pick<MongoStores, 'agencies' | 'audit'>) {
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
