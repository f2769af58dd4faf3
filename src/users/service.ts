/**
 * Accounts of the web UI: creation, password resets, disabling, and logging in (with throttling).
 * Every change is audited; passwords are hashed with scrypt (password.ts) and never leave this module.
 */
import { normalizeCode } from '../domain/codes.ts';
import { HubError } from '../domain/errors.ts';
import type { AuditLog } from '../domain/ports.ts';
import {
  dummyHash,
  generatePassword,
  hashPassword,
  needsRehash,
  passwordProblem,
  verifyPassword,
} from './password.ts';
import type { LoginThrottle } from './throttle.ts';
import {
  isRole,
  userView,
  type Role,
  type SessionStore,
  type User,
  type UserStore,
  type UserView,
} from './types.ts';

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

export interface NewUser {
  readonly username: string;
  readonly role: string;
  readonly agencies?: readonly string[];
  readonly displayName?: string;
  /** When absent, a password is generated and returned once. */
  readonly password?: string;
}

export interface UserServiceDeps {
  readonly users: UserStore;
  readonly sessions: Pick<SessionStore, 'deleteForUser'>;
  readonly throttle: LoginThrottle;
  readonly audit: Pick<AuditLog, 'append'>;
  /** Canonical codes of the given agency codes (canonical or legacy); missing ones left out. */
  readonly resolveAgencies: (codes: readonly string[]) => Promise<Map<string, string>>;
  readonly now?: () => Date;
}

export function normalizeUsername(s: string): string {
  return s.trim().toLowerCase();
}

export class UserService {
  readonly #d: UserServiceDeps;
  readonly #now: () => Date;

  constructor(deps: UserServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  async #agencies(role: Role, raw: readonly string[] | undefined): Promise<string[]> {
    const codes = [...new Set((raw ?? []).map((c) => normalizeCode(c)).filter(Boolean))];
    if (role !== 'clerk') {
      if (codes.length)
        throw new HubError('VALIDATION_FAILED', `${role}s see the whole hub; agencies are only for clerks`);
      return [];
    }
    if (codes.length === 0) throw new HubError('VALIDATION_FAILED', 'a clerk needs at least one agency');
    const found = await this.#d.resolveAgencies(codes);
    const missing = codes.filter((c) => !found.has(c));
    if (missing.length)
      throw new HubError('VALIDATION_FAILED', `no agency ${missing.join(', ')} in the directory`);
    return [...new Set(codes.map((c) => found.get(c)!))];
  }

  async create(
    actor: string,
    input: NewUser,
  ): Promise<{ user: UserView; password: string; generated: boolean }> {
    const username = normalizeUsername(input.username);
    if (!USERNAME.test(username))
      throw new HubError(
        'VALIDATION_FAILED',
        'user name: 2 to 64 characters, lower-case letters, digits, dot, dash or underscore',
      );
    if (!isRole(input.role)) throw new HubError('VALIDATION_FAILED', 'role must be admin, clerk or auditor');
    const agencies = await this.#agencies(input.role, input.agencies);
    const generated = input.password === undefined || input.password === '';
    const password = generated ? generatePassword() : input.password;
    const problem = passwordProblem(password);
    if (problem) throw new HubError('VALIDATION_FAILED', `password: ${problem}`);
    const now = this.#now();
    const displayName = input.displayName?.trim();
    const user: User = {
      username,
      ...(displayName ? { displayName } : {}),
      role: input.role,
      agencies,
      passwordHash: await hashPassword(password),
      active: true,
      createdAt: now,
      updatedAt: now,
      passwordChangedAt: now,
    };
    if (!(await this.#d.users.insert(user)))
      throw new HubError('CONFLICT', `the user name ${username} is taken`);
    await this.#d.audit.append({
      actor,
      action: 'user.created',
      subject: username,
      data: { role: user.role, agencies },
    });
    return { user: userView(user), password, generated };
  }

  async #existing(username: string): Promise<User> {
    const u = await this.#d.users.get(normalizeUsername(username));
    if (!u) throw new HubError('NOT_FOUND', `no user ${normalizeUsername(username)}`);
    return u;
  }

  /** Sets a new password (generated when absent) and ends the user's sessions. */
  async resetPassword(
    actor: string,
    username: string,
    newPassword?: string,
  ): Promise<{ password: string; generated: boolean }> {
    const u = await this.#existing(username);
    const generated = newPassword === undefined || newPassword === '';
    const password = generated ? generatePassword() : newPassword;
    const problem = passwordProblem(password);
    if (problem) throw new HubError('VALIDATION_FAILED', `password: ${problem}`);
    const now = this.#now();
    await this.#d.users.update(u.username, {
      passwordHash: await hashPassword(password),
      passwordChangedAt: now,
      updatedAt: now,
    });
    await this.#d.sessions.deleteForUser(u.username);
    await this.#d.throttle.succeeded(u.username);
    await this.#d.audit.append({ actor, action: 'user.password-reset', subject: u.username });
    return { password, generated };
  }

  async setActive(actor: string, username: string, active: boolean): Promise<UserView> {
    const u = await this.#existing(username);
    if (!active && actor === `ui:${u.username}`)
      throw new HubError('CONFLICT', 'you cannot disable your own account');
    const updated = await this.#d.users.update(u.username, { active, updatedAt: this.#now() });
    if (!active) await this.#d.sessions.deleteForUser(u.username);
    await this.#d.audit.append({
      actor,
      action: active ? 'user.enabled' : 'user.disabled',
      subject: u.username,
    });
    return userView(updated!);
  }

  /** Changes the role or the agencies of a clerk; sessions end so the new scope applies at once. */
  async update(
    actor: string,
    username: string,
    input: { role?: string; agencies?: readonly string[]; displayName?: string },
  ): Promise<UserView> {
    const u = await this.#existing(username);
    const role = input.role ?? u.role;
    if (!isRole(role)) throw new HubError('VALIDATION_FAILED', 'role must be admin, clerk or auditor');
    const agencies = await this.#agencies(role, input.agencies ?? (role === 'clerk' ? u.agencies : []));
    const set: Partial<User> = { role, agencies, updatedAt: this.#now() };
    if (input.displayName !== undefined) Object.assign(set, { displayName: input.displayName.trim() });
    const updated = await this.#d.users.update(u.username, set);
    await this.#d.sessions.deleteForUser(u.username);
    await this.#d.audit.append({
      actor,
      action: 'user.updated',
      subject: u.username,
      data: { before: { role: u.role, agencies: u.agencies }, after: { role, agencies } },
    });
    return userView(updated!);
  }

  async list(): Promise<UserView[]> {
    return (await this.#d.users.list()).map(userView);
  }

  async get(username: string): Promise<UserView | null> {
    const u = await this.#d.users.get(normalizeUsername(username));
    return u ? userView(u) : null;
  }

  /**
   * Checks a login. One answer (LOGIN_FAILED) for an unknown user, a disabled user and a wrong
   * password, with the same scrypt work in each case; LOGIN_THROTTLED while the name or the
   * address is locked out. The attempt is reserved before scrypt runs (throttle.ts), so parallel
   * guesses cannot outrun the lock. Every failure is audited (name, address, reason; never the
   * password), and so is the failure that locks a name or an address.
   */
  async authenticate(
    rawUsername: string,
    password: string,
    ip: string,
    /** Where the login happens: the web UI, or hubctl acting for an operator (src/cli/identity.ts). */
    via: 'ui' | 'hubctl' = 'ui',
  ): Promise<UserView> {
    const username = normalizeUsername(rawUsername).slice(0, 64);
    const attempt = await this.#d.throttle.reserve(username, ip);
    if (!attempt.allowed) {
      const minutes = Math.ceil(attempt.retryAfterMs / 60_000);
      throw new HubError('LOGIN_THROTTLED', `try again in ${minutes} minute(s)`, {
        retryAfterSeconds: Math.ceil(attempt.retryAfterMs / 1000),
      });
    }
    const u = USERNAME.test(username) ? await this.#d.users.get(username) : null;
    const ok = await verifyPassword(password.slice(0, 1024), u?.passwordHash ?? (await dummyHash()));
    if (!u || !ok || !u.active) {
      const reason = !u ? 'unknown-user' : !ok ? 'wrong-password' : 'disabled';
      const actor = `ip:${ip}`;
      await this.#d.audit.append({
        actor,
        action: 'user.login-failed',
        subject: username,
        data: { ip, reason },
      });
      if (attempt.locks.length)
        await this.#d.audit.append({
          actor,
          action: 'user.login-locked',
          subject: username,
          data: { ip, locked: [...attempt.locks] },
        });
      throw new HubError('LOGIN_FAILED');
    }
    await this.#d.throttle.succeeded(username, attempt);
    await this.#d.throttle.purge().catch(() => 0); // housekeeping: failures older than the window
    const now = this.#now();
    const set: Partial<User> = { lastLoginAt: now };
    if (needsRehash(u.passwordHash)) Object.assign(set, { passwordHash: await hashPassword(password) });
    const updated = await this.#d.users.update(username, set);
    await this.#d.audit.append({
      actor: `${via}:${username}`,
      action: 'user.login',
      subject: username,
      data: { ip },
    });
    return userView(updated ?? u);
  }

  /** Development seed: creates the accounts that do not exist yet (never changes existing ones). */
  async seed(accounts: readonly NewUser[]): Promise<number> {
    let n = 0;
    for (const a of accounts) {
      if (await this.#d.users.get(normalizeUsername(a.username))) continue;
      try {
        await this.create('seed', a);
        n++;
      } catch (err) {
        if (err instanceof HubError && err.code === 'CONFLICT') continue; // another process seeded it
        // Name the account, so that whoever reads the start-up error knows which seed entry to fix.
        if (err instanceof HubError)
          throw new HubError(
            err.code,
            `seed account ${a.username}: ${err.reason ?? err.message}`,
            err.details,
          );
        throw err;
      }
    }
    return n;
  }
}
