/**
 * The ops port: /healthz, /readyz and /metrics, and nothing else. An api process serves it on
 * `http.opsPort` besides the public port (which has no /metrics: issue 18 §6, the counters and
 * refusal codes are not for the internet); a worker-only process serves it on its one port. So
 * orchestrators can probe every process and Prometheus can scrape it from the internal network.
 */
import express, { type Express } from 'express';
import type { HubMetrics } from '../observability/metrics.ts';
import type { ReadyReport } from '../ops/readiness.ts';

export type { ReadyReport } from '../ops/readiness.ts';

export interface OpsDeps {
  readonly metrics: HubMetrics;
  readonly roles: readonly string[];
  readonly ready: () => Promise<ReadyReport>;
  readonly isStopping: () => boolean;
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
    // The report sums up the process's probes (src/ops/readiness.ts, the matrix in
    // docs/deployment.md): `degraded` still answers 200, `not-ready` and `draining` 503.
    const r = await deps.ready();
    res.status(r.ok ? 200 : 503).json({
      status: r.status,
      checks: r.checks,
      reasons: r.reasons,
      stopping: r.status === 'draining' || deps.isStopping(),
      ...r.detail,
    });
  });
}
