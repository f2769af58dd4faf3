/**
 * Web sessions, stored in MongoDB so that every api process shares them. The browser holds a random
 * 256-bit token in an HttpOnly cookie; the store keeps only its SHA-256, so a copy of the database
 * does not let anyone log in. A session ends at logout, after `idleMs` without a request, after
 * `maxAgeMs` in any case, and when the user is disabled, reset or changed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Session, SessionStore, User, UserStore } from './types.ts';

export interface SessionPolicy {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  /** lastSeenAt is written at most this often (one write per request would be wasteful). */
  readonly touchEveryMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  idleMs: 30 * 60_000,
  maxAgeMs: 12 * 3_600_000,
  touchEveryMs: 60_000,
};

export const sessionIdOf = (token: string) => createHash('sha256').update(token).digest('hex');

export class SessionService {
  readonly #sessions: SessionStore;
  readonly #users: Pick<UserStore, 'get'>;
  readonly #policy: SessionPolicy;
  readonly #now: () => Date;

  constructor(
    sessions: SessionStore,
    users: Pick<UserStore, 'get'>,
    policy: SessionPolicy = DEFAULT_SESSION_POLICY,
    now: () => Date = () => new Date(),
  ) {
    this.#sessions = sessions;
    this.#users = users;
    this.#policy = policy;
    this.#now = now;
  }

  get policy(): SessionPolicy {
    return this.#policy;
  }

  /** A new session (a new token at every login: no session fixation). */
  async create(
    username: string,
    meta: { ip?: string; userAgent?: string } = {},
  ): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session: Session = {
      id: sessionIdOf(token),
      username,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.#policy.maxAgeMs),
      ...(meta.ip ? { ip: meta.ip } : {}),
      ...(meta.userAgent ? { userAgent: meta.userAgent.slice(0, 200) } : {}),
    };
    await this.#sessions.create(session);
    // Housekeeping (FerretDB 1.x has no TTL indexes): expired sessions go at each login.
    await this.#sessions
      .purgeExpired(now, new Date(now.getTime() - this.#policy.idleMs))
      .catch(() => undefined);
    return { token, session };
  }

  /** The live session and its (active) user for a cookie token, or null. */
  async resolve(token: string | undefined): Promise<{ session: Session; user: User } | null> {
    if (!token || token.length > 100) return null;
    const id = sessionIdOf(token);
    const session = await this.#sessions.get(id);
    if (!session) return null;
    const now = this.#now();
    if (now >= session.expiresAt || now.getTime() - session.lastSeenAt.getTime() > this.#policy.idleMs) {
      await this.#sessions.delete(id);
      return null;
    }
    const user = await this.#users.get(session.username);
    if (!user || !user.active) {
      await this.#sessions.delete(id);
      return null;
    }
    if (now.getTime() - session.lastSeenAt.getTime() > this.#policy.touchEveryMs)
      await this.#sessions.touch(id, now);
    return { session, user };
  }

  async destroy(token: string | undefined): Promise<void> {
    if (token) await this.#sessions.delete(sessionIdOf(token));
  }
}
