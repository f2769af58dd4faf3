/**
 * Administration of the relay: certificates (register, expiry warnings, unregister), delivery
 * endpoints, dead letters (inspect, replay), and the audit log with chain verification.
 */
import express, { type Request, type Router } from 'express';
import type { CertificateService } from '../../certs/service.ts';
import {
  reasonKind,
  type DeadLetterService,
  type DeadLetterView,
  type EndpointFailure,
} from '../../delivery/dead-letters.ts';
import type { DirectoryService } from '../../directory/service.ts';
import { stringify } from 'csv-stringify/sync';
import { ERROR_CODES, HubError, isHubError, type ErrorCode } from '../../domain/errors.ts';
import type { AuditEntry } from '../../domain/types.ts';
import type { AuditLog } from '../../domain/ports.ts';
import type { MongoWebQueryStore } from '../../store/web-store.ts';
import { actorOf, canWrite, userOf, web } from '../context.ts';
import { fmtDate, fmtDateTime } from '../format.ts';
import { errorFlash, field, fieldError, formValues, invalidAttrs, refused, textField } from '../forms.ts';
import type { FormErrors } from '../refusals.ts';
import { html, href, seg } from '../html.ts';
import { csrfField, renderPage, type Flash } from '../layout.ts';
import { agency, dl, empty, numberOf } from '../widgets.ts';
import { deliveryInputs, updateDelivery } from './admin-agencies.ts';
import { rangeInputs, readRange } from '../day-range.ts';
import { actionLabel, hubText, subjectHref } from '../readable.ts';
import { spreadsheetSafe } from '../list-csv.ts';

/** The most audit entries one CSV export holds. */
const AUDIT_EXPORT_MAX = 10_000;

/** `YYYY-MM-DD HH:mm` in Vietnam time (a CSV column people read). */
function vnDateTimeText(d: Date): string {
  return new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}

function adminOnly(req: Request): void {
  if (!canWrite(userOf(req))) throw new HubError('FORBIDDEN', 'auditors have read-only access');
}

export interface OpsDeps {
  readonly certificates: CertificateService;
  readonly deadLetters: DeadLetterService;
  readonly directory: DirectoryService;
  readonly store: MongoWebQueryStore;
  readonly audit: Pick<AuditLog, 'verify' | 'append'>;
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
  const ENDPOINT_FIELDS = ['code', 'mode', 'url', 'cipherProtected'] as const;
  /** The endpoints page; after a refusal, the form keeps what was typed with each problem next to its field. */
  const endpointsPage = async (
    req: Request,
    flash?: Flash | null,
    refusal?: { values: Record<string, string>; errors: FormErrors },
  ) => {
    const { t } = web(req);
    const v = refusal?.values ?? {};
    const errors = refusal?.errors ?? null;
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
                <label
                  >${t('list.agency')}<input
                    name="code"
                    required
                    maxlength="40"
                    value="${v.code ?? ''}"
                    ${invalidAttrs(errors, 'code')}
                  />${fieldError(errors, 'code')}</label
                >
                ${deliveryInputs(
                  t,
                  errors,
                  { mode: v.mode || 'push', url: v.url ?? '', cipherProtected: v.cipherProtected === '1' },
                  { wide: true },
                )}
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
      const { flash, errors } = refused(req, err, ENDPOINT_FIELDS);
      const values = formValues(req, ENDPOINT_FIELDS);
      res
        .status(isHubError(err) ? err.status : 500)
        .send(await endpointsPage(req, flash, { values, errors }));
    }
  });

  // ---- dead letters ----
  /** The dead letters' documents, agency names and the endpoints still failing. */
  const deadLetterContext = async (rows: readonly DeadLetterView[]) => {
    const docs = await deps.store.documentsByIds(rows.map((d) => d.docId).filter((x): x is string => !!x));
    const docById = new Map(docs.map((d) => [d.id, d]));
    const recipients = rows.map((d) => d.recipientCode).filter((x): x is string => !!x);
    const [names, failing] = await Promise.all([
      deps.store.agencyNames([...recipients, ...docs.map((d) => d.senderCode)]),
      deps.deadLetters.failingEndpoints(recipients),
    ]);
    return { docById, names, failing };
  };

  const plainReason = (req: Request, reason: string) => {
    const { t } = web(req);
    const kind = reasonKind(reason);
    return html`<span class="plain-reason" data-kind="${kind}">${t(`dl.why.${kind}`)}</span>
      <details class="small">
        <summary>${t('dl.technical')}</summary>
        <code class="small">${reason}</code>
      </details>`;
  };

  const failingWarning = (
    req: Request,
    failing: ReadonlyMap<string, EndpointFailure>,
    names: ReadonlyMap<string, string>,
  ) => {
    const { t, lang } = web(req);
    if (failing.size === 0) return html``;
    return html`<div class="flash flash-warn" id="failing-warning" role="alert">
      <strong>${t('dl.failingWarn')}</strong>
      <ul class="plain">
        ${[...failing].map(
          ([code, f]) =>
            html`<li data-recipient="${code}">
              ${agency(code, names, true)} — ${hubText(f.lastError, t)}
              <span class="small">(${t('dl.failingAt')} ${fmtDateTime(f.at, lang)})</span>
            </li>`,
        )}
      </ul>
    </div>`;
  };

  /** The explicit confirmation a replay into a failing endpoint needs; the refusal is shown next to it. */
  const confirmBox = (req: Request, failing: ReadonlyMap<string, unknown>, err?: unknown) => {
    const { t, lang } = web(req);
    const refused = isHubError(err) && err.code === 'REPLAY_ENDPOINT_FAILING';
    return failing.size || refused
      ? html`<label class="check confirm-failing${refused ? ' invalid' : ''}"
          ><input
            type="checkbox"
            name="confirmFailing"
            value="1"
            ${refused ? html` aria-invalid="true" aria-describedby="confirm-error"` : ''}
          />
          ${t('dl.confirmFailing')}${refused ? html` <span class="field-error" id="confirm-error" role="alert">${ERROR_CODES.REPLAY_ENDPOINT_FAILING[lang]}</span>` : ''}</label
        >`
      : '';
  };

  const deadLettersPage = async (
    req: Request,
    flash?: Flash | null,
    selected: readonly string[] = [],
    err?: unknown,
  ) => {
    const { t, lang } = web(req);
    const all = req.query.all === '1';
    const rows = await deps.deadLetters.list({ includeReplayed: all, limit: 100 });
    const { docById, names, failing } = await deadLetterContext(rows);
    const admin = canWrite(userOf(req));
    const replayable = rows.filter((d) => !d.replayedAt && d.deliveryId);
    const shownFailing = new Map(
      [...failing].filter(([code]) => replayable.some((d) => d.recipientCode === code)),
    );
    const table = html`<div class="table-wrap">
      <table class="list" id="deadletters">
        <thead>
          <tr>
            ${
              admin
                ? html`<th>
                    <label class="check"
                      ><input type="checkbox" data-select-all="ids" id="select-all" />
                      <span class="sr-only">${t('dl.selectAll')}</span></label
                    >
                  </th>`
                : ''
            }
            <th>${t('dl.deadAt')}</th>
            <th>${t('dl.document')}</th>
            <th>${t('doc.recipient')}</th>
            <th>${t('dl.reason')}</th>
            <th>${t('dl.replayed')}</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${rows.map((d) => {
            const doc = d.docId ? docById.get(d.docId) : undefined;
            const canReplay = admin && !d.replayedAt && !!d.deliveryId;
            return html`<tr class="${d.replayedAt ? 'closed' : ''}" data-id="${d.id}">
              ${
                admin
                  ? html`<td>
                      ${canReplay ? html`<input type="checkbox" name="ids" value="${d.id}" aria-label="${t('dl.select')}" ${selected.includes(d.id) ? html` checked` : ''} />` : ''}
                    </td>`
                  : ''
              }
              <td class="nowrap">
                <a href="/ui/admin/deadletters/${seg(d.id)}">${fmtDateTime(d.deadAt, lang)}</a>
              </td>
              <td class="dl-doc">
                ${
                  doc
                    ? html`<a href="/ui/documents/${seg(doc.id)}"><strong>${numberOf(doc)}</strong></a>
                        <div>${doc.meta.subject ?? doc.documentId}</div>
                        <div class="small">${t('dl.sender')}: ${agency(doc.senderCode, names)}</div>`
                    : html`<span class="muted">—</span>`
                }
              </td>
              <td>
                ${d.recipientCode ? agency(d.recipientCode, names) : '—'}
                ${d.recipientCode && failing.has(d.recipientCode) && !d.replayedAt ? html`<span class="badge badge-bad failing">${t('dl.failing')}</span>` : ''}
              </td>
              <td class="small">${plainReason(req, d.reason)}</td>
              <td>${d.replayedAt ? html`${fmtDateTime(d.replayedAt, lang)} (×${d.replayCount})` : '—'}</td>
              <td><a href="/ui/admin/deadletters/${seg(d.id)}">${t('dl.inspect')}</a></td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>`;
    const body = html`<h1>${t('nav.deadletters')}</h1>
      <p class="muted">${t('dl.intro')}</p>
      <p>
        ${all ? html`<a href="/ui/admin/deadletters">${t('dl.onlyWaiting')}</a>` : html`<a href="/ui/admin/deadletters?all=1">${t('dl.showAll')}</a>`}
      </p>
      ${failingWarning(req, shownFailing, names)}
      ${
        rows.length === 0
          ? empty(t('dl.none'))
          : admin && replayable.length
            ? html`<form method="post" action="/ui/admin/deadletters/replay" id="bulk-replay">
                ${csrfField(req)} ${table} ${confirmBox(req, shownFailing, err)}
                <div class="actions">
                  <button type="submit" class="primary">${t('dl.replaySelected')}</button>
                  <span class="small muted">${t('dl.replayHint')}</span>
                </div>
              </form>`
            : table
      }`;
    return renderPage(req, { title: t('nav.deadletters'), nav: 'deadletters', flash: flash ?? null, body });
  };

  r.get('/deadletters', async (req, res) => {
    const { t } = web(req);
    const n =
      typeof req.query.replayed === 'string' && /^\d+$/.test(req.query.replayed) ? req.query.replayed : '';
    res.send(await deadLettersPage(req, n ? { kind: 'ok', text: t('dl.replayedMany', { n }) } : null));
  });

  /** Bulk replay: all selected are checked first; a still-failing endpoint needs the confirmation. */
  r.post('/deadletters/replay', async (req, res) => {
    adminOnly(req);
    const raw = (req.body as Record<string, unknown>).ids;
    const ids = (Array.isArray(raw) ? raw : [raw])
      .filter((x): x is string => typeof x === 'string')
      .slice(0, 100);
    try {
      const done = await deps.deadLetters.replayMany(actorOf(req), ids, {
        confirmFailing: field(req, 'confirmFailing') === '1',
      });
      res.redirect(303, `/ui/admin/deadletters?replayed=${done.length}`);
    } catch (err) {
      const flash = errorFlash(req, err);
      res.status(isHubError(err) ? err.status : 500).send(await deadLettersPage(req, flash, ids, err));
    }
  });

  const deadLetterPage = async (req: Request, id: string, flash?: Flash | null, err?: unknown) => {
    const { t, lang } = web(req);
    const d = await deps.deadLetters.show(id);
    const { docById, names, failing } = await deadLetterContext([d]);
    const doc = d.docId ? docById.get(d.docId) : undefined;
    const body = html`<p class="crumbs"><a href="/ui/admin/deadletters">${t('nav.deadletters')}</a></p>
      <h1>${t('dl.title')} <code class="small">${d.id}</code></h1>
      ${d.replayedAt ? '' : failingWarning(req, failing, names)}
      <section class="card">
        ${dl([
          [t('dl.deadAt'), fmtDateTime(d.deadAt, lang)],
          [t('dl.reason'), plainReason(req, d.reason)],
          [t('doc.recipient'), d.recipientCode ? agency(d.recipientCode, names, true) : '—'],
          [t('dl.delivery'), d.deliveryId ? html`<code>${d.deliveryId}</code>` : '—'],
          [
            t('dl.document'),
            doc
              ? html`<a href="/ui/documents/${seg(doc.id)}"
                  >${numberOf(doc)} — ${doc.meta.subject ?? doc.documentId}</a
                >`
              : d.docId
                ? html`<a href="/ui/documents/${seg(d.docId)}"><code>${d.docId}</code></a>`
                : '—',
          ],
          !!doc && [t('dl.sender'), agency(doc.senderCode, names, true)],
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
                ${csrfField(req)} ${confirmBox(req, failing, err)}
                <button type="submit" class="primary">${t('dl.replay')}</button>
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
      await deps.deadLetters.replayMany(actorOf(req), [req.params.id], {
        confirmFailing: field(req, 'confirmFailing') === '1',
      });
      res.redirect(303, `/ui/admin/deadletters/${seg(req.params.id)}?ok=1`);
    } catch (err) {
      const flash = errorFlash(req, err);
      res
        .status(isHubError(err) ? err.status : 500)
        .send(await deadLetterPage(req, req.params.id, flash, err));
    }
  });

  // ---- audit log ----
  /** The audit filters of the query string; a bad date range is kept to be shown next to its field. */
  const auditFilters = (req: Request) => {
    const s = (k: string) => (typeof req.query[k] === 'string' ? req.query[k].slice(0, 200) : '');
    const f = { action: s('action'), actor: s('actor'), subject: s('subject') };
    const { range, error: rangeErr, typed, shown } = readRange(req);
    const query = {
      ...f,
      ...(range ? { from: range.start, until: range.end } : {}),
    };
    return { f, shown, rangeErr, query, params: { ...f, from: typed.from, to: typed.to } };
  };

  /** A readable line for entries whose data people need (failed logins, refused submissions). */
  const auditSummary = (req: Request, e: AuditEntry): string => {
    const { t, lang } = web(req);
    const data = e.data ?? {};
    if (e.action === 'user.login-failed') {
      const why = typeof data.reason === 'string' ? data.reason : '';
      const parts = [
        ['unknown-user', 'wrong-password', 'disabled'].includes(why)
          ? t(`audit.login.${why as 'disabled'}`)
          : why,
        typeof data.ip === 'string' ? t('audit.fromIp', { ip: data.ip }) : '',
      ];
      return parts.filter(Boolean).join(' · ');
    }
    if (e.action === 'submission.refused' && typeof data.code === 'string' && data.code in ERROR_CODES) {
      const title = ERROR_CODES[data.code as ErrorCode][lang];
      const reason = typeof data.reason === 'string' ? data.reason : '';
      const readable = hubText(reason, t);
      return readable !== reason ? `${title}: ${readable}` : title;
    }
    return '';
  };

  r.get('/audit', async (req, res) => {
    const { t, lang } = web(req);
    const { f, shown, rangeErr, query, params } = auditFilters(req);
    const before = /^\d+$/.test(typeof req.query.before === 'string' ? req.query.before : '')
      ? Number(req.query.before)
      : undefined;
    const rows = rangeErr
      ? []
      : await deps.store.auditPage({
          ...query,
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
      <form method="get" action="/ui/admin/audit" class="filters" id="audit-filters">
        <label
          >${t('audit.action')}<input name="action" value="${f.action}" placeholder="agency." maxlength="100"
        /></label>
        <label
          >${t('audit.actor')}<input name="actor" value="${f.actor}" placeholder="ui:admin" maxlength="100"
        /></label>
        <label>${t('audit.subject')}<input name="subject" value="${f.subject}" maxlength="100" /></label>
        ${rangeInputs(t, shown, rangeErr)}
        <div class="actions">
          <button type="submit" class="primary">${t('list.search')}</button>
          <a href="/ui/admin/audit">${t('list.reset')}</a>
          <a href="${href('/ui/admin/audit', { action: 'user.login-failed' })}" id="failed-logins"
            >${t('audit.failedLogins')}</a
          >
          <a class="button" href="${href('/ui/admin/audit.csv', params)}" id="audit-export" download
            >${t('audit.export')}</a
          >
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
                    ${rows.map((e) => {
                      const link = subjectHref(e.action, e.subject);
                      const summary = auditSummary(req, e);
                      return html`<tr data-action="${e.action}">
                        <td class="num">${e.seq}</td>
                        <td class="nowrap">${fmtDateTime(e.at, lang)}</td>
                        <td><code class="small">${e.actor}</code></td>
                        <td>
                          <span class="action-name">${actionLabel(e.action, t)}</span><br /><code
                            class="small muted"
                            >${e.action}</code
                          >
                        </td>
                        <td>
                          ${link ? html`<a href="${link}"><code class="small">${e.subject}</code></a>` : html`<code class="small">${e.subject}</code>`}
                        </td>
                        <td>
                          ${summary ? html`<span class="audit-summary">${summary}</span>` : ''}
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
                      </tr>`;
                    })}
                  </tbody>
                </table>
              </div>
              ${rows.length === 50 ? html`<nav class="pager"><a rel="next" href="${href('/ui/admin/audit', { ...params, before: rows.at(-1)!.seq })}">${t('audit.older')} ›</a></nav>` : ''}`
          : empty(t('list.empty'))
      }`;
    if (rangeErr) res.status(rangeErr.status);
    res.send(renderPage(req, { title: t('nav.audit'), nav: 'audit', body }));
  });

  /** The filtered entries as CSV (newest first, at most AUDIT_EXPORT_MAX); the export is audited. */
  r.get('/audit.csv', async (req, res) => {
    const { t } = web(req);
    const { rangeErr, query, params } = auditFilters(req);
    if (rangeErr) throw rangeErr;
    const rows = await deps.store.auditPage({ ...query, limit: AUDIT_EXPORT_MAX });
    await deps.audit.append({
      actor: actorOf(req),
      action: 'ui.audit.exported',
      subject: 'audit',
      data: { filters: params, rows: rows.length },
    });
    const csv = stringify(
      rows.map((e) =>
        [
          String(e.seq),
          e.at.toISOString(),
          vnDateTimeText(e.at),
          e.actor,
          e.action,
          actionLabel(e.action, t),
          e.subject,
          auditSummary(req, e),
          e.data ? JSON.stringify(e.data) : '',
          e.hash,
        ].map(spreadsheetSafe),
      ),
      {
        header: true,
        columns: [
          'seq',
          'at_utc',
          'at_vietnam',
          'actor',
          'action',
          'action_name',
          'subject',
          'summary',
          'data',
          'hash',
        ],
      },
    );
    res.setHeader('Content-Disposition', 'attachment; filename="audit.csv"');
    res.type('text/csv; charset=utf-8').send('\uFEFF' + csv);
  });

  return r;
}
