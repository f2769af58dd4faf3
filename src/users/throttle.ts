/**
 * Login throttling, shared by every api process through MongoDB: each attempt is one record (per
 * user name and per client address); a key with `max` failures inside the sliding window is locked
 * until enough of them age out. While locked, even the right password is refused and the attempt is
 * not checked at all (no password oracle, no scrypt work for the attacker to trigger).
 *
 * Issue 18 §3: the attempt is reserved in the store BEFORE the password is checked, atomically across
 * processes (LoginAttemptStore.reserve), so N parallel guesses get at most `max` checks; checking the
 * lock, hashing, then recording the failure let all 25 of a parallel burst through. Only a successful
 * check releases the reservation (and resets the user name).
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

export interface Locked {
  readonly allowed: false;
  readonly retryAfterMs: number;
}

export type ThrottleDecision = { readonly allowed: true } | Locked;

/** A reserved attempt: the password may be checked once. */
export interface Reservation {
  readonly allowed: true;
  readonly userId: string;
  readonly ipId: string;
  /** The keys a failure of this attempt locks (it takes their last place in the window). */
  readonly locks: readonly ('user' | 'address')[];
}

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
  #wait(times: readonly Date[], max: number, now: Date): number {
    if (times.length < max) return 0;
    const releasing = times[times.length - max]!; // the oldest failure that still keeps the key at max
    return Math.max(1, releasing.getTime() + this.#policy.windowMs - now.getTime());
  }

  #since(now: Date): Date {
    return new Date(now.getTime() - this.#policy.windowMs);
  }

  /** Whether the name or the address is locked now (read only: reserve() is what login uses). */
  async check(username: string, ip: string): Promise<ThrottleDecision> {
    const now = this.#now();
    const [u, i] = await Promise.all([
      this.#store.since(LoginThrottle.userKey(username), this.#since(now)),
      this.#store.since(LoginThrottle.ipKey(ip), this.#since(now)),
    ]);
    const wait = Math.max(
      this.#wait(u, this.#policy.maxPerUser, now),
      this.#wait(i, this.#policy.maxPerIp, now),
    );
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  /**
   * Takes one attempt for the name and one for the address, or refuses while either is locked
   * (leaving nothing behind: the name's attempt is released when the address is locked).
   */
  async reserve(username: string, ip: string): Promise<Reservation | Locked> {
    const now = this.#now();
    const { maxPerUser, maxPerIp } = this.#policy;
    const u = await this.#store.reserve(LoginThrottle.userKey(username), now, this.#since(now), maxPerUser);
    if ('locked' in u) return { allowed: false, retryAfterMs: this.#wait(u.locked, maxPerUser, now) };
    const i = await this.#store.reserve(LoginThrottle.ipKey(ip), now, this.#since(now), maxPerIp);
    if ('locked' in i) {
      await this.#store.release(u.id);
      return { allowed: false, retryAfterMs: this.#wait(i.locked, maxPerIp, now) };
    }
    const locks: ('user' | 'address')[] = [];
    if (u.count >= maxPerUser) locks.push('user');
    if (i.count >= maxPerIp) locks.push('address');
    return { allowed: true, userId: u.id, ipId: i.id, locks };
  }

  /**
   * The password was right (or an administrator reset it): the user's failures stop counting; of the
   * address's, only this attempt's (other names may be under attack from there).
   */
  async succeeded(username: string, reservation?: Reservation): Promise<void> {
    await this.#store.clear(LoginThrottle.userKey(username));
    if (reservation) await this.#store.release(reservation.ipId);
  }

  /** Drops records older than the window (housekeeping; any process may run it). */
  purge(): Promise<number> {
    return this.#store.purge(new Date(this.#now().getTime() - this.#policy.windowMs));
  }
}
