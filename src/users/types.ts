/** People who use the web UI (docs/ui.md): clerks of agencies, hub administrators and auditors. */

export const ROLES = ['admin', 'clerk', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

export interface User {
  /** Lower-case login name: the record's key. */
  readonly username: string;
  readonly displayName?: string;
  readonly role: Role;
  /** The agencies a clerk acts for (codes); empty for admins and auditors (whole hub). */
  readonly agencies: readonly string[];
  readonly passwordHash: string;
  readonly active: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly passwordChangedAt: Date;
  readonly lastLoginAt?: Date;
}

export interface Session {
  /** SHA-256 (hex) of the cookie token: the token itself is never stored. */
  readonly id: string;
  readonly username: string;
  /** The session's CSRF token (synchronizer token pattern). */
  readonly csrf: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  /** Absolute end of the session. */
  readonly expiresAt: Date;
  readonly ip?: string;
  readonly userAgent?: string;
}

export interface UserStore {
  get(username: string): Promise<User | null>;
  /** false when the user name is taken. */
  insert(user: User): Promise<boolean>;
  update(username: string, set: Partial<Omit<User, 'username' | 'createdAt'>>): Promise<User | null>;
  list(): Promise<User[]>;
}

export interface SessionStore {
  create(s: Session): Promise<void>;
  get(id: string): Promise<Session | null>;
  touch(id: string, at: Date): Promise<void>;
  delete(id: string): Promise<void>;
  deleteForUser(username: string): Promise<number>;
  purgeExpired(now: Date, idleBefore: Date): Promise<number>;
}

/**
 * Login attempts, one record each, reserved BEFORE the password is checked (issue 18 §3): a
 * reservation either takes one of the `max` places of its key inside the window or is refused, and
 * that decision is atomic across processes. A reservation that turns out to be a success is released
 * (it no longer counts); the others stay as the failures they were.
 */
export interface LoginAttemptStore {
  /**
   * Takes one attempt under `key` at `at` unless `max` unreleased attempts since `since` hold it;
   * then returns the times of those attempts (oldest first). `count` includes the new attempt.
   */
  reserve(
    key: string,
    at: Date,
    since: Date,
    max: number,
  ): Promise<{ readonly id: string; readonly count: number } | { readonly locked: Date[] }>;
  /** The attempt no longer counts (a login that succeeded, or was refused on its other key). */
  release(id: string): Promise<void>;
  /** Times of the unreleased attempts under `key` since `since`, oldest first. */
  since(key: string, since: Date): Promise<Date[]>;
  /** Every attempt under `key` so far stops counting (a successful login resets the user name). */
  clear(key: string): Promise<void>;
  purge(before: Date): Promise<number>;
}

/** The user, as the UI sees it: never the hash. */
export type UserView = Omit<User, 'passwordHash'>;

export function userView(u: User): UserView {
  const { passwordHash: _h, ...rest } = u;
  return rest;
}
