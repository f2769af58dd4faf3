/**
 * Per-endpoint circuit breaker: after `threshold` consecutive failures the endpoint is left alone
 * for `cooldownMs`; then one trial request is let through (half-open). Kept per process: each hub
 * process protects the endpoint on its own, which is safe to duplicate across processes.
 */
export interface BreakerOptions {
  readonly threshold: number;
  readonly cooldownMs: number;
}

interface State {
  failures: number;
  openUntil: number;
  trialInFlight: boolean;
}

export class CircuitBreakers {
  readonly #o: BreakerOptions;
  readonly #states = new Map<string, State>();
  readonly #now: () => number;

  constructor(o: BreakerOptions, now: () => number = Date.now) {
    this.#o = o;
    this.#now = now;
  }

  #state(key: string): State {
    let s = this.#states.get(key);
    if (!s) this.#states.set(key, (s = { failures: 0, openUntil: 0, trialInFlight: false }));
    return s;
  }

  /** Whether a request to this endpoint may be attempted now. */
  allow(key: string): boolean {
    const s = this.#state(key);
    if (s.failures < this.#o.threshold) return true;
    if (this.#now() < s.openUntil || s.trialInFlight) return false;
    s.trialInFlight = true; // half-open: one trial
    return true;
  }

  success(key: string): void {
    this.#states.set(key, { failures: 0, openUntil: 0, trialInFlight: false });
  }

  failure(key: string): void {
    const s = this.#state(key);
    s.failures++;
    s.trialInFlight = false;
    if (s.failures >= this.#o.threshold) s.openUntil = this.#now() + this.#o.cooldownMs;
  }

  isOpen(key: string): boolean {
    const s = this.#states.get(key);
    return !!s && s.failures >= this.#o.threshold && this.#now() < s.openUntil;
  }
}
