/**
 * The web UI's request context: language, the logged-in user and session (from the session cookie,
 * looked up in MongoDB), CSRF enforcement, and role guards.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { administers, userParty } from '../access/policy.ts';
import { HubError } from '../domain/errors.ts';
import type { SessionService } from '../users/sessions.ts';
import type { Role, Session, UserView } from '../users/types.ts';
import { userView } from '../users/types.ts';
import { parseCookies, serializeCookie } from './cookies.ts';
import { SAFE_METHODS, crossSiteProblem, csrfProblem, newCsrfToken } from './csrf.ts';
import { isLang, translator, type Lang, type Translator } from './i18n.ts';

export const COOKIES = { session: 'hub_session', lang: 'hub_lang', login: 'hub_login_csrf' } as const;

export interface WebContext {
  readonly lang: Lang;
  readonly t: Translator;
  readonly user: UserView | null;
  readonly session: Session | null;
  readonly token: string | undefined;
  readonly cookies: Map<string, string>;
  readonly secureCookies: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    web?: WebContext;
  }
}

export function web(req: Request): WebContext {
  if (!req.web) throw new Error('web context missing (sessionMiddleware not mounted)');
  return req.web;
}

/** The user of a route behind requireUser. */
export function userOf(req: Request): UserView {
  const u = web(req).user;
  if (!u) throw new HubError('UNAUTHENTICATED', 'log in first');
  return u;
}

export function actorOf(req: Request): string {
  return `ui:${userOf(req).username}`;
}

/**
 * Whether the UI's cookies carry Secure: always with http.secureCookies (the production
 * configuration: TLS ends at the load balancer, so neither the socket nor a forgotten PUBLIC_URL
 * can be trusted to say so), else when the request came over TLS (or a trusted proxy says it did)
 * or the hub's public URL is https.
 */
export function secureCookiesFor(o: {
  publicUrl: string;
  secureCookies: boolean;
}): (req: Request) => boolean {
  const always = o.secureCookies || /^https:/i.test(o.publicUrl);
  return (req) => always || req.secure;
}

export function sessionMiddleware(
  sessions: SessionService,
  cookies: { publicUrl: string; secureCookies: boolean },
): RequestHandler {
  const secure = secureCookiesFor(cookies);
  return (req: Request, _res: Response, next: NextFunction) => {
    const cookies = parseCookies(req.header('cookie'));
    const langCookie = cookies.get(COOKIES.lang);
    const lang: Lang = langCookie && isLang(langCookie) ? langCookie : 'vi';
    const token = cookies.get(COOKIES.session);
    sessions
      .resolve(token)
      .then((found) => {
        req.web = {
          lang,
          t: translator(lang),
          user: found ? userView(found.user) : null,
          session: found?.session ?? null,
          token: found ? token : undefined,
          cookies,
          secureCookies: secure(req),
        };
        next();
      })
      .catch(next);
  };
}

export function setSessionCookie(res: Response, w: WebContext, token: string | null): void {
  res.append(
    'Set-Cookie',
    serializeCookie(COOKIES.session, token ?? '', {
      path: '/ui',
      httpOnly: true,
      secure: w.secureCookies,
      sameSite: 'Lax',
      ...(token ? {} : { maxAge: 0 }),
    }),
  );
}

/** The login form's double-submit token: a fresh cookie for each display of the form. */
export function issueLoginCsrf(res: Response, w: WebContext): string {
  const token = newCsrfToken();
  res.append(
    'Set-Cookie',
    serializeCookie(COOKIES.login, token, {
      path: '/ui/login',
      httpOnly: true,
      secure: w.secureCookies,
      sameSite: 'Strict',
      maxAge: 3600,
    }),
  );
  return token;
}

/** The CSRF token forms of this request must carry. */
export function csrfToken(req: Request): string {
  return web(req).session?.csrf ?? '';
}

/**
 * What a state-changing request must show BEFORE its body is read (issue 18 §4): a session (except
 * the login form) and no other origin. A request that fails is answered without reading a byte of
 * its body; the token itself is checked by csrfGuard once the (capped) form is read.
 */
export function sessionGate(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) return next();
    if (req.path !== '/login' && !web(req).session)
      return next(new HubError('UNAUTHENTICATED', 'log in first'));
    const problem = crossSiteProblem({
      method: req.method,
      host: req.header('host'),
      origin: req.header('origin'),
      secFetchSite: req.header('sec-fetch-site'),
    });
    next(problem ? new HubError('CSRF_INVALID', problem) : undefined);
  };
}

/** Caps of urlencoded form bodies, in bytes (issue 18 §4: forms take kilobytes). */
export interface FormCaps {
  /** The login form: no session yet, two short fields. */
  readonly login: number;
  /** Every other form. */
  readonly form: number;
  /** Routes (paths under /ui) with their own cap, for administrators only (the bulk import). */
  readonly adminUploads: ReadonlyMap<string, number>;
}

/**
 * Reads urlencoded form bodies with the cap of the route; mounted after sessionGate, so the larger
 * cap of an upload applies only once the session is known to be an administrator's. A body over
 * its cap is refused with 413 PAYLOAD_TOO_LARGE and nothing of it is parsed.
 */
export function formBody(caps: FormCaps): RequestHandler {
  const parser = (limit: number) => express.urlencoded({ extended: false, limit, parameterLimit: 200 });
  const login = parser(caps.login);
  const form = parser(caps.form);
  const uploads = new Map([...caps.adminUploads].map(([p, limit]) => [p, parser(limit)]));
  return (req: Request, res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) return next();
    if (req.path === '/login') return login(req, res, next);
    const upload = uploads.get(req.path);
    if (upload && web(req).user?.role === 'admin') return upload(req, res, next);
    return form(req, res, next);
  };
}

/**
 * Refuses state-changing requests without the right token. Mounted after the body parser.
 * Requests without a session (other than the login form) are sent to the login page.
 */
export function csrfGuard(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const w = web(req);
    if (SAFE_METHODS.has(req.method)) return next();
    const isLogin = req.path === '/login';
    if (!isLogin && !w.session) return next(new HubError('UNAUTHENTICATED', 'log in first'));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const field = typeof body._csrf === 'string' ? body._csrf : undefined;
    const problem = csrfProblem({
      method: req.method,
      host: req.header('host'),
      origin: req.header('origin'),
      secFetchSite: req.header('sec-fetch-site'),
      expected: isLogin ? w.cookies.get(COOKIES.login) : w.session!.csrf,
      given: field ?? req.header('x-csrf-token'),
    });
    next(problem ? new HubError('CSRF_INVALID', problem) : undefined);
  };
}

/** Pages for logged-in users: others are sent to the login page (and back afterwards). */
export function requireUser(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (web(req).user) return next();
    if (req.method === 'GET') {
      res.redirect(303, `/ui/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    next(new HubError('UNAUTHENTICATED', 'log in first'));
  };
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const u = web(req).user;
    if (!u) return next(new HubError('UNAUTHENTICATED', 'log in first'));
    next(
      roles.includes(u.role) ? undefined : new HubError('FORBIDDEN', `this page is for: ${roles.join(', ')}`),
    );
  };
}

/** Only administrators change anything; auditors see the same pages read-only. */
export const canWrite = (u: UserView | null) => !!u && administers(userParty(u));

/** A redirect target inside the UI (never another site). */
export function safeNext(next: unknown, fallback = '/ui/'): string {
  return typeof next === 'string' &&
    /^\/ui(\/|$|\?)/.test(next) &&
    !next.includes('\\') &&
    !next.startsWith('//')
    ? next
    : fallback;
}
