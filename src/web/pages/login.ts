/** Login and logout. */
import express, { type Request, type Response, type Router } from 'express';
import { isHubError } from '../../domain/errors.ts';
import type { SessionService } from '../../users/sessions.ts';
import type { UserService } from '../../users/service.ts';
import { COOKIES, issueLoginCsrf, safeNext, setSessionCookie, web } from '../context.ts';
import { serializeCookie } from '../cookies.ts';
import { html } from '../html.ts';
import { renderPage, type Flash } from '../layout.ts';
import { isLang } from '../i18n.ts';

function loginPage(req: Request, res: Response, opts: { username?: string; flash?: Flash; status?: number }) {
  const w = web(req);
  const { t } = w;
  const token = issueLoginCsrf(res, w);
  const next = safeNext(req.query.next ?? (req.body as Record<string, unknown> | undefined)?.next, '/ui/');
  res.status(opts.status ?? 200).send(
    renderPage(req, {
      title: t('login.title'),
      flash: opts.flash ?? (req.query.bye ? { kind: 'ok', text: t('login.bye') } : null),
      body: html`<section class="login card">
        <h1>${t('login.title')}</h1>
        <p class="muted">${t('login.intro')}</p>
        <form method="post" action="/ui/login" class="stack">
          <input type="hidden" name="_csrf" value="${token}" />
          <input type="hidden" name="next" value="${next}" />
          <label
            >${t('login.username')}<input
              name="username"
              autocomplete="username"
              required
              maxlength="64"
              value="${opts.username ?? ''}"
              autofocus
          /></label>
          <label
            >${t('login.password')}<input
              name="password"
              type="password"
              autocomplete="current-password"
              required
              maxlength="1024"
          /></label>
          <button type="submit" class="primary">${t('login.submit')}</button>
        </form>
      </section>`,
    }),
  );
}

export function loginRouter(deps: { users: UserService; sessions: SessionService }): Router {
  const r = express.Router();

  r.get('/login', (req, res) => {
    if (web(req).user) {
      res.redirect(303, safeNext(req.query.next));
      return;
    }
    loginPage(req, res, {});
  });

  r.post('/login', async (req, res) => {
    const w = web(req);
    const body = req.body as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    try {
      const user = await deps.users.authenticate(username, password, req.ip ?? 'unknown');
      if (w.token) await deps.sessions.destroy(w.token); // a new session at every login
      const { token } = await deps.sessions.create(user.username, {
        ...(req.ip ? { ip: req.ip } : {}),
        ...(req.header('user-agent') ? { userAgent: req.header('user-agent') } : {}),
      });
      setSessionCookie(res, w, token);
      res.append(
        'Set-Cookie',
        serializeCookie(COOKIES.login, '', {
          path: '/ui/login',
          sameSite: 'Strict',
          secure: w.secureCookies,
          maxAge: 0,
        }),
      );
      const home = user.role === 'clerk' ? '/ui/received' : '/ui/dashboard';
      const next = safeNext(body.next, home);
      res.redirect(303, next === '/ui/' ? home : next);
    } catch (err) {
      if (!isHubError(err) || (err.code !== 'LOGIN_FAILED' && err.code !== 'LOGIN_THROTTLED')) throw err;
      if (err.code === 'LOGIN_THROTTLED') {
        const s = (err.details?.retryAfterSeconds as number | undefined) ?? 60;
        res.setHeader('Retry-After', String(s));
      }
      loginPage(req, res, {
        username,
        status: err.status,
        flash: {
          kind: 'error',
          text:
            err.code === 'LOGIN_THROTTLED'
              ? w.t('login.throttled', {
                  minutes: Math.ceil(((err.details?.retryAfterSeconds as number) ?? 60) / 60),
                })
              : w.t('login.failed'),
        },
      });
    }
  });

  r.post('/logout', async (req, res) => {
    const w = web(req);
    await deps.sessions.destroy(w.token);
    setSessionCookie(res, w, null);
    res.redirect(303, '/ui/login?bye=1');
  });

  /** Language switch (a preference cookie; changes nothing on the server). */
  r.get('/lang/:lang', (req, res) => {
    const w = web(req);
    const lang = isLang(req.params.lang) ? req.params.lang : 'vi';
    res.append(
      'Set-Cookie',
      serializeCookie(COOKIES.lang, lang, {
        path: '/ui',
        sameSite: 'Lax',
        secure: w.secureCookies,
        maxAge: 365 * 86_400,
      }),
    );
    res.redirect(303, safeNext(req.query.next));
  });

  return r;
}
