/**
 * Administration of the relay: certificates (register, expiry warnings, unregister), delivery
 * endpoints, dead letters (inspect, replay), and the audit log with chain verification.
 */
import express, { type Request, type Router } from 'express';
import type { CertificateService } from '../../certs/service.ts';
import type { DeadLetterService } from '../../delivery/dead-letters.ts';
import type { DirectoryService } from '../../directory/service.ts';
import { HubError, isHubError } from '../../domain/errors.ts';
import type { AuditLog } from '../../domain/ports.ts';
import type { MongoWebQueryStore } from '../../store/web-store.ts';
import { actorOf, canWrite, userOf, web } from '../context.ts';
import { fmtDate, fmtDateTime } from '../format.ts';
import { field, textField } from '../forms.ts';
import { html, href, seg } from '../html.ts';
import { csrfField, renderPage, type Flash } from '../layout.ts';
import { agency, dl, empty, option } from '../widgets.ts';
import { updateDelivery } from './admin-agencies.ts';
import { DELIVERY_MODES } from '../../directory/validation.ts';

function errorFlash(req: Request, err: unknown): Flash {
  if (!isHubError(err)) throw err;
  return { kind: 'error', text: web(req).lang === 'vi' ? err.messageVi : err.message };
}

function adminOnly(req: Request): void {
  if (!canWrite(userOf(req))) throw new HubError('FORBIDDEN', 'auditors have read-only access');
}

export interface OpsDeps {
  readonly certificates: CertificateService;
  readonly deadLetters: DeadLetterService;
  readonly directory: DirectoryService;
  readonly store: MongoWebQueryStore;
  readonly audit: Pick<AuditLog, 'verify'>;
  readonly certExpiryWarnDays: number;
}

export function adminOpsRouter(deps: OpsDeps): Router {
  const r = express.Router();

  // ---- certificates ----
  const certsPage = async (
    req: Request,
    flash?: Flash | null,
    form?: { agency: string; pem: string; forceReason?: string },
  ) => {
    const { t, lang } = web(req);
    const filter = typeof req.query.agency === 'string' ? req.query.agency.slice(0, 40) : '';
    const rows = await deps.certificates.list(filter || undefined);
    const now = Date.now();
    const warnAt = now + deps.certExpiryWarnDays * 86_400_000;
    const expiring = rows.filter((c) => !c.revokedAt && c.notAfter && c.notAfter.getTime() <= warnAt);
    const names = new Map<string, string>();
    const admin = canWrite(userOf(req));
    const body = html`<h1>${t('nav.certificates')}</h1>
      ${
        expiring.length
          ? html`<div class="flash flash-warn" id="expiring">
              <strong>${t('cert.expiringTitle', { days: deps.certExpiryWarnDays })}</strong>
              <ul>
                ${expiring.map(
                  (c) =>
                    html`<li>
                      <code>${c.agency}</code> ${c.subject ?? ''} —
                      ${c.notAfter!.getTime() < now ? t('cert.expired') : t('cert.expires')}
                      ${fmtDate(c.notAfter, lang)}
                    </li>`,
                )}
              </ul>
            </div>`
          : ''
      }
      <form method="get" action="/ui/admin/certificates" class="filters">
        <label>${t('list.agency')}<input name="agency" value="${filter}" maxlength="40" size="12" /></label>
        <div class="actions">
          <button type="submit">${t('list.search')}</button>
          <a href="/ui/admin/certificates">${t('list.reset')}</a>
        </div>
      </form>
      ${
        rows.length
          ? html`<div class="table-wrap">
              <table class="list" id="certificates">
                <thead>
                  <tr>
                    <th>${t('list.agency')}</th>
                    <th>${t('cert.subject')}</th>
                    <th>${t('cert.fingerprint')}</th>
                    <th>${t('cert.notAfter')}</th>
                    <th>${t('cert.registeredAt')}</th>
                    <th>${t('ag.status')}</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map((c) => {
                    const expired = c.notAfter && c.notAfter.getTime() < now;
                    const soon = c.notAfter && c.notAfter.getTime() <= warnAt;
                    return html`<tr
                      class="${c.revokedAt ? 'closed' : expired ? 'overdue' : soon ? 'warn-row' : ''}"
                    >
                      <td>${agency(c.agency, names, true)}</td>
                      <td class="small">${c.subject ?? ''}</td>
                      <td>
                        <code class="hash small" title="${c.fingerprintSha256}"
                          >${c.fingerprintSha256.slice(0, 16)}…</code
                        >
                      </td>
                      <td class="nowrap">
                        ${fmtDate(c.notAfter, lang)}${!c.revokedAt && soon ? html` <span class="badge badge-${expired ? 'bad' : 'warn'}">${expired ? t('cert.expired') : t('cert.expiresSoon')}</span>` : ''}
                      </td>
                      <td class="nowrap">${fmtDate(c.registeredAt, lang)}</td>
                      <td>
                        ${c.revokedAt ? html`<span class="badge badge-bad">${t('cert.unregistered')}</span> ${fmtDate(c.revokedAt, lang)}` : t('cert.active')}
                      </td>
                      <td>
                        ${
                          admin && !c.revokedAt
                            ? html`<form
                                method="post"
                                action="/ui/admin/certificates/revoke"
                                class="inline"
                                data-confirm="${t('cert.revokeConfirm')}"
                              >
                                ${csrfField(req)}<input
                                  type="hidden"
                                  name="agency"
                                  value="${c.agency}"
                                /><input
                                  type="hidden"
                                  name="fingerprint"
                                  value="${c.fingerprintSha256}"
                                /><button type="submit" class="danger small">${t('cert.revoke')}</button>
                              </form>`
                            : ''
                        }
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`
          : empty(t('cert.none'))
      }
      ${
        admin
          ? html`<section class="card" id="register-cert">
              <h2>${t('cert.register')}</h2>
              <p class="small muted">${t('cert.registerHint')}</p>
              <form method="post" action="/ui/admin/certificates" class="stack">
                ${csrfField(req)}
                <label
                  >${t('list.agency')}<input
                    name="agency"
                    required
                    maxlength="40"
                    value="${form?.agency ?? filter}"
                /></label>
                <label>${t('cert.file')}<input type="file" accept=".pem,.crt,.cer" data-fill="pem" /></label>
                <label
                  >${t('cert.pem')}<textarea name="pem" rows="8" spellcheck="false" required>
${form?.pem ?? ''}</textarea>
                </label>
                <label class="check"
                  ><input type="checkbox" name="forceSubject" value="1" /> ${t('cert.forceSubject')}</label
                >
                <label
                  >${t('cert.forceReason')}<input
                    name="forceReason"
                    maxlength="500"
                    value="${form?.forceReason ?? ''}"
                /></label>
                <button type="submit" class="primary">${t('cert.registerSubmit')}</button>
              </form>
            </section>`
          : ''
      }`;
    return renderPage(req, { title: t('nav.certificates'), nav: 'certificates', flash: flash ?? null, body });
  };

  r.get('/certificates', async (req, res) => {
    const { t } = web(req);
    res.send(await certsPage(req, req.query.ok ? { kind: 'ok', text: t('form.saved') } : null));
  });

  r.post('/certificates', async (req, res) => {
    adminOnly(req);
    const form = {
      agency: field(req, 'agency', 40),
      pem: textField(req, 'pem', 64 * 1024),
      forceReason: field(req, 'forceReason', 500),
    };
    try {
      const c = await deps.certificates.register(
        actorOf(req),
        form.agency,
        form.pem,
        field(req, 'forceSubject') === '1' ? { overrideSubject: { reason: form.forceReason } } : {},
      );
      res.redirect(303, href('/ui/admin/certificates', { agency: c.agency, ok: 1 }));
    } catch (err) {
      const flash = errorFlash(req, err);
      res.status(isHubError(err) ? err.status : 500).send(await certsPage(req, flash, form));
    }
  });

  r.post('/certificates/revoke', async (req, res) => {
    adminOnly(req);
    try {
      await deps.certificates.unregister(
        actorOf(req),
        field(req, 'agency', 40),
        field(req, 'fingerprint', 64).toLowerCase(),
      );
      res.redirect(303, '/ui/admin/certificates?ok=1');
    } catch (err) {
      const flash = errorFlash(req, err);
      res.status(isHubError(err) ? err.status : 500).send(await certsPage(req, flash));
    }
  });

  // ---- delivery endpoints ----
  const endpointsPage = async (req: Request, flash?: Flash | null) => {
    const { t } = web(req);
    const rows = await deps.store.endpoints();
    const backlog = await deps.store.backlog(rows.map((e) => e.code));
    const admin = canWrite(userOf(req));
    const body = html`<h1>${t('nav.endpoints')}</h1>
      <p class="muted">${t('ep.intro')}</p>
      ${
        rows.length
          ? html`<div class="table-wrap">
              <table class="list" id="endpoints">
                <thead>
                  <tr>
                    <th>${t('list.agency')}</th>
                    <th>${t('ag.deliveryMode')}</th>
                    <th>${t('ag.deliveryUrl')}</th>
                    <th class="num">${t('ep.waiting')}</th>
                    <th class="num">${t('ep.dead')}</th>
                    <th>${t('doc.lastError')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map((e) => {
                    const b = backlog.get(e.code);
                    return html`<tr class="${e.status === 'closed' ? 'closed' : b?.dead ? 'overdue' : ''}">
                      <td>
                        <a href="/ui/admin/agencies/${seg(e.code)}"><code>${e.code}</code></a> ${e.name}
                      </td>
                      <td>
                        ${t(`mode.${e.mode as 'push'}`)}${e.cipherProtected ? html` <span class="badge badge-info">${t('ag.cipher')}</span>` : ''}
                      </td>
                      <td><code class="small">${e.url ?? '—'}</code></td>
                      <td class="num">${b?.waiting ?? 0}</td>
                      <td class="num">${b?.dead ?? 0}</td>
                      <td class="small error-text">${b?.lastError ?? ''}</td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`
          : empty(t('ep.none'))
      }
      ${
        admin
          ? html`<section class="card">
              <h2>${t('ep.set')}</h2>
              <form method="post" action="/ui/admin/endpoints" class="grid-form">
                ${csrfField(req)}
                <label>${t('list.agency')}<input name="code" required maxlength="40" /></label>
                <label
                  >${t('ag.deliveryMode')}<select name="mode">
                    ${DELIVERY_MODES.map((m) => option(m, t(`mode.${m}`), m === 'push'))}
                  </select></label
                >
                <label class="wide"
                  >${t('ag.deliveryUrl')}<input type="url" name="url" maxlength="500" placeholder="https://…"
                /></label>
                <label class="check"
                  ><input type="checkbox" name="cipherProtected" value="1" /> ${t('ag.cipher')}</label
                >
                <div class="actions wide">
                  <button type="submit" class="primary">${t('form.save')}</button>
                </div>
              </form>
            </section>`
          : ''
      }`;
    return renderPage(req, { title: t('nav.endpoints'), nav: 'endpoints', flash: flash ?? null, body });
  };

  r.get('/endpoints', async (req, res) => {
    const { t } = web(req);
    res.send(await endpointsPage(req, req.query.ok ? { kind: 'ok', text: t('form.saved') } : null));
  });

  r.post('/endpoints', async (req, res) => {
    adminOnly(req);
    try {
      await updateDelivery(req, deps.directory, field(req, 'code', 40));
      res.redirect(303, '/ui/admin/endpoints?ok=1');
    } catch (err) {
      const flash = errorFlash(req, err);
      res.status(isHubError(err) ? err.status : 500).send(await endpointsPage(req, flash));
    }
  });

  // ---- dead letters ----
  r.get('/deadletters', async (req, res) => {
    const { t, lang } = web(req);
    const all = req.query.all === '1';
    const rows = await deps.deadLetters.list({ includeReplayed: all, limit: 200 });
    const body = html`<h1>${t('nav.deadletters')}</h1>
      <p class="muted">${t('dl.intro')}</p>
      <p>
        ${all ? html`<a href="/ui/admin/deadletters">${t('dl.onlyWaiting')}</a>` : html`<a href="/ui/admin/deadletters?all=1">${t('dl.showAll')}</a>`}
      </p>
      ${
        rows.length
          ? html`<div class="table-wrap">
              <table class="list" id="deadletters">
                <thead>
                  <tr>
                    <th>${t('dl.deadAt')}</th>
                    <th>${t('doc.recipient')}</th>
                    <th>${t('dl.reason')}</th>
                    <th>${t('dl.replayed')}</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (d) =>
                      html`<tr class="${d.replayedAt ? 'closed' : ''}">
                        <td class="nowrap">${fmtDateTime(d.deadAt, lang)}</td>
                        <td><code>${d.recipientCode ?? '—'}</code></td>
                        <td class="small">${d.reason}</td>
                        <td>
                          ${d.replayedAt ? html`${fmtDateTime(d.replayedAt, lang)} (×${d.replayCount})` : '—'}
                        </td>
                        <td><a href="/ui/admin/deadletters/${seg(d.id)}">${t('dl.inspect')}</a></td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : empty(t('dl.none'))
      }`;
    res.send(renderPage(req, { title: t('nav.deadletters'), nav: 'deadletters', body }));
  });

  const deadLetterPage = async (req: Request, id: string, flash?: Flash | null) => {
    const { t, lang } = web(req);
    const d = await deps.deadLetters.show(id);
    const body = html`<p class="crumbs"><a href="/ui/admin/deadletters">${t('nav.deadletters')}</a></p>
      <h1>${t('dl.title')} <code class="small">${d.id}</code></h1>
      <section class="card">
        ${dl([
          [t('dl.deadAt'), fmtDateTime(d.deadAt, lang)],
          [t('dl.reason'), d.reason],
          [t('doc.recipient'), d.recipientCode ? html`<code>${d.recipientCode}</code>` : '—'],
          [t('dl.delivery'), d.deliveryId ? html`<code>${d.deliveryId}</code>` : '—'],
          [
            t('dl.document'),
            d.docId ? html`<a href="/ui/documents/${seg(d.docId)}"><code>${d.docId}</code></a>` : '—',
          ],
          [t('dl.replayed'), d.replayedAt ? `${fmtDateTime(d.replayedAt, lang)} (×${d.replayCount})` : '—'],
        ])}
        <h2>${t('dl.content')}</h2>
        <pre class="content">${d.content ?? ''}</pre>
        ${
          canWrite(userOf(req)) && !d.replayedAt
            ? html`<form
                method="post"
                action="/ui/admin/deadletters/${seg(d.id)}/replay"
                data-confirm="${t('dl.replayConfirm')}"
              >
                ${csrfField(req)}<button type="submit" class="primary">${t('dl.replay')}</button>
                <span class="small muted">${t('dl.replayHint')}</span>
              </form>`
            : ''
        }
      </section>`;
    return renderPage(req, { title: t('dl.title'), nav: 'deadletters', flash: flash ?? null, body });
  };

  r.get('/deadletters/:id', async (req, res) => {
    const { t } = web(req);
    res.send(
      await deadLetterPage(
        req,
        req.params.id,
        req.query.ok ? { kind: 'ok', text: t('dl.replayedOk') } : null,
      ),
    );
  });

  r.post('/deadletters/:id/replay', async (req, res) => {
    adminOnly(req);
    try {
      await deps.deadLetters.replay(actorOf(req), req.params.id);
      res.redirect(303, `/ui/admin/deadletters/${seg(req.params.id)}?ok=1`);
    } catch (err) {
      const flash = errorFlash(req, err);
      res.status(isHubError(err) ? err.status : 500).send(await deadLetterPage(req, req.params.id, flash));
    }
  });

  // ---- audit log ----
  r.get('/audit', async (req, res) => {
    const { t, lang } = web(req);
    const s = (k: string) => (typeof req.query[k] === 'string' ? req.query[k].slice(0, 200) : '');
    const f = { action: s('action'), actor: s('actor'), subject: s('subject') };
    const before = /^\d+$/.test(s('before')) ? Number(s('before')) : undefined;
    const rows = await deps.store.auditPage({
      ...f,
      ...(before !== undefined ? { beforeSeq: before } : {}),
      limit: 50,
    });
    const verify = req.query.verify === '1' ? await deps.audit.verify() : null;
    const body = html`<h1>${t('nav.audit')}</h1>
      ${
        verify
          ? verify.ok
            ? html`<div class="flash flash-ok" id="verify-result" data-ok="true">
                ${t('audit.intact', { n: verify.count })}
              </div>`
            : html`<div class="flash flash-error" id="verify-result" data-ok="false">
                ${t('audit.broken', { seq: verify.brokenAt ?? '?', n: verify.count })}: ${verify.reason ?? ''}
              </div>`
          : ''
      }
      <form method="get" action="/ui/admin/audit" class="filters">
        <label
          >${t('audit.action')}<input name="action" value="${f.action}" placeholder="agency." maxlength="100"
        /></label>
        <label
          >${t('audit.actor')}<input name="actor" value="${f.actor}" placeholder="ui:admin" maxlength="100"
        /></label>
        <label>${t('audit.subject')}<input name="subject" value="${f.subject}" maxlength="100" /></label>
        <div class="actions">
          <button type="submit" class="primary">${t('list.search')}</button>
          <a href="/ui/admin/audit">${t('list.reset')}</a>
          <a class="button" href="${href('/ui/admin/audit', { ...f, verify: 1 })}" id="verify"
            >${t('audit.verify')}</a
          >
        </div>
      </form>
      ${
        rows.length
          ? html`<div class="table-wrap">
                <table class="list compact" id="audit">
                  <thead>
                    <tr>
                      <th>#</th>
                      <th>${t('audit.at')}</th>
                      <th>${t('audit.actor')}</th>
                      <th>${t('audit.action')}</th>
                      <th>${t('audit.subject')}</th>
                      <th>${t('audit.data')}</th>
                      <th>${t('audit.hash')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${rows.map(
                      (e) =>
                        html`<tr>
                          <td class="num">${e.seq}</td>
                          <td class="nowrap">${fmtDateTime(e.at, lang)}</td>
                          <td><code class="small">${e.actor}</code></td>
                          <td><code>${e.action}</code></td>
                          <td><code class="small">${e.subject}</code></td>
                          <td>
                            ${
                              e.data
                                ? html`<details>
                                    <summary>${t('audit.show')}</summary>
                                    <pre class="content small">
${JSON.stringify(e.data, null, 1).slice(0, 4000)}</pre>
                                  </details>`
                                : ''
                            }
                          </td>
                          <td><code class="hash small" title="${e.hash}">${e.hash.slice(0, 12)}…</code></td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>
              ${rows.length === 50 ? html`<nav class="pager"><a rel="next" href="${href('/ui/admin/audit', { ...f, before: rows.at(-1)!.seq })}">${t('audit.older')} ›</a></nav>` : ''}`
          : empty(t('list.empty'))
      }`;
    res.send(renderPage(req, { title: t('nav.audit'), nav: 'audit', body }));
  });

  return r;
}
