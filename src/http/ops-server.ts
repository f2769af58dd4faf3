/**
 * The ops port: /healthz, /readyz and /metrics, and nothing else. An api process serves it on
 * `http.opsPort` besides the public port (which has no /metrics: issue 18 §6, the counters and
 * refusal codes are not for the internet); a worker-only process serves it on its one port. So
 * orchestrators can probe every process and Prometheus can scrape it from the internal network.
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
  /** Stale revocation data makes the process `revocation-stale`, not unready (docs/deployment.md). */
  readonly revocation?: RevocationHealth;
}

export function createOpsApp(deps: OpsDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  mountHealth(app, deps);
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.use((_req, res) => {
    res
      .status(404)
      .json({ code: 'NOT_FOUND', message: 'the ops port serves /healthz, /readyz and /metrics' });
  });
  return app;
}

/** /healthz and /readyz: the same on the public and the ops port (load balancers probe the former). */
export function mountHealth(
  app: Express,
  deps: Pick<OpsDeps, 'ready' | 'isStopping'> & { readonly roles?: readonly string[] },
): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', ...(deps.roles ? { roles: deps.roles } : {}) });
  });
  app.get('/readyz', async (_req, res) => {
    const r = await deps.ready();
    const ok = r.ok && !deps.isStopping();
    // Stale revocation data is the same in every process (the CRLs are shared through MongoDB) and
    // only refuses submissions that need it: taking processes out of the load balancer would stop the
    // inbox, statuses and the UI too, and restarting them would not fetch a CRL. So 200, with its own
    // status `revocation-stale` (issue 23: distinct from `not-ready`, which is down).
    const stale = r.revocation?.status === 'stale';
    res.status(ok ? 200 : 503).json({
      status: !ok ? 'not-ready' : stale ? 'revocation-stale' : 'ready',
      checks: r.checks,
      stopping: deps.isStopping(),
      ...(r.revocation ? { revocation: r.revocation } : {}),
    });
  });
}
