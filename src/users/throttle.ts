/**
 * Login throttling, shared by every api process through MongoDB: each failed attempt is one record
 * (per user name and per client address); a key with `max` failures inside the sliding window is
 * locked until enough of them age out. While locked, even the right password is refused and the
 * attempt is not checked at all (no password oracle, no scrypt work for the attacker to trigger).
 */
import type { LoginAttemptStore } from './types.ts';

export interface ThrottlePolicy {
  readonly windowMs: number;
  /** Failures per user name within the window. */
  readonly maxPerUser: number;
  /** Failures per client address within the window (many user names tried from one place). */
  readonly maxPerIp: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = { windowMs: 15 * 60_000, maxPerUser: 5, maxPerIp: 30 };

export type ThrottleDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export class LoginThrottle {
  readonly #store: LoginAttemptStore;
  readonly #policy: ThrottlePolicy;
  readonly #now: () => Date;

  constructor(
    store: LoginAttemptStore,
    policy: ThrottlePolicy = DEFAULT_THROTTLE,
    now: () => Date = () => new Date(),
  ) {
    this.#store = store;
    this.#policy = policy;
    this.#now = now;
  }

  get policy(): ThrottlePolicy {
    return this.#policy;
  }

  static userKey(username: string): string {
    return `user:${username.trim().toLowerCase()}`;
  }

  static ipKey(ip: string): string {
    return `ip:${ip}`;
  }

  /** Locked until: the moment the `max`-th most recent failure leaves the window. */
  async #lockedFor(key: string, max: number, now: Date): Promise<number> {
    const times = await this.#store.since(key, new Date(now.getTime() - this.#policy.windowMs));
    if (times.length < max) return 0;
    const releasing = times[times.length - max]!; // the oldest failure that still keeps the key at max
    return Math.max(1, releasing.getTime() + this.#policy.windowMs - now.getTime());
  }

  async check(username: string, ip: string): Promise<ThrottleDecision> {
    const now = this.#now();
    const [u, i] = await Promise.all([
      this.#lockedFor(LoginThrottle.userKey(username), this.#policy.maxPerUser, now),
      this.#lockedFor(LoginThrottle.ipKey(ip), this.#policy.maxPerIp, now),
    ]);
    const wait = Math.max(u, i);
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  async failed(username: string, ip: string): Promise<void> {
    const at = this.#now();
    await this.#store.record(LoginThrottle.userKey(username), at);
    await this.#store.record(LoginThrottle.ipKey(ip), at);
  }

  /** A successful login clears the user's failures (not the address's: other names may be under attack). */
  async succeeded(username: string): Promise<void> {
    await this.#store.clear(LoginThrottle.userKey(username));
  }

  /** Drops records older than the window (housekeeping; any process may run it). */
  purge(): Promise<number> {
    return this.#store.purge(new Date(this.#now().getTime() - this.#policy.windowMs));
  }
}
