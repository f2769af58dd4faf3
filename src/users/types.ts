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

/** Failed logins, one record each (inserts are atomic on every backend; counters are not on FerretDB 1.x). */
export interface LoginAttemptStore {
  record(key: string, at: Date): Promise<void>;
  /** Times of the attempts under `key` since `since`, oldest first. */
  since(key: string, since: Date): Promise<Date[]>;
  clear(key: string): Promise<void>;
  purge(before: Date): Promise<number>;
}

/** The user, as the UI sees it: never the hash. */
export type UserView = Omit<User, 'passwordHash'>;

export function userView(u: User): UserView {
  const { passwordHash: _h, ...rest } = u;
  return rest;
}
