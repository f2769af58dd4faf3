/**
 * Health and metrics endpoints of a process without the api role (a worker): the same /healthz,
 * /readyz and /metrics as the api serves, and nothing else, so orchestrators can probe workers
 * and Prometheus can scrape their delivery counters.
 */
import express, { type Express } from 'express';
import type { HubMetrics } from '../observability/metrics.ts';
import type { RevocationHealth } from '../ops/revocation-freshness.ts';

export interface OpsDeps {
  readonly metrics: HubMetrics;
  readonly roles: readonly string[];
  readonly ready: () => Promise<ReadyReport>;
  readonly isStopping: () => boolean;
}

export interface ReadyReport {
  readonly ok: boolean;
  readonly checks: Record<string, boolean>;
  /** Stale revocation data makes the process `degraded`, not unready (docs/deployment.md). */
  readonly revocation?: RevocationHealth;
}

export function createOpsApp(deps: OpsDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  mountHealth(app, deps);
  app.use((_req, res) => {
    res.status(404).json({ code: 'NOT_FOUND', message: 'this process runs the worker role only' });
  });
  return app;
}

/** /healthz, /readyz and /metrics: the same on api and worker processes. */
export function mountHealth(
  app: Express,
  deps: Pick<OpsDeps, 'metrics' | 'ready' | 'isStopping'> & { readonly roles?: readonly string[] },
): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', ...(deps.roles ? { roles: deps.roles } : {}) });
  });
  app.get('/readyz', async (_req, res) => {
    const r = await deps.ready();
    const ok = r.ok && !deps.isStopping();
    // Stale revocation data is the same in every process (the CRLs are shared through MongoDB) and
    // only refuses submissions that need it: taking processes out of the load balancer would stop the
    // inbox, statuses and the UI too, and restarting them would not fetch a CRL. So 200, `degraded`.
    const degraded = r.revocation?.status === 'stale';
    res.status(ok ? 200 : 503).json({
      status: !ok ? 'not-ready' : degraded ? 'degraded' : 'ready',
      checks: r.checks,
      stopping: deps.isStopping(),
      ...(r.revocation ? { revocation: r.revocation } : {}),
    });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
