/** Accounts of the web UI (administrators manage; auditors see the list). */
import express, { type Request, type Router } from 'express';
import { HubError, isHubError } from '../../domain/errors.ts';
import type { UserService } from '../../users/service.ts';
import { ROLES, type UserView } from '../../users/types.ts';
import { actorOf, canWrite, userOf, web } from '../context.ts';
import { fmtDateTime } from '../format.ts';
import { codeList, errorFlash, field } from '../forms.ts';
import { html, seg, type SafeHtml } from '../html.ts';
import { csrfField, renderPage, type Flash } from '../layout.ts';
import { empty, option } from '../widgets.ts';

export function adminUsersRouter(users: UserService): Router {
  const r = express.Router();
  const adminOnly = (req: Request) => {
    if (!canWrite(userOf(req))) throw new HubError('FORBIDDEN', 'auditors have read-only access');
  };

  const page = async (
    req: Request,
    o: {
      flash?: Flash | null;
      secret?: { username: string; password: string };
      form?: Record<string, string>;
      status?: number;
    } = {},
  ) => {
    const { t, lang } = web(req);
    const me = userOf(req);
    const admin = canWrite(me);
    const list = await users.list();
    const row = (u: UserView): SafeHtml =>
      html`<tr class="${u.active ? '' : 'closed'}" data-user="${u.username}">
        <td><code>${u.username}</code></td>
        <td>${u.displayName ?? ''}</td>
        <td><span class="role role-${u.role}">${t(`role.${u.role}`)}</span></td>
        <td>${u.agencies.map((a) => html`<code>${a}</code> `)}</td>
        <td>
          ${u.active ? t('user.active') : html`<span class="badge badge-bad">${t('user.disabled')}</span>`}
        </td>
        <td class="nowrap">${fmtDateTime(u.lastLoginAt, lang)}</td>
        <td class="nowrap">
          ${
            admin
              ? html`<form
                    method="post"
                    action="/ui/admin/users/${seg(u.username)}/reset"
                    class="inline"
                    data-confirm="${t('user.resetConfirm')}"
                  >
                    ${csrfField(req)}<button type="submit" class="small">${t('user.reset')}</button>
                  </form>
                  ${
                    u.username === me.username
                      ? ''
                      : html`<form
                          method="post"
                          action="/ui/admin/users/${seg(u.username)}/${u.active ? 'disable' : 'enable'}"
                          class="inline"
                          ${u.active ? html` data-confirm="${t('user.disableConfirm')}"` : ''}
                        >
                          ${csrfField(req)}<button type="submit" class="small${u.active ? ' danger' : ''}">
                            ${t(u.active ? 'user.disable' : 'user.enable')}
                          </button>
                        </form>`
                  }`
              : ''
          }
        </td>
      </tr>`;
    const v = o.form ?? {};
    const body = html`<h1>${t('nav.users')}</h1>
      ${o.secret ? html`<div class="flash flash-warn" id="new-password" role="status">${t('user.passwordOnce', { username: o.secret.username })} <code class="secret">${o.secret.password}</code></div>` : ''}
      ${
        list.length
          ? html`<div class="table-wrap">
              <table class="list" id="users">
                <thead>
                  <tr>
                    <th>${t('login.username')}</th>
                    <th>${t('user.displayName')}</th>
                    <th>${t('user.role')}</th>
                    <th>${t('user.agencies')}</th>
                    <th>${t('ag.status')}</th>
                    <th>${t('user.lastLogin')}</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${list.map(row)}
                </tbody>
              </table>
            </div>`
          : empty(t('list.empty'))
      }
      ${
        admin
          ? html`<section class="card" id="create-user">
              <h2>${t('user.create')}</h2>
              <form method="post" action="/ui/admin/users" class="grid-form">
                ${csrfField(req)}
                <label
                  >${t('login.username')} *<input
                    name="username"
                    required
                    maxlength="64"
                    pattern="[a-z0-9][a-z0-9._\\-]{1,63}"
                    value="${v.username ?? ''}"
                    autocomplete="off"
                /></label>
                <label
                  >${t('user.displayName')}<input
                    name="displayName"
                    maxlength="100"
                    value="${v.displayName ?? ''}"
                /></label>
                <label
                  >${t('user.role')} *<select name="role">
                    ${ROLES.map((r) => option(r, t(`role.${r}`), (v.role || 'clerk') === r))}
                  </select></label
                >
                <label class="wide"
                  >${t('user.agencies')}<input
                    name="agencies"
                    maxlength="1000"
                    value="${v.agencies ?? ''}"
                    placeholder="H29.001, D29.001"
                /></label>
                <label class="wide"
                  >${t('user.initialPassword')}<input
                    type="password"
                    name="password"
                    maxlength="256"
                    autocomplete="new-password"
                    placeholder="${t('user.passwordGenerated')}"
                /></label>
                <div class="actions wide">
                  <button type="submit" class="primary">${t('user.createSubmit')}</button>
                </div>
              </form>
              <p class="small muted">${t('user.cliHint')}</p>
            </section>`
          : ''
      }`;
    return {
      status: o.status ?? 200,
      html: renderPage(req, { title: t('nav.users'), nav: 'users', flash: o.flash ?? null, body }),
    };
  };

  const send = async (req: Request, res: express.Response, o: Parameters<typeof page>[1] = {}) => {
    const p = await page(req, o);
    res.status(p.status).send(p.html);
  };

  r.get('/users', async (req, res) => {
    const { t } = web(req);
    await send(req, res, { flash: req.query.ok ? { kind: 'ok', text: t('form.saved') } : null });
  });

  r.post('/users', async (req, res) => {
    adminOnly(req);
    const form = {
      username: field(req, 'username', 64),
      displayName: field(req, 'displayName', 100),
      role: field(req, 'role', 10),
      agencies: field(req, 'agencies', 1000),
    };
    try {
      const created = await users.create(actorOf(req), {
        username: form.username,
        role: form.role,
        agencies: codeList(form.agencies),
        ...(form.displayName ? { displayName: form.displayName } : {}),
        password: field(req, 'password', 256),
      });
      // A generated password is shown once, in this response only (never in a URL or a log).
      await send(req, res, {
        status: 201,
        flash: { kind: 'ok', text: web(req).t('user.created', { username: created.user.username }) },
        ...(created.generated
          ? { secret: { username: created.user.username, password: created.password } }
          : {}),
      });
    } catch (err) {
      const flash = errorFlash(req, err);
      await send(req, res, { flash, form, status: isHubError(err) ? err.status : 500 });
    }
  });

  r.post('/users/:username/reset', async (req, res) => {
    adminOnly(req);
    const r2 = await users.resetPassword(actorOf(req), req.params.username);
    await send(req, res, { secret: { username: req.params.username, password: r2.password } });
  });

  for (const action of ['disable', 'enable'] as const)
    r.post(`/users/:username/${action}`, async (req, res) => {
      adminOnly(req);
      try {
        await users.setActive(actorOf(req), req.params.username, action === 'enable');
        res.redirect(303, '/ui/admin/users?ok=1');
      } catch (err) {
        await send(req, res, { flash: errorFlash(req, err), status: isHubError(err) ? err.status : 500 });
      }
    });

  return r;
}
