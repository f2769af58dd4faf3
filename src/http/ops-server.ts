/**
 * Health and metrics endpoints of a process without the api role (a worker): the same /healthz,
 * /readyz and /metrics as the api serves, and nothing else, so orchestrators can probe workers
 * and Prometheus can scrape their delivery counters.
 */
import express, { type Express } from 'express';
import type { HubMetrics } from '../observability/metrics.ts';

export interface OpsDeps {
  readonly metrics: HubMetrics;
  readonly roles: readonly string[];
  readonly ready: () => Promise<{ ok: boolean; checks: Record<string, boolean> }>;
  readonly isStopping: () => boolean;
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
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? 'ready' : 'not-ready', checks: r.checks, stopping: deps.isStopping() });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
