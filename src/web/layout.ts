/**
 * The page shell: a skip link to the main content, the header (navigation by role, language switch,
 * logout; behind a menu button on narrow screens), flash message, main content.
 */
import type { Request } from 'express';
import { html, href, type SafeHtml } from './html.ts';
import { web, csrfToken } from './context.ts';
import type { MsgKey } from './i18n.ts';

export interface Flash {
  readonly kind: 'ok' | 'error' | 'warn';
  readonly text: string;
}

export interface PageOptions {
  readonly title: string;
  /** Navigation entry to highlight. */
  readonly nav?: string;
  readonly flash?: Flash | null;
  readonly body: SafeHtml;
  /** Extra markup in <head> (e.g. a <noscript> refresh). Constants only. */
  readonly head?: SafeHtml;
  /** A count shown beside a navigation entry, by its id (e.g. received documents not yet opened). */
  readonly counts?: Readonly<Record<string, number>>;
}

const NAV: { id: string; path: string; key: MsgKey; roles: readonly string[] }[] = [
  { id: 'dashboard', path: '/ui/dashboard', key: 'nav.dashboard', roles: ['admin', 'auditor'] },
  { id: 'received', path: '/ui/received', key: 'nav.received', roles: ['admin', 'auditor', 'clerk'] },
  { id: 'sent', path: '/ui/sent', key: 'nav.sent', roles: ['admin', 'auditor', 'clerk'] },
  { id: 'agencies', path: '/ui/admin/agencies', key: 'nav.agencies', roles: ['admin', 'auditor'] },
  {
    id: 'certificates',
    path: '/ui/admin/certificates',
    key: 'nav.certificates',
    roles: ['admin', 'auditor'],
  },
  { id: 'endpoints', path: '/ui/admin/endpoints', key: 'nav.endpoints', roles: ['admin', 'auditor'] },
  { id: 'deadletters', path: '/ui/admin/deadletters', key: 'nav.deadletters', roles: ['admin', 'auditor'] },
  { id: 'peers', path: '/ui/admin/peers', key: 'nav.peers', roles: ['admin', 'auditor'] }, // federation
  { id: 'users', path: '/ui/admin/users', key: 'nav.users', roles: ['admin', 'auditor'] },
  { id: 'audit', path: '/ui/admin/audit', key: 'nav.audit', roles: ['admin', 'auditor'] },
];

export function csrfField(req: Request): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrfToken(req)}" />`;
}

export function flashBox(f: Flash | null | undefined): SafeHtml {
  if (!f) return html``;
  return html`<div class="flash flash-${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">
    ${f.text}
  </div>`;
}

export function renderPage(req: Request, o: PageOptions): string {
  const w = web(req);
  const { t, user } = w;
  const other = w.lang === 'vi' ? 'en' : 'vi';
  const nav = user
    ? NAV.filter((n) => n.roles.includes(user.role)).map(
        (n) =>
          html`<a href="${n.path}" ${o.nav === n.id ? html` class="active" aria-current="page"` : ''}
            >${t(n.key)}${o.counts?.[n.id] ? html` <span class="nav-count">${o.counts[n.id]}</span>` : ''}</a
          >`,
      )
    : [];
  const who = user
    ? html`<span
          class="who"
          title="${[user.displayName, user.agencies.join(', ')].filter(Boolean).join(' · ')}"
          >${user.username} <span class="role role-${user.role}">${t(`role.${user.role}`)}</span></span
        >
        <form method="post" action="/ui/logout" class="inline">
          ${csrfField(req)}<button type="submit" class="link">${t('nav.logout')}</button>
        </form>`
    : '';
  const lang = html`<a
    class="lang"
    href="${href(`/ui/lang/${other}`, { next: req.originalUrl })}"
    hreflang="${other}"
    lang="${other}"
    >${other === 'en' ? 'English' : 'Tiếng Việt'}</a
  >`;
  // Signed in: navigation and tools sit in a disclosure that is a menu button on narrow screens and
  // always open on wide ones (app.css); it works without JavaScript, app.js adds aria-expanded.
  const menu = user
    ? html`<details class="menu">
        <summary aria-controls="menu">${t('nav.menu')}</summary>
        <div class="menu-body" id="menu">
          <nav aria-label="${t('nav.label')}">${nav}</nav>
          <div class="tools">${who} ${lang}</div>
        </div>
      </details>`
    : html`<div class="tools">${lang}</div>`;
  return `<!doctype html>\n${String(
    html`<html lang="${w.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · ${t('app.title')}</title>
        <link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/ui/assets/app.css" />
        <script src="/ui/assets/app.js" defer></script>
        ${o.head ?? ''}
      </head>
      <body>
        <a class="skip" href="#main">${t('nav.skip')}</a>
        <header class="top">
          <a class="brand" href="/ui/">${t('app.title')}</a>
          ${menu}
        </header>
        <main id="main" tabindex="-1">${flashBox(o.flash)} ${o.body}</main>
        <footer>${t('app.footer')}</footer>
      </body>
    </html>`,
  )}`;
}
