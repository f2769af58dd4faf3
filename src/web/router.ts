/**
 * The web UI for clerks, administrators and auditors, mounted at /ui (docs/ui.md). Server-rendered
 * HTML; the CSS and the one script are served from src/web/assets by the hub itself (no CDN), so
 * the pages work offline and under the hub's strict Content-Security-Policy (no inline script).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Router } from 'express';
import { randomUUID } from 'node:crypto';
import { requestIdOf } from '../http/access-log.ts';
import type { CertificateService } from '../certs/service.ts';
import type { DeadLetterService } from '../delivery/dead-letters.ts';
import type { DirectoryService } from '../directory/service.ts';
import { ERROR_CODES, HubError, isHubError } from '../domain/errors.ts';
import type { AuditLog, DocumentStore } from '../domain/ports.ts';
import type { Logger } from '../observability/logger.ts';
import type { MongoWebQueryStore } from '../store/web-store.ts';
import type { SessionService } from '../users/sessions.ts';
import type { UserService } from '../users/service.ts';
import {
  csrfGuard,
  formBody,
  requireRole,
  requireUser,
  sessionGate,
  sessionMiddleware,
  web,
} from './context.ts';
import { html } from './html.ts';
import type { ImportJobs } from './imports.ts';
import { renderPage } from './layout.ts';
import { adminAgenciesRouter } from './pages/admin-agencies.ts';
import { adminOpsRouter } from './pages/admin-ops.ts';
import { adminUsersRouter } from './pages/admin-users.ts';
import { adminPeersRouter, type PeersUi } from './pages/admin-peers.ts';
import { dashboardRouter } from './pages/dashboard.ts';
import { documentsRouter } from './pages/documents.ts';
import { loginRouter } from './pages/login.ts';
import type { WebQueries } from './queries.ts';

/** Forms take kilobytes: 64 KiB for any form, 16 KiB for the login form (before any session). */
export const FORM_MAX_BYTES = 64 * 1024;
export const LOGIN_FORM_MAX_BYTES = 16 * 1024;

export const ASSETS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');

export interface WebUiDeps {
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly queries: WebQueries;
  readonly store: MongoWebQueryStore;
  readonly imports: ImportJobs;
  readonly documents: Pick<DocumentStore, 'getPayload'>;
  readonly audit: AuditLog;
  readonly publicUrl: string;
  /** Cookies always Secure (config http.secureCookies: production). */
  readonly secureCookies?: boolean;
  readonly certExpiryWarnDays: number;
  readonly maxImportBytes: number;
}

/** What the UI uses of the hub's other services (the same instances the /v1 API uses). */
export interface WebHubDeps {
  readonly log: Logger;
  readonly directory: DirectoryService;
  readonly certificates: CertificateService;
  readonly deadLetters: DeadLetterService;
  readonly evidence: (docId: string) => Promise<Buffer>;
  /** Federation peers (src/federation): the peers page, and disable/enable of stored peers. */
  readonly federation?: PeersUi;
}

/** Errors of Express middleware (static files, body parsing) as HubErrors. */
function fromHttpError(err: unknown): HubError {
  const e = err as { status?: number; type?: string };
  if (e.type === 'entity.too.large' || e.status === 413)
    return new HubError('PAYLOAD_TOO_LARGE', 'the form is too large');
  if (e.status === 404) return new HubError('NOT_FOUND', 'no such file');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return new HubError('VALIDATION_FAILED', 'the request could not be read');
  return new HubError('INTERNAL');
}

function errorPage(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return;
    const hubErr = isHubError(err) ? err : fromHttpError(err);
    const id = requestIdOf(res) ?? randomUUID();
    if (!isHubError(err) && hubErr.code === 'INTERNAL')
      log.error({ errId: id, err, path: req.originalUrl }, 'web UI error');
    else
      log.info(
        { errId: id, code: hubErr.code, path: req.originalUrl, reason: hubErr.message },
        'web UI refusal',
      );
    if (!req.web) {
      res.status(hubErr.status).type('text/plain').send(`${hubErr.code}: ${hubErr.message}`);
      return;
    }
    if (hubErr.code === 'UNAUTHENTICATED') {
      res.redirect(303, '/ui/login');
      return;
    }
    const { t, lang } = web(req);
    const spec = ERROR_CODES[hubErr.code];
    const reason = hubErr.message.startsWith(`${spec.en}: `) ? hubErr.message.slice(spec.en.length + 2) : '';
    res.status(hubErr.status).send(
      renderPage(req, {
        title: `${hubErr.status}`,
        body: html`<section class="card error-page" data-code="${hubErr.code}">
          <h1>${hubErr.status} · ${spec[lang]}</h1>
          ${reason ? html`<p>${reason}</p>` : ''}
          <p class="muted">
            ${t('error.code')}: <code>${hubErr.code}</code> · ${t('error.ref')}: <code>${id}</code>
          </p>
          <p><a href="/ui/">${t('error.home')}</a></p>
        </section>`,
      }),
    );
  };
}

export function webRouter(hub: WebHubDeps, ui: WebUiDeps): Router {
  const r = express.Router();
  r.use('/assets', express.static(ASSETS_DIR, { index: false, maxAge: '1h', fallthrough: false }));
  r.use((_req, res, next) => {
    // Pages show other agencies' correspondence: never cached, never framed.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Frame-Options', 'DENY');
    // Same-origin referrers (helmet's default is no-referrer): browsers then send a real Origin
    // header with form posts, which the CSRF check compares with the host.
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });
  r.use(
    sessionMiddleware(ui.sessions, { publicUrl: ui.publicUrl, secureCookies: ui.secureCookies ?? false }),
  );
  // Session and origin first, then the body under the route's cap, then the token (issue 18 §4).
  r.use(sessionGate());
  r.use(
    formBody({
      login: LOGIN_FORM_MAX_BYTES,
      form: FORM_MAX_BYTES,
      adminUploads: new Map([['/admin/agencies/import', ui.maxImportBytes + FORM_MAX_BYTES]]),
    }),
  );
  r.use(csrfGuard());
  r.use(loginRouter({ users: ui.users, sessions: ui.sessions }));
  r.use(requireUser());
  r.get('/', (req, res) => {
    res.redirect(303, web(req).user!.role === 'clerk' ? '/ui/received' : '/ui/dashboard');
  });
  r.use(
    documentsRouter({
      queries: ui.queries,
      documents: ui.documents,
      evidence: hub.evidence,
      audit: ui.audit,
    }),
  );
  r.use('/dashboard', requireRole('admin', 'auditor'));
  r.use(dashboardRouter(ui.queries));
  r.use(
    '/admin',
    requireRole('admin', 'auditor'),
    adminAgenciesRouter({ directory: hub.directory, imports: ui.imports, maxImportBytes: ui.maxImportBytes }),
    adminOpsRouter({
      certificates: hub.certificates,
      deadLetters: hub.deadLetters,
      directory: hub.directory,
      store: ui.store,
      audit: ui.audit,
      certExpiryWarnDays: ui.certExpiryWarnDays,
    }),
    adminUsersRouter(ui.users),
    adminPeersRouter({ federation: hub.federation ?? { list: () => Promise.resolve([]) } }), // federation
  );
  r.use((_req, _res, next) => next(new HubError('NOT_FOUND', 'no such page')));
  r.use(errorPage(hub.log));
  return r;
}
