/**
 * Readiness: whether this process can do its job (issue 23), from one probe per dependency. Each
 * probe says whether its dependency is up (the `checks` of /readyz) and what that means for the
 * process's roles: `ok`, `degraded` (still serving: 200, with the reason) or `down` (503). The
 * matrix (docs/deployment.md §1 "Readiness"): MongoDB down → not ready; RabbitMQ down or refusing
 * publishes → an api process is degraded (submissions wait in the outbox), a worker-only process is
 * not ready; stale revocation data → `revocation-stale` (200, like degraded). A graceful stop answers `draining` (503) first.
 */
export type ProbeEffect = 'ok' | 'degraded' | 'down';

export interface ProbeResult {
  /** The dependency's own state, reported under `checks` (omitted: not a dependency check). */
  readonly up?: boolean;
  readonly effect: ProbeEffect;
  /** Why it is not `ok`, for people. */
  readonly reason?: string;
  /** Extra fields of the /readyz body (e.g. `revocation`). */
  readonly detail?: Readonly<Record<string, unknown>>;
  /**
   * A degraded state with a name of its own, reported as the status when it is the only thing wrong
   * (`revocation-stale`: still 200, but distinct from a broker outage; issue 23).
   */
  readonly degradedAs?: 'revocation-stale';
}

export interface ReadinessProbe {
  readonly name: string;
  probe(): Promise<ProbeResult> | ProbeResult;
}

export type ReadyStatus = 'ready' | 'degraded' | 'revocation-stale' | 'not-ready' | 'draining';

export interface ReadyReport {
  /** 200 when true, 503 otherwise. */
  readonly ok: boolean;
  readonly status: ReadyStatus;
  readonly checks: Record<string, boolean>;
  readonly reasons: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Runs every probe (a probe that throws counts as down) and sums them up. */
export async function assessReadiness(
  probes: readonly ReadinessProbe[],
  draining: boolean,
): Promise<ReadyReport> {
  const results = await Promise.all(
    probes.map(async (p): Promise<[ReadinessProbe, ProbeResult]> => {
      try {
        return [p, await p.probe()];
      } catch (err) {
        return [p, { up: false, effect: 'down', reason: `${p.name}: ${(err as Error).message}` }];
      }
    }),
  );
  const checks: Record<string, boolean> = {};
  const reasons: string[] = [];
  let detail: Record<string, unknown> = {};
  for (const [p, r] of results) {
    if (r.up !== undefined) checks[p.name] = r.up;
    if (r.effect !== 'ok') reasons.push(r.reason ?? `${p.name} ${r.effect}`);
    if (r.detail) detail = { ...detail, ...r.detail };
  }
  const effects = results.map(([, r]) => r.effect);
  if (draining) reasons.unshift('draining: stopping after the drain period');
  const status: ReadyStatus = draining
    ? 'draining'
    : effects.includes('down')
      ? 'not-ready'
      : effects.includes('degraded')
        ? degradedStatus(results.map(([, r]) => r))
        : 'ready';
  return { ok: status !== 'not-ready' && status !== 'draining', status, checks, reasons, detail };
}

/** `degraded`, or the degraded state's own name when every degraded probe names the same one. */
function degradedStatus(results: readonly ProbeResult[]): ReadyStatus {
  const names = new Set(
    results.filter((r) => r.effect === 'degraded').map((r) => r.degradedAs ?? 'degraded'),
  );
  const [only] = names;
  return names.size === 1 && only ? only : 'degraded';
}

/** The broker as the roles need it: an api process relays through the outbox, a worker cannot work. */
export function brokerEffect(
  roles: readonly string[],
  health: { readonly state: 'up' | 'down' | 'publish-refused'; readonly reason?: string },
): ProbeResult {
  if (health.state === 'up') return { up: true, effect: 'ok' };
  const what =
    health.state === 'down'
      ? 'broker down'
      : `broker refusing publishes${health.reason ? ` (${health.reason})` : ''}`;
  if (roles.includes('api'))
    return {
      up: health.state !== 'down',
      effect: 'degraded',
      reason: `degraded: ${what}, outbox relaying later`,
    };
  return { up: health.state !== 'down', effect: 'down', reason: `${what}: the worker cannot deliver` };
}
