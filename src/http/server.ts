/** The Express application: security headers, raw bodies (hashed for auth), routes, error mapping. */
import type { PeersUi } from '../web/pages/admin-peers.ts';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { CredentialStore, SignatureLedger } from '../domain/ports.ts';
import type { DocumentQueries } from '../documents/queries.ts';
import type { SubmissionService } from '../documents/submission.ts';
import type { HubMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { spendOnRefusal, v1Intake, type IntakeLimits } from './intake.ts';
import { errorHandler } from './errors.ts';
import { accessLog } from './access-log.ts';
import { HubError } from '../domain/errors.ts';
import { v1Router } from './routes-v1.ts';
import { adminCertificatesRouter, adminDeadLettersRouter } from './routes-admin-certs.ts';
import type { DeadLetterService } from '../delivery/dead-letters.ts';
import type { CertificateService } from '../certs/service.ts';
import { openApiSpec } from './openapi.ts';
import { mountHealth, type ReadyReport } from './ops-server.ts';
import { directoryRouter } from '../directory/routes.ts';
import type { DirectoryService } from '../directory/service.ts';
import { webRouter, type WebUiDeps } from '../web/router.ts';
import { adminSystemsRouter } from '../systems/routes.ts';
import type { SystemsService } from '../systems/service.ts';
import { vdxpRouter, type VdxpStore } from '../vdxp/router.ts';
import type { AdminOperationsSettings } from '../vdxp/admin-gate.ts';
import type { AuditLog } from '../domain/ports.ts';

export interface HttpDeps {
  readonly log: Logger;
  readonly metrics: HubMetrics;
  readonly credentials: Pick<CredentialStore, 'find'>;
  readonly submissions: SubmissionService;
  readonly queries: DocumentQueries;
  readonly evidence: (docId: string) => Promise<Buffer>;
  /** The hub signing certificates (current first, then retired ones), published unauthenticated. */
  readonly hubCertificates?: {
    readonly signingEku: string;
    readonly certificates: readonly { readonly fingerprintSha256: string; readonly pem: string }[];
  };
  readonly certificates: CertificateService;
  readonly deadLetters: DeadLetterService;
  readonly directory: DirectoryService;
  readonly ready: () => Promise<ReadyReport>;
  readonly maxMessageBytes: number;
  /** Express's `trust proxy` (config http.trustProxy): whose X-Forwarded-For req.ip believes. */
  readonly trustProxy?: boolean | number | readonly string[];
  /** Bounds of /v1 intake (config http.*, auth.clockSkewSeconds). */
  readonly intake: IntakeLimits;
  /** One-use ledger of accepted /v1 request signatures. */
  readonly signatures: SignatureLedger;
  readonly isStopping: () => boolean;
  /** The web UI for clerks and administrators (src/web), mounted at /ui when given. */
  readonly ui?: WebUiDeps;
  /** Agency-system credentials administration (/v1/admin/systems), when given. */
  readonly systems?: SystemsService;
  /** Federation peers (src/federation), for the UI's peers page (disable/enable of stored peers). */
  readonly federation?: PeersUi;
  /** The national-axis compatible API (src/vdxp), mounted at /vdxp when given. */
  readonly vdxp?: {
    readonly store: VdxpStore;
    readonly adminOperations: AdminOperationsSettings;
    readonly audit: Pick<AuditLog, 'append'>;
  };
}

/** A path whose percent-encoding does not decode (`/v1/documents/%E0%A4%A`): `URL_MALFORMED`. */
function rejectMalformedPath(req: Request, _res: Response, next: NextFunction): void {
  try {
    decodeURIComponent(req.path);
  } catch {
    return next(new HubError('URL_MALFORMED', 'the path is not valid percent-encoded UTF-8'));
  }
  next();
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set(
    'trust proxy',
    typeof deps.trustProxy === 'object' ? [...deps.trustProxy] : (deps.trustProxy ?? false),
  );
  app.use(accessLog(deps.log));
  app.use(helmet());
  // Issue 18 §6: a path Express cannot decode is the client's mistake (400), on /v1, /ui and /vdxp
  // alike, refused before any router (whose own error pages would call it an internal error).
  app.use(rejectMalformedPath);

  mountHealth(app, deps);
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(openApiSpec);
  });
  // Unauthenticated, like the OpenAPI document: what verifiers of receipts pin (docs/security.md §7.1).
  // Pins must still reach a verifier out of band; this lets it check what it was given.
  const hubCerts = deps.hubCertificates;
  if (hubCerts)
    app.get('/v1/hub/certificates', (_req, res) => {
      res.json(hubCerts);
    });

  // Stop intake first on shutdown; in-flight requests finish.
  app.use('/v1', (_req, _res, next) => {
    next(deps.isStopping() ? new HubError('UNAVAILABLE', 'the hub is shutting down') : undefined);
  });
  // The caller is authenticated from the headers before any large read; the body is then read raw
  // (bounded, hashed as it arrives), so that the HMAC covers the exact bytes and the signature
  // verification sees the exact bytes the agency signed (src/http/intake.ts).
  app.use(
    '/v1',
    v1Intake({
      credentials: deps.credentials,
      signatures: deps.signatures,
      limits: deps.intake,
      largeBodies: deps.metrics.largeBodiesInFlight,
    }),
    v1Router(deps),
    spendOnRefusal(),
  );
  app.use('/v1/admin', adminCertificatesRouter(deps.certificates), adminDeadLettersRouter(deps.deadLetters));
  app.use('/v1', directoryRouter(deps.directory)); // /agencies (any system), /admin/agencies (admin)
  if (deps.systems) app.use('/v1/admin', adminSystemsRouter(deps.systems));
  // The national-axis SDK's API: own auth (signed XroadVnpt-* headers), own raw body parser and
  // envelope answers (src/vdxp/router.ts).
  if (deps.vdxp)
    app.use(
      '/vdxp',
      vdxpRouter({
        log: deps.log,
        credentials: deps.credentials,
        submissions: deps.submissions,
        queries: deps.queries,
        directory: deps.directory,
        store: deps.vdxp.store,
        adminOperations: deps.vdxp.adminOperations,
        audit: deps.vdxp.audit,
        maxMessageBytes: deps.maxMessageBytes,
        isStopping: deps.isStopping,
      }),
    );
  if (deps.ui) app.use('/ui', webRouter(deps, deps.ui));
  app.get('/', (_req, res) => {
    res.redirect(deps.ui ? '/ui/' : '/v1/openapi.json');
  });
  app.use((_req, _res, next) => next(new HubError('NOT_FOUND', 'no such route')));
  app.use(errorHandler(deps.log));
  return app;
}
