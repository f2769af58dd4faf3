/** Sent and Received lists, the document page, and downloads of the signed message, receipt and evidence. */
import express, { type Request, type Response, type Router } from 'express';
import { isOverdue } from '../../domain/deadlines.ts';
import { BUSINESS_DOC_TYPES } from '../../domain/edxml/model.ts';
import { HubError, isHubError } from '../../domain/errors.ts';
import type { AuditLog, DocumentStore } from '../../domain/ports.ts';
import type { DeliveryRecord } from '../../domain/types.ts';
import { userOf, web, actorOf } from '../context.ts';
import { fmtBytes, fmtDateTime, fmtEdxmlDate, vnDay } from '../format.ts';
import { href, html, seg, type SafeHtml } from '../html.ts';
import { isNew, listCsv } from '../list-csv.ts';
import { renderPage } from '../layout.ts';
import { dayBounds, DayRangeError, rangeInputs } from '../day-range.ts';
import { SORT_KEYS, type ListSort, type SortKey } from '../../store/web-store.ts';
import { attachmentKind, hubText } from '../readable.ts';
import {
  PAGE_SIZE,
  STATUS_FILTERS,
  type DocumentPage,
  type ListFilters,
  type StatusFilter,
  type WebQueries,
} from '../queries.ts';
import {
  agency,
  codeLabel,
  dl,
  empty,
  numberOf,
  option,
  pager,
  priorityBadge,
  priorityLabel,
  statusBadge,
  statusLabel,
  transportBadge,
} from '../widgets.ts';

function q(req: Request, name: string, max = 200): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined;
}

/** The sort of a list from `sort` and `dir`: whitelisted columns only (the sender only on received lists). */
export function parseSort(req: Request, direction: 'sent' | 'received'): ListSort | undefined {
  const key = q(req, 'sort', 20);
  const dir = q(req, 'dir', 4);
  if (!key && !dir) return undefined;
  const keys: readonly string[] = SORT_KEYS.filter((k) => k !== 'counterpart' || direction === 'received');
  if (key && !keys.includes(key)) throw new HubError('VALIDATION_FAILED', `unknown sort column ${key}`);
  if (dir && dir !== 'asc' && dir !== 'desc')
    throw new HubError('VALIDATION_FAILED', 'dir must be asc or desc');
  return { key: (key ?? 'received') as SortKey, dir: dir === 'asc' ? 'asc' : 'desc' };
}

export function parseFilters(req: Request, direction: 'sent' | 'received' = 'received'): ListFilters {
  const bad = (what: string) => new HubError('VALIDATION_FAILED', what);
  const { start: from, end } = dayBounds(q(req, 'from', 10), q(req, 'to', 10));
  const status = q(req, 'status', 10);
  if (status && !(STATUS_FILTERS as readonly string[]).includes(status)) throw bad('unknown status');
  const priorityS = q(req, 'priority', 1);
  if (priorityS && !/^[0-4]$/.test(priorityS)) throw bad('priority must be 0 to 4');
  const pageS = q(req, 'page', 6);
  const page = pageS && /^\d+$/.test(pageS) ? Number(pageS) : 1;
  const number = q(req, 'number', 100);
  const subject = q(req, 'subject', 200);
  const counterpart = q(req, 'counterpart', 100);
  const agencyCode = q(req, 'agency', 40);
  const sort = parseSort(req, direction);
  return {
    ...(number ? { number } : {}),
    ...(subject ? { subject } : {}),
    ...(counterpart ? { counterpart } : {}),
    ...(from ? { from } : {}),
    ...(end ? { to: new Date(end.getTime() - 1) } : {}),
    ...(status ? { status: status as StatusFilter } : {}),
    ...(priorityS ? { priority: Number(priorityS) } : {}),
    ...(q(req, 'overdue', 1) === '1' ? { overdue: true } : {}),
    ...(agencyCode ? { agency: agencyCode } : {}),
    ...(sort ? { sort } : {}),
    page: Math.max(1, page),
  };
}

const FILTER_PARAMS = [
  'number',
  'subject',
  'counterpart',
  'from',
  'to',
  'status',
  'priority',
  'overdue',
  'agency',
  'sort',
  'dir',
] as const;

function filterQuery(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of FILTER_PARAMS) out[k] = q(req, k);
  return out;
}

/** A column header that sorts the list by its column (toggling the direction), with aria-sort. */
function sortHeader(
  label: string,
  key: SortKey,
  path: string,
  fq: Record<string, string | undefined>,
  current: ListSort,
): SafeHtml {
  const active = current.key === key;
  const next =
    active && current.dir === 'desc' ? 'asc' : active ? 'desc' : key === 'received' ? 'desc' : 'asc';
  const aria = active ? (current.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  return html`<th aria-sort="${aria}" data-sort="${key}">
    <a href="${href(path, { ...fq, sort: key, dir: next, page: undefined })}"
      >${label}${active ? (current.dir === 'asc' ? ' ▲' : ' ▼') : ''}</a
    >
  </th>`;
}

/** The refusal of a filter field, in the page's language, beside the field it concerns. */
/** The Received and Sent routes: the list page and its CSV export. */
type ListRoute = (
  req: Request,
  res: Response,
  deps: { queries: WebQueries; audit: Pick<AuditLog, 'append'> },
  direction: 'sent' | 'received',
) => Promise<void>;

const listPage: ListRoute = async (req, res, { queries }, direction) => {
  const { t, lang } = web(req);
  const user = userOf(req);
  let f: ListFilters | undefined;
  let refusal: HubError | undefined;
  try {
    f = parseFilters(req, direction);
  } catch (err) {
    // A refusal that concerns one field is shown beside it, the form keeping what was typed.
    if (!isHubError(err) || typeof err.details?.field !== 'string') throw err;
    refusal = err;
  }
  const result = f ? await queries.list(user, direction, f) : undefined;
  const unopened = await queries.unopened(user);
  const fq = filterQuery(req);
  const sort: ListSort = f?.sort ?? { key: 'received', dir: 'desc' };
  const path = `/ui/${direction}`;
  const title = t(direction === 'sent' ? 'nav.sent' : 'nav.received');
  const agencySelect =
    user.role === 'clerk'
      ? user.agencies.length > 1
        ? html`<label
            >${t('list.agency')}<select name="agency">
              ${option('', t('list.allMyAgencies'), !fq.agency)}${user.agencies.map((a) => option(a, a, fq.agency === a))}
            </select></label
          >`
        : ''
      : html`<label
          >${t('list.agency')}<input
            name="agency"
            value="${fq.agency ?? ''}"
            placeholder="${t('list.anyAgency')}"
            maxlength="40"
            size="12"
        /></label>`;
  const form = html`<form method="get" action="${path}" class="filters" role="search">
    <label
      >${t('list.number')}<input
        name="number"
        value="${fq.number ?? ''}"
        placeholder="12/UBND-VP"
        maxlength="100"
        size="12"
    /></label>
    <label class="grow"
      >${t('list.subject')}<input
        name="subject"
        value="${fq.subject ?? ''}"
        placeholder="${t('list.subjectHint')}"
        maxlength="200"
    /></label>
    <label
      >${t(direction === 'sent' ? 'list.recipient' : 'list.sender')}<input
        name="counterpart"
        value="${fq.counterpart ?? ''}"
        placeholder="${t('find.counterpartHint')}"
        maxlength="100"
        size="16"
    /></label>
    ${rangeInputs(t, { from: fq.from ?? '', to: fq.to ?? '' }, refusal instanceof DayRangeError ? refusal : null)}
    <label
      >${t('list.status')}<select name="status">
        ${option('', t('list.any'), !fq.status)}${STATUS_FILTERS.map((s) => option(s, statusLabel(s === 'none' ? null : s, lang, t), fq.status === s))}
      </select></label
    >
    <label
      >${t('list.priority')}<select name="priority">
        ${option('', t('list.any'), !fq.priority)}${[0, 1, 2, 3, 4].map((p) => option(String(p), priorityLabel(p, lang), fq.priority === String(p)))}
      </select></label
    >
    <label class="check"
      ><input type="checkbox" name="overdue" value="1" ${fq.overdue === '1' ? html` checked` : ''} />
      ${t('list.overdueOnly')}</label
    >
    ${agencySelect} ${fq.sort ? html`<input type="hidden" name="sort" value="${fq.sort}" />` : ''}
    ${fq.dir ? html`<input type="hidden" name="dir" value="${fq.dir}" />` : ''}
    <div class="actions">
      <button type="submit" class="primary">${t('list.search')}</button>
      <a href="${path}">${t('list.reset')}</a>
    </div>
  </form>`;
  if (!result) {
    res.status(refusal!.status).send(
      renderPage(req, {
        title,
        nav: direction,
        body: html`<h1>${title}</h1>
          ${form}`,
        counts: { received: unopened },
      }),
    );
    return;
  }
  // Administrators see every recipient of a received document: each status says whose it is.
  const namesRecipients = user.role !== 'clerk' || user.agencies.length > 1;
  const head = html`<tr>
    ${sortHeader(t('doc.number'), 'number', path, fq, sort)}
    ${sortHeader(t('doc.subject'), 'subject', path, fq, sort)}
    ${
      direction === 'received'
        ? sortHeader(t('list.sender'), 'counterpart', path, fq, sort)
        : html`<th>${t('list.recipients')}</th>`
    }
    ${sortHeader(t(direction === 'sent' ? 'list.sentAt' : 'list.receivedAt'), 'received', path, fq, sort)}
    ${sortHeader(t('list.priority'), 'priority', path, fq, sort)}
    <th>${t('list.status')}</th>
    <th>${t('doc.deadline')}</th>
  </tr>`;
  const rows = result.rows.map((r) => {
    const deadline = r.deliveries
      .map((d) => d.deadline)
      .filter((d): d is Date => !!d)
      .sort((a, b) => +a - +b)[0];
    const counterpart =
      direction === 'sent'
        ? html`<ul class="plain">
            ${r.deliveries.map((d) => html`<li>${agency(d.recipientCode, result.names)}</li>`)}
          </ul>`
        : agency(r.doc.senderCode, result.names);
    const status =
      r.deliveries.length === 0
        ? html`<span class="muted">—</span>`
        : (direction === 'sent' ? r.deliveries.length === 1 : !namesRecipients)
          ? html`${r.deliveries.map((d) => html`<div>${statusBadge(d.business, lang, t)}</div>`)}`
          : html`<ul class="plain">
              ${r.deliveries.map(
                (d) =>
                  html`<li data-recipient="${d.recipientCode}">
                    <code title="${result.names.get(d.recipientCode) ?? ''}">${d.recipientCode}</code>
                    ${statusBadge(d.business, lang, t)}
                  </li>`,
              )}
            </ul>`;
    const fresh = direction === 'received' && isNew(r);
    return html`<tr
      class="${[r.overdue ? 'overdue' : '', fresh ? 'new' : ''].filter(Boolean).join(' ')}"
      data-doc="${r.doc.id}"
    >
      <td class="nowrap">${numberOf(r.doc)}</td>
      <td>
        <a href="/ui/documents/${seg(r.doc.id)}">${r.doc.meta.subject ?? r.doc.documentId}</a
        >${fresh ? html` <span class="badge badge-new">${t('find.new')}</span>` : ''}${r.overdue ? html` <span class="badge badge-bad">${t('list.overdue')}</span>` : ''}
      </td>
      <td>${counterpart}</td>
      <td class="nowrap">${fmtDateTime(r.doc.receivedAt, lang)}</td>
      <td>${priorityBadge(r.doc.meta.priority, lang)}</td>
      <td>${status}</td>
      <td class="nowrap">${deadline ? fmtDateTime(deadline, lang) : '—'}</td>
    </tr>`;
  });
  const first = (result.page - 1) * PAGE_SIZE + 1;
  const last = first + result.rows.length - 1;
  const body = html`<h1>${title}</h1>
    ${form}
    <p class="count">
      <span data-total="${result.total}"
        >${result.rows.length ? t('find.showing', { a: first, b: last, n: result.total }) : t('list.count', { n: result.total })}</span
      >${direction === 'received' && user.role === 'clerk' ? html` · <span class="new-count">${t('find.newCount', { n: unopened })}</span>` : ''}${result.truncated ? html` <span class="warn">${t('list.truncated')}</span>` : ''}${result.counterpartTruncated ? html` <span class="warn">${t('find.counterpartTruncated')}</span>` : ''}
      ${result.total ? html` · <a class="export" href="${href(`${path}.csv`, { ...fq })}" download>${t('find.exportCsv')}</a>` : ''}
    </p>
    ${
      result.rows.length
        ? html`<div class="table-wrap">
            <table class="list">
              <thead>
                ${head}
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
          </div>`
        : empty(t('list.empty'))
    }
    ${pager(path, fq, result.page, result.pages, t)}`;
  res.send(renderPage(req, { title, nav: direction, body, counts: { received: unopened } }));
};

/** The CSV export of a list: every row its filter matches (refused, never cut, above the cap). Audited. */
const listCsvResponse: ListRoute = async (req, res, { queries, audit }, direction) => {
  const { t, lang } = web(req);
  const filters = parseFilters(req, direction);
  const result = await queries.exportRows(userOf(req), direction, filters);
  await audit.append({
    actor: actorOf(req),
    action: 'ui.list.exported',
    subject: direction,
    data: { rows: result.rows.length, query: new URL(req.originalUrl, 'http://x').search },
  });
  const day = vnDay(new Date());
  res.setHeader('Content-Disposition', `attachment; filename="${direction}-${day}.csv"`);
  res.type('text/csv; charset=utf-8').send(listCsv(result, direction, lang, t));
};

const FLOW: readonly string[] = ['01', '03', '04', '05', '06'];

/** The progress steps 01 → 03 → 04 → 05 → 06, with the codes reached marked. */
function stepper(d: DeliveryRecord, lang: 'vi' | 'en'): SafeHtml {
  const reached = new Set(d.timeline.map((e) => e.code));
  const code = d.business.code;
  if (code === '02' || code === 'recalled') return html``;
  return html`<ol class="steps">
    ${FLOW.map(
      (c) =>
        html`<li class="${reached.has(c as never) ? 'done' : ''}${code === c ? ' current' : ''}">
          ${codeLabel(c, lang)}
        </li>`,
    )}
  </ol>`;
}

function deliveryCard(req: Request, p: DocumentPage, d: DeliveryRecord): SafeHtml {
  const { t, lang } = web(req);
  const overdue = isOverdue(d.deadline, d.business.code, new Date());
  const timeline = d.timeline.length
    ? html`<ol class="timeline">
        ${d.timeline.map((e) => {
          const sd = e.statusDocId ? p.statusDocs.get(e.statusDocId) : undefined;
          return html`<li data-code="${e.code}">
            <time>${fmtDateTime(e.at, lang)}</time> <strong>${codeLabel(e.code, lang)}</strong>
            <span class="muted">${t('doc.by')} <code>${e.by}</code></span
            >${e.description ? html` — ${hubText(e.description, t)}` : ''}${
              sd
                ? html` <a href="/ui/documents/${seg(sd.id)}" class="small">${t('doc.statusMessage')}</a>`
                : ''
            }
          </li>`;
        })}
      </ol>`
    : html`<p class="muted">${t('doc.noStatus')}</p>`;
  return html`<section class="card delivery${overdue ? ' overdue' : ''}" data-recipient="${d.recipientCode}">
    <h3>
      ${agency(d.recipientCode, p.names)} ${statusBadge(d.business, lang, t)}
      ${overdue ? html`<span class="badge badge-bad">${t('list.overdue')}</span>` : ''}
    </h3>
    ${d.requestedCode ? html`<p class="note">${t('doc.reroutedFrom')} ${agency(d.requestedCode, p.names)}</p>` : ''}
    ${dl([
      [t('doc.transport'), transportBadge(d.transport, t)],
      [t('doc.attempts'), String(d.attempts)],
      [t('doc.queuedAt'), fmtDateTime(d.queuedAt, lang)],
      [t('doc.availableAt'), fmtDateTime(d.availableAt, lang)],
      [
        t('doc.ackedAt'),
        d.ackedAt
          ? html`${fmtDateTime(d.ackedAt, lang)}
            (${d.ack?.result === 'fail' ? html`${t('doc.ackFail')}: ${d.ack.reason ?? ''}` : t('doc.ackDone')})`
          : '—',
      ],
      !!d.deadline && [t('doc.deadline'), fmtDateTime(d.deadline, lang)],
      !!d.lastError &&
        STILL_ON_ITS_WAY.has(d.transport) && [
          t('doc.lastError'),
          html`<span class="error-text">${hubText(d.lastError, t)}</span>`,
        ],
    ])}
    ${stepper(d, lang)}
    <h4>${t('doc.timeline')}</h4>
    ${timeline}
  </section>`;
}

/** Transport states in which an error of an earlier attempt still matters (not yet delivered). */
const STILL_ON_ITS_WAY: ReadonlySet<string> = new Set(['queued', 'failed', 'dead-lettered']);

/** More recipients than this: a summary table above the per-recipient timelines. */
const SUMMARY_FROM = 5;

function recipientSummary(req: Request, deliveries: readonly DeliveryRecord[]): SafeHtml {
  const { t, lang } = web(req);
  const now = new Date();
  const counts = new Map<string, { state: DeliveryRecord['business']; n: number }>();
  for (const d of deliveries) {
    const key = d.business.code ?? 'none';
    const c = counts.get(key) ?? { state: { code: d.business.code, pending: null }, n: 0 };
    c.n++;
    counts.set(key, c);
  }
  const order = ['none', '01', '03', '04', '05', '06', '02', 'recalled'];
  const rows = [...counts.entries()].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  const overdue = deliveries.filter((d) => isOverdue(d.deadline, d.business.code, now)).length;
  return html`<section class="card" id="recipient-summary">
    <h3>${t('doc.summary')}</h3>
    <table class="list compact summary">
      <thead>
        <tr>
          <th>${t('doc.summaryStatus')}</th>
          <th class="num">${t('doc.summaryCount')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          ([key, c]) =>
            html`<tr data-status="${key}">
              <td>${statusBadge(c.state, lang, t)}</td>
              <td class="num">${c.n}</td>
            </tr>`,
        )}
        <tr data-status="overdue" class="${overdue ? 'overdue' : ''}">
          <td>${t('doc.summaryOverdue')}</td>
          <td class="num">${overdue}</td>
        </tr>
      </tbody>
      <tfoot>
        <tr data-status="total">
          <th>${t('doc.summaryTotal')}</th>
          <td class="num">${deliveries.length}</td>
        </tr>
      </tfoot>
    </table>
  </section>`;
}

function documentPage(req: Request, p: DocumentPage): string {
  const { t, lang } = web(req);
  const user = userOf(req);
  const { doc } = p;
  const isAdmin = user.role !== 'clerk';
  const business = doc.meta.businessType ?? 0;
  const btype = BUSINESS_DOC_TYPES[business as keyof typeof BUSINESS_DOC_TYPES];
  const routing = doc.recipients.filter((r) => r.outcome !== 'accepted');
  const title = doc.messageType === 'status' ? t('doc.statusTitle') : (doc.meta.subject ?? doc.documentId);
  const body = html`<p class="crumbs">
      <a href="/ui/received">${t('nav.received')}</a> · <a href="/ui/sent">${t('nav.sent')}</a>
    </p>
    <h1>${title}</h1>
    <div class="doc-actions">
      <a class="button" href="/ui/documents/${seg(doc.id)}/message" download>${t('doc.downloadMessage')}</a>
      <a class="button" href="/ui/documents/${seg(doc.id)}/receipt" download>${t('doc.downloadReceipt')}</a>
      <a class="button" href="/ui/documents/${seg(doc.id)}/evidence" download>${t('doc.downloadEvidence')}</a>
    </div>
    <div class="columns">
      <section class="card">
        <h2>${t('doc.metadata')}</h2>
        ${dl([
          [t('doc.number'), numberOf(doc)],
          [t('doc.documentId'), html`<code>${doc.documentId}</code>`],
          [t('doc.sender'), agency(doc.senderCode, p.names, isAdmin)],
          !!p.details.typeName && [t('doc.type'), p.details.typeName],
          doc.messageType === 'status' && [
            t('doc.statusCode'),
            doc.meta.statusCode ? codeLabel(doc.meta.statusCode, lang) : '—',
          ],
          doc.messageType === 'status' &&
            !!doc.meta.description && [t('doc.description'), doc.meta.description],
          [t('doc.promulgationDate'), fmtEdxmlDate(doc.meta.promulgationDate)],
          !!p.details.place && [t('doc.place'), p.details.place],
          doc.messageType === 'edoc' && [t('list.priority'), priorityBadge(doc.meta.priority, lang)],
          !!doc.meta.dueDate && [t('doc.dueDate'), doc.meta.dueDate],
          doc.messageType === 'edoc' && [
            t('doc.businessType'),
            btype ? (lang === 'vi' ? btype.vi : btype.en) : String(business),
          ],
          [t('doc.receivedAt'), fmtDateTime(doc.receivedAt, lang)],
          !!doc.via?.length && [
            t('doc.via'),
            html`<span id="via"
              >${doc.via.map(
                (h) =>
                  html`<div>
                    ${t('doc.viaHop', { peer: h.peer })} <code class="small">${h.systemId}</code> ·
                    ${fmtDateTime(h.at, lang)}
                  </div>`,
              )}</span
            >`,
          ],
          [t('doc.acceptedAt'), fmtDateTime(doc.acceptedAt, lang)],
          [t('doc.size'), fmtBytes(doc.size)],
          [t('doc.sha256'), html`<code class="hash">${doc.sha256}</code>`],
          [
            t('doc.signer'),
            html`${p.details.signerName ? html`${p.details.signerName}${p.details.signerPosition ? `, ${p.details.signerPosition}` : ''}<br />` : ''}<span
                class="small"
                >${doc.signer.subject}</span
              ><br /><code class="hash small">${doc.signer.fingerprintSha256}</code>`,
          ],
        ])}
      </section>
      <section class="card">
        <h2>${t('doc.attachments')}</h2>
        ${p.details.encrypted ? html`<p class="note" id="encrypted">${t('doc.encrypted')}</p>` : ''}
        ${
          !p.details.attachments?.length
            ? html`<p class="muted">
                ${t(p.details.encrypted ? 'doc.encryptedNoList' : 'doc.noAttachments')}
              </p>`
            : html`<ul class="attachments">
                ${p.details.attachments.map(
                  (a) =>
                    html`<li>
                      <strong>${a.name}</strong>
                      <span class="muted" data-kind="${attachmentKind(a.contentType, a.name)}"
                        ><abbr title="${a.contentType}">${t(attachmentKind(a.contentType, a.name))}</abbr
                        >${a.size !== undefined ? ` · ${fmtBytes(a.size)}` : ''}</span
                      >${a.description ? html`<br /><span class="small">${a.description}</span>` : ''}
                    </li>`,
                )}
              </ul>`
        }
        <p class="small muted">${t('doc.attachmentsHint')}</p>
        <h2>${t('doc.receipts')}</h2>
        ${dl([
          [
            t('doc.hubReceipt'),
            doc.receipt
              ? html`<a href="/ui/documents/${seg(doc.id)}/receipt" download>receipt-${doc.id}.xml</a>
                  (${fmtDateTime(doc.acceptedAt ?? doc.receivedAt, lang)})`
              : '—',
          ],
          [t('doc.acks'), html`${p.deliveries.filter((d) => d.ackedAt).length} / ${p.deliveries.length}`],
        ])}
        ${
          p.original || p.duplicateOf || p.chain.length
            ? html`<h2>${t('doc.chain')}</h2>
                <ul class="chain">
                  ${p.original ? html`<li>${t(doc.messageType === 'status' ? 'doc.statusFor' : 'doc.refersTo')}: <a href="/ui/documents/${seg(p.original.id)}">${numberOf(p.original)} — ${p.original.meta.subject ?? p.original.documentId}</a></li>` : ''}
                  ${p.duplicateOf ? html`<li>${t('doc.probableDuplicateOf')}: <a href="/ui/documents/${seg(p.duplicateOf.id)}">${numberOf(p.duplicateOf)} — ${p.duplicateOf.meta.subject ?? ''}</a></li>` : ''}
                  ${p.chain.map(
                    (c) =>
                      html`<li data-chain="${c.entry.type}">
                        <span class="badge badge-warn">${t(`chain.${c.entry.type}`)}</span>
                        ${fmtDateTime(c.entry.at, lang)}
                        ${
                          c.doc
                            ? html`<a href="/ui/documents/${seg(c.doc.id)}"
                                >${numberOf(c.doc)} — ${c.doc.meta.subject ?? c.entry.documentId}</a
                              >`
                            : html`<code>${c.entry.documentId}</code>`
                        }${c.entry.reason ? html` — ${c.entry.reason}` : ''}
                      </li>`,
                  )}
                </ul>`
            : ''
        }
      </section>
    </div>
    ${
      routing.length
        ? html`<section class="card">
            <h2>${t('doc.routing')}</h2>
            <ul class="plain">
              ${routing.map(
                (r) =>
                  html`<li>
                    ${agency(r.code, p.names)} →
                    ${
                      r.outcome === 'rerouted' && r.deliveredTo
                        ? html`<span class="badge badge-info">${t('doc.rerouted')}</span>
                            ${agency(r.deliveredTo, p.names)}`
                        : html`<span class="badge badge-bad">${t('doc.routingRefused')}</span>
                            ${r.reason ?? ''}`
                    }
                  </li>`,
              )}
            </ul>
          </section>`
        : ''
    }
    <h2>${t(p.seesAll ? 'doc.recipients' : 'doc.yourDelivery')}</h2>
    ${p.deliveries.length > SUMMARY_FROM ? recipientSummary(req, p.deliveries) : ''}
    ${p.deliveries.length ? p.deliveries.map((d) => deliveryCard(req, p, d)) : empty(t('doc.noDeliveries'))}`;
  return renderPage(req, { title, nav: p.seesAll && user.role === 'clerk' ? 'sent' : 'received', body });
}

export function documentsRouter(deps: {
  queries: WebQueries;
  documents: Pick<DocumentStore, 'getPayload'>;
  evidence: (docId: string) => Promise<Buffer>;
  audit: Pick<AuditLog, 'append'>;
}): Router {
  const r = express.Router();

  for (const direction of ['received', 'sent'] as const) {
    r.get(`/${direction}`, (req, res) => listPage(req, res, deps, direction));
    r.get(`/${direction}.csv`, (req, res) => listCsvResponse(req, res, deps, direction));
  }

  r.get('/documents/:id', async (req, res) => {
    const page = await deps.queries.document(userOf(req), req.params.id);
    await deps.queries.markOpened(userOf(req), page); // the lists' "new" mark (issue 19 §3)
    res.send(documentPage(req, page));
  });

  // Downloads: for the parties (and administrators and auditors); every download is audited.
  r.get('/documents/:id/message', async (req, res) => {
    const { doc } = await deps.queries.access(userOf(req), req.params.id);
    const bytes = await deps.documents.getPayload(doc.id);
    if (!bytes) throw new HubError('INTERNAL', `payload of ${doc.id} is missing`);
    await deps.audit.append({ actor: actorOf(req), action: 'ui.message.downloaded', subject: doc.id });
    res.setHeader('Content-Disposition', `attachment; filename="${doc.messageType}-${doc.id}.edxml"`);
    res.setHeader('X-Hub-Sha256', doc.sha256);
    res.type('application/xml').send(bytes);
  });

  r.get('/documents/:id/receipt', async (req, res) => {
    const { doc } = await deps.queries.access(userOf(req), req.params.id);
    if (!doc.receipt) throw new HubError('NOT_FOUND', 'no receipt');
    res.setHeader('Content-Disposition', `attachment; filename="receipt-${doc.id}.xml"`);
    res.type('application/xml').send(doc.receipt);
  });

  r.get('/documents/:id/evidence', async (req, res) => {
    const { doc } = await deps.queries.access(userOf(req), req.params.id);
    const zip = await deps.evidence(doc.id);
    await deps.audit.append({ actor: actorOf(req), action: 'ui.evidence.downloaded', subject: doc.id });
    res.setHeader('Content-Disposition', `attachment; filename="evidence-${doc.id}.zip"`);
    res.type('application/zip').send(zip);
  });

  return r;
}
