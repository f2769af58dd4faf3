/**
 * Administration of the directory: search, view, register a commune (with code assignment), close
 * or merge with successors, delivery settings, bulk import with progress, export.
 */
import express, { type Request, type Response, type Router } from 'express';
import { ERROR_CODES, HubError, isHubError, type ErrorCode } from '../../domain/errors.ts';
import type { Agency, Block, DeliveryMode } from '../../domain/types.ts';
import { streamExport } from '../../directory/routes.ts';
import {
  CORRECTION_MODES,
  type DirectoryService,
  type PredecessorCorrection,
  type RegisterInput,
} from '../../directory/service.ts';
import { importTemplateCsv, TEMPLATE_COLUMNS } from '../../directory/csv.ts';
import { BLOCKS, DELIVERY_MODES, KNOWN_KINDS } from '../../directory/validation.ts';
import { normalizeCode } from '../../domain/codes.ts';
import { nameKey } from '../../domain/text.ts';
import { actorOf, canWrite, userOf, web } from '../context.ts';
import { fmtDate, fmtDateTime, parseFormDate } from '../format.ts';
import {
  codeList,
  errorFlash,
  field,
  fieldError,
  formValues,
  invalidAttrs,
  refused,
  textField,
} from '../forms.ts';
import { html, href, raw, seg, type SafeHtml } from '../html.ts';
import type { Translator } from '../i18n.ts';
import { isStalled, type ImportJobs } from '../imports.ts';
import type { UiJob } from '../../domain/ports/users.ts';
import { csrfField, renderPage, type Flash } from '../layout.ts';
import { formErrors, problemRefusal, rowRefusal, type FormErrors } from '../refusals.ts';
import { dl, empty, option } from '../widgets.ts';

/** Results of the parent/province search-as-you-type (issue 19 §2). */
const LOOKUP_LIMIT = 10;
/** Units under a unit shown per page on its page. */
const CHILDREN_PAGE = 50;

/** A unit type by its name in the page's language (the slug when the directory has no name for it). */
function kindLabel(t: Translator, kind: string): string {
  return (KNOWN_KINDS as readonly string[]).includes(kind)
    ? t(`kind.${kind}` as 'kind.ministry')
    : t('kind.other', { kind });
}

/** The <select> of unit types: Vietnamese names, the slug as the submitted value (API/CLI unchanged). */
function kindSelect(t: Translator, value: string, errors: FormErrors | null): SafeHtml {
  const kinds: readonly string[] =
    value && !(KNOWN_KINDS as readonly string[]).includes(value) ? [...KNOWN_KINDS, value] : KNOWN_KINDS;
  return html`<select name="kind" required${invalidAttrs(errors, 'kind')}>
    ${kinds.map((k) => option(k, kindLabel(t, k), value === k))}
  </select>`;
}

const CLOSE_FIELDS = ['successors', 'at', 'reason'] as const;
const DELIVERY_FIELDS = ['mode', 'url'] as const;

const REGISTER_FIELDS = [
  'name',
  'shortName',
  'block',
  'kind',
  'parent',
  'province',
  'predecessors',
  'validFrom',
  'distinctFrom',
  'correctionMode',
  'correctionReason',
  'email',
  'phone',
  'address',
  'mode',
  'url',
] as const;

/** A calendar date field in the UI's one format, dd/mm/yyyy (not the browser's locale). */
function dateInput(name: string, value?: string, errors?: FormErrors | null): SafeHtml {
  return html`<input
    name="${name}"
    value="${value ?? ''}"
    inputmode="numeric"
    maxlength="10"
    placeholder="dd/mm/yyyy"
    pattern="\\d{1,2}/\\d{1,2}/\\d{4}|\\d{4}-\\d{2}-\\d{2}"
    ${invalidAttrs(errors, name)}
  />`;
}

/** A code field with search-as-you-type over the directory (app.js); a plain code field without JS. */
function lookupInput(
  t: Translator,
  name: 'parent' | 'province',
  value: string,
  errors: FormErrors | null,
): SafeHtml {
  return html`<input
      name="${name}"
      maxlength="${name === 'parent' ? 40 : 10}"
      value="${value}"
      placeholder="H41"
      autocomplete="off"
      list="${name}-options"
      data-lookup="${name === 'province' ? 'province' : 'parent'}"
      title="${t('ag.lookupHint')}"
      ${invalidAttrs(errors, name)}
    /><datalist id="${name}-options"></datalist>`;
}

/** What the register form shows besides the values typed: refusals, and the code to be assigned. */
interface RegisterState {
  readonly errors?: FormErrors | null;
  /** The next code under the chosen parent (a preview: nothing is reserved). */
  readonly nextCode?: string | null;
}

function registerForm(req: Request, v: Record<string, string>, state: RegisterState = {}): SafeHtml {
  const { t } = web(req);
  const errors = state.errors ?? null;
  const e = (name: string) => fieldError(errors, name);
  const bad = (name: string) => invalidAttrs(errors, name);
  return html`<form method="post" action="/ui/admin/agencies" class="grid-form" id="register-form">
    ${csrfField(req)}
    <label class="wide"
      >${t('ag.name')} *<input
        name="name"
        required
        maxlength="300"
        value="${v.name ?? ''}"
        placeholder="UBND xã …"
        ${bad('name')}
      />${e('name')}</label
    >
    <label
      >${t('ag.shortName')}<input
        name="shortName"
        maxlength="100"
        value="${v.shortName ?? ''}"
        ${bad('shortName')}
      />${e('shortName')}</label
    >
    <label
      >${t('ag.block')} *<select name="block" required${bad('block')}>
        ${BLOCKS.map((b) => option(b, t(`block.${b}`), (v.block || 'state') === b))}</select
      >${e('block')}</label
    >
    <label>${t('ag.kind')} *${kindSelect(t, v.kind || 'commune-people-committee', errors)}${e('kind')}</label>
    <label>${t('ag.parent')}${lookupInput(t, 'parent', v.parent ?? '', errors)}${e('parent')}</label>
    <label>${t('ag.province')}${lookupInput(t, 'province', v.province ?? '', errors)}${e('province')}</label>
    <p class="wide next-code">
      ${t('ag.nextCode')}:
      <output id="next-code" aria-live="polite" data-none="${t('ag.nextCodeNone')}"
        >${state.nextCode ? html`<code>${state.nextCode}</code>` : t('ag.nextCodeNone')}</output
      >
      <button type="submit" name="preview" value="1" formnovalidate class="link">
        ${t('ag.previewSubmit')}
      </button>
      <span class="small muted">${t('ag.nextCodeNote')}</span>
    </p>
    <label class="wide"
      >${t('ag.predecessors')}<input
        name="predecessors"
        maxlength="2000"
        value="${v.predecessors ?? ''}"
        placeholder="000.01.21.H41, …"
        ${bad('predecessors')}
      />${e('predecessors')}</label
    >
    <label>${t('ag.validFrom')}${dateInput('validFrom', v.validFrom, errors)}${e('validFrom')}</label>
    <label
      >${t('ag.distinctFrom')}<input
        name="distinctFrom"
        maxlength="200"
        value="${v.distinctFrom ?? ''}"
        placeholder="H41.004"
        ${bad('distinctFrom')}
      />${e('distinctFrom')}</label
    >
    <label
      >${t('ag.correction')}<select name="correctionMode" ${bad('correctionMode')}>
        ${option('', t('ag.correctionNone'), !v.correctionMode)}
        ${CORRECTION_MODES.map((m) =>
          option(m, t(m === 'split' ? 'ag.correctionSplit' : 'ag.correctionReplace'), v.correctionMode === m),
        )}</select
      >${e('correctionMode')}</label
    >
    <label class="wide"
      >${t('ag.correctionReason')}<input
        name="correctionReason"
        maxlength="500"
        value="${v.correctionReason ?? ''}"
        ${bad('correctionReason')}
      />${e('correctionReason')}</label
    >
    <label
      >${t('ag.email')}<input
        type="email"
        name="email"
        maxlength="200"
        value="${v.email ?? ''}"
        ${bad('email')}
      />${e('email')}</label
    >
    <label
      >${t('ag.phone')}<input name="phone" maxlength="50" value="${v.phone ?? ''}" ${bad('phone')} />${e(
        'phone',
      )}</label
    >
    <label class="wide"
      >${t('ag.address')}<input
        name="address"
        maxlength="300"
        value="${v.address ?? ''}"
        ${bad('address')}
      />${e('address')}</label
    >
    <label
      >${t('ag.deliveryMode')}<select name="mode" ${bad('mode')}>
        ${DELIVERY_MODES.map((m) => option(m, t(`mode.${m}`), (v.mode || 'pull') === m))}</select
      >${e('mode')}</label
    >
    <label class="wide"
      >${t('ag.deliveryUrl')}<input
        type="url"
        name="url"
        maxlength="500"
        value="${v.url ?? ''}"
        placeholder="https://…"
        ${bad('url')}
      />${e('url')}</label
    >
    <div class="actions wide">
      <button type="submit" class="primary">${t('ag.registerSubmit')}</button>
      <span class="small muted">${t('ag.registerHint')}</span>
    </div>
  </form>`;
}

/** The parent fields of the register form, for the code preview. */
function previewInput(v: Record<string, string | undefined>) {
  return {
    block: (v.block || 'state') as Block,
    ...(v.parent ? { parentCode: v.parent } : {}),
    ...(v.province ? { province: v.province } : {}),
  };
}

function registerInput(v: Record<string, string>): RegisterInput {
  const validFrom = v.validFrom ? parseFormDate(v.validFrom) : undefined;
  if (validFrom === null) throw new HubError('VALIDATION_FAILED', 'validFrom must be a date (dd/mm/yyyy)');
  const contact = {
    ...(v.email ? { email: v.email } : {}),
    ...(v.phone ? { phone: v.phone } : {}),
    ...(v.address ? { address: v.address } : {}),
  };
  const mode = (v.mode || 'pull') as DeliveryMode;
  return {
    name: v.name ?? '',
    block: (v.block || 'state') as Block,
    kind: v.kind ?? '',
    ...(v.shortName ? { shortName: v.shortName } : {}),
    ...(v.parent ? { parentCode: v.parent } : {}),
    ...(v.province ? { province: v.province } : {}),
    ...(v.predecessors ? { predecessors: codeList(v.predecessors) } : {}),
    ...(v.distinctFrom ? { distinctFrom: codeList(v.distinctFrom) } : {}),
    ...(v.correctionMode
      ? {
          predecessorCorrection: {
            mode: v.correctionMode as PredecessorCorrection['mode'],
            reason: v.correctionReason ?? '',
          },
        }
      : {}),
    ...(validFrom ? { validFrom } : {}),
    ...(Object.keys(contact).length ? { contact } : {}),
    delivery: { mode, ...(v.url ? { url: v.url } : {}) },
  };
}

async function searchPage(
  req: Request,
  directory: DirectoryService,
  flash?: Flash | null,
  form?: Record<string, string>,
  state?: RegisterState,
): Promise<string> {
  const { t, lang } = web(req);
  const qv = (k: string) => (typeof req.query[k] === 'string' ? req.query[k].slice(0, 200) : '');
  const query = {
    q: qv('q'),
    code: qv('code'),
    block: qv('block'),
    province: qv('province'),
    status: qv('status'),
    cursor: qv('cursor'),
  };
  let result: { items: Agency[]; next?: string } = { items: [] };
  let searchError: Flash | null = null;
  try {
    result = await directory.search({
      ...(query.q ? { q: query.q } : {}),
      ...(query.code ? { code: query.code } : {}),
      ...(query.block ? { block: query.block } : {}),
      ...(query.province ? { province: query.province } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: 50,
    });
  } catch (err) {
    searchError = errorFlash(req, err);
  }
  const admin = canWrite(userOf(req));
  const body = html`<h1>${t('nav.agencies')}</h1>
    <div class="doc-actions">
      ${admin ? html`<a class="button" href="#register">${t('ag.register')}</a> <a class="button" href="/ui/admin/agencies/import">${t('ag.import')}</a>` : ''}
      <a class="button" href="/ui/admin/agencies/export?format=csv">${t('ag.exportCsv')}</a>
      <a class="button" href="/ui/admin/agencies/export?format=json">${t('ag.exportJson')}</a>
    </div>
    <form method="get" action="/ui/admin/agencies" class="filters" role="search">
      <label class="grow"
        >${t('ag.searchName')}<input
          name="q"
          value="${query.q}"
          placeholder="${t('ag.searchNameHint')}"
          maxlength="200"
      /></label>
      <label
        >${t('ag.codePrefix')}<input
          name="code"
          value="${query.code}"
          maxlength="35"
          size="12"
          placeholder="H29."
      /></label>
      <label
        >${t('ag.block')}<select name="block">
          ${option('', t('list.any'), !query.block)}${BLOCKS.map((b) => option(b, t(`block.${b}`), query.block === b))}
        </select></label
      >
      <label
        >${t('ag.province')}<input name="province" value="${query.province}" maxlength="10" size="6"
      /></label>
      <label
        >${t('ag.status')}<select name="status">
          ${option('', t('list.any'), !query.status)}${option('active', t('ag.active'), query.status === 'active')}${option('closed', t('ag.closed'), query.status === 'closed')}
        </select></label
      >
      <div class="actions">
        <button type="submit" class="primary">${t('list.search')}</button>
        <a href="/ui/admin/agencies">${t('list.reset')}</a>
      </div>
    </form>
    ${searchError ? html`<div class="flash flash-error">${searchError.text}</div>` : ''}
    ${
      result.items.length
        ? html`<div class="table-wrap">
              <table class="list" id="agencies">
                <thead>
                  <tr>
                    <th>${t('ag.code')}</th>
                    <th>${t('ag.name')}</th>
                    <th>${t('ag.block')}</th>
                    <th>${t('ag.kind')}</th>
                    <th>${t('ag.parent')}</th>
                    <th>${t('ag.status')}</th>
                    <th>${t('ag.successors')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${result.items.map(
                    (a) =>
                      html`<tr class="${a.status === 'closed' ? 'closed' : ''}">
                        <td class="nowrap">
                          <a href="/ui/admin/agencies/${seg(a.code)}"><code>${a.code}</code></a
                          >${a.legacyCode ? html`<br /><code class="small muted">${a.legacyCode}</code>` : ''}
                        </td>
                        <td>${a.name}</td>
                        <td>${t(`block.${a.block}`)}</td>
                        <td class="small">${kindLabel(t, a.kind)}</td>
                        <td><code>${a.parentCode ?? '—'}</code></td>
                        <td>
                          ${a.status === 'active' ? t('ag.active') : html`<span class="badge badge-bad">${t('ag.closed')}</span> ${fmtDate(a.closedAt, lang)}`}
                        </td>
                        <td>
                          ${a.successors.map((s) => html`<a href="/ui/admin/agencies/${seg(s)}"><code>${s}</code></a> `)}
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            ${result.next ? html`<nav class="pager"><a rel="next" href="${href('/ui/admin/agencies', { ...query, cursor: result.next })}">${t('pager.next')} ›</a></nav>` : ''}`
        : empty(t('list.empty'))
    }
    ${
      admin
        ? html`<section class="card" id="register">
            <h2>${t('ag.register')}</h2>
            ${registerForm(req, form ?? {}, state)}
          </section>`
        : ''
    }`;
  return renderPage(req, { title: t('nav.agencies'), nav: 'agencies', flash: flash ?? null, body });
}

/** A refused close or delivery form on the unit's page: which form, what was typed, the refusals. */
interface UnitFormState {
  readonly form: 'close' | 'delivery';
  readonly values: Record<string, string>;
  readonly errors: FormErrors;
}

async function agencyPage(
  req: Request,
  directory: DirectoryService,
  code: string,
  flash?: Flash | null,
  state?: UnitFormState,
): Promise<string> {
  const { t, lang } = web(req);
  const { agency: a, routing } = await directory.get(code);
  // Every unit under it, a page at a time (issue 19 §3: not the first 100 silently).
  const after = typeof req.query.after === 'string' ? req.query.after.slice(0, 40) : '';
  const page = Math.max(1, Math.min(10_000, Number(req.query.page) || 1));
  const children = await directory.search({
    parent: a.code,
    limit: CHILDREN_PAGE,
    ...(after ? { cursor: after } : {}),
  });
  const closeV = state?.form === 'close' ? state.values : {};
  const closeE = state?.form === 'close' ? state.errors : null;
  const admin = canWrite(userOf(req));
  const link = (c: string) => html`<a href="/ui/admin/agencies/${seg(c)}"><code>${c}</code></a>`;
  const body = html`<p class="crumbs"><a href="/ui/admin/agencies">${t('nav.agencies')}</a></p>
    <h1><code id="agency-code">${a.code}</code> ${a.name}</h1>
    <div class="columns">
      <section class="card">
        <h2>${t('ag.details')}</h2>
        ${dl([
          [t('ag.code'), html`<code>${a.code}</code>`],
          !!a.legacyCode && [t('ag.legacyCode'), html`<code>${a.legacyCode}</code>`],
          [t('ag.name'), a.name],
          !!a.shortName && [t('ag.shortName'), a.shortName],
          [t('ag.block'), t(`block.${a.block}`)],
          [t('ag.kind'), kindLabel(t, a.kind)],
          [t('ag.parent'), a.parentCode ? link(a.parentCode) : '—'],
          [t('ag.province'), a.province ?? '—'],
          [
            t('ag.status'),
            a.status === 'active'
              ? t('ag.active')
              : html`<span class="badge badge-bad">${t('ag.closed')}</span> ${fmtDate(a.closedAt, lang)}`,
          ],
          [t('ag.validFrom'), fmtDate(a.validFrom, lang)],
          [t('ag.successors'), a.successors.length ? a.successors.map((s) => html`${link(s)} `) : '—'],
          !!a.predecessors?.length && [
            t('ag.predecessors'),
            (a.predecessors ?? []).map((p) => html`${link(p)} `),
          ],
          [
            t('ag.routing'),
            html`${t(`routing.${routing.outcome}`)}${routing.deliveredTo && routing.deliveredTo !== a.code ? html` → ${link(routing.deliveredTo)}` : ''}${routing.reason ? html` <span class="small">${routing.reason}</span>` : ''}`,
          ],
          [
            t('ag.contact'),
            [a.contact.email, a.contact.phone, a.contact.address].filter(Boolean).join(' · ') || '—',
          ],
          [
            t('ag.deliveryMode'),
            html`${t(`mode.${a.delivery.mode}`)}${a.delivery.url ? html` <code class="small">${a.delivery.url}</code>` : ''}${a.delivery.cipherProtected ? html` <span class="badge badge-info">${t('ag.cipher')}</span>` : ''}`,
          ],
          [t('ag.version'), `${a.version} · ${fmtDateTime(a.updatedAt, lang)}`],
        ])}
      </section>
      <section class="card">
        <h2>${t('nav.certificates')}</h2>
        ${
          a.certificates.length
            ? html`<ul class="plain">
                ${a.certificates.map((c) => html`<li class="${c.revokedAt ? 'muted' : ''}"><code class="hash small">${c.fingerprintSha256.slice(0, 32)}…</code><br /><span class="small">${c.subject ?? ''} · ${t('cert.until')} ${fmtDate(c.notAfter, lang)}${c.revokedAt ? ` · ${t('cert.unregistered')}` : ''}</span></li>`)}
              </ul>`
            : empty(t('cert.none'))
        }
        <p><a href="${href('/ui/admin/certificates', { agency: a.code })}">${t('cert.manage')}</a></p>
        <h2 id="children">${t('ag.children')}</h2>
        ${
          children.items.length
            ? html`<ul class="plain" id="children-list">
                  ${children.items.map((c) => html`<li>${link(c.code)} ${c.name}${c.status === 'closed' ? html` <span class="badge badge-bad">${t('ag.closed')}</span>` : ''}</li>`)}
                </ul>
                ${
                  after || children.next
                    ? html`<nav class="pager" aria-label="${t('ag.children')}">
                        ${after ? html`<a href="/ui/admin/agencies/${seg(a.code)}#children">« ${t('ag.childrenFirst')}</a>` : ''}
                        <span>${t('ag.childrenCount', { page })}</span>
                        ${children.next ? html`<a rel="next" href="${href(`/ui/admin/agencies/${seg(a.code)}`, { after: children.next, page: String(page + 1) })}#children">${t('pager.next')} ›</a>` : ''}
                      </nav>`
                    : ''
                }`
            : empty(t('ag.noChildren'))
        }
        <p>
          <a href="${href('/ui/received', { agency: a.code })}">${t('nav.received')}</a> ·
          <a href="${href('/ui/sent', { agency: a.code })}">${t('nav.sent')}</a>
        </p>
      </section>
    </div>
    ${
      admin && a.status === 'active'
        ? html`<div class="columns">
            <section class="card" id="close">
              <h2>${t('ag.closeTitle')}</h2>
              <p class="small muted">${t('ag.closeHint')}</p>
              <form
                method="post"
                action="/ui/admin/agencies/${seg(a.code)}/close"
                class="stack"
                data-confirm="${t('ag.closeConfirm')}"
              >
                ${csrfField(req)}
                <label
                  >${t('ag.successors')}<input
                    name="successors"
                    maxlength="2000"
                    placeholder="H29.001"
                    value="${closeV.successors ?? ''}"
                    ${invalidAttrs(closeE, 'successors')}
                  />${fieldError(closeE, 'successors')}</label
                >
                <label
                  >${t('ag.closedAt')}${dateInput('at', closeV.at, closeE)}${fieldError(closeE, 'at')}</label
                >
                <label
                  >${t('ag.reason')}<input
                    name="reason"
                    maxlength="500"
                    value="${closeV.reason ?? ''}"
                    ${invalidAttrs(closeE, 'reason')}
                  />${fieldError(closeE, 'reason')}</label
                >
                <button type="submit" class="danger">${t('ag.closeSubmit')}</button>
              </form>
            </section>
            <section class="card" id="delivery">
              <h2>${t('ag.deliveryTitle')}</h2>
              ${deliveryForm(req, a, state?.form === 'delivery' ? state : undefined)}
            </section>
          </div>`
        : ''
    }`;
  return renderPage(req, { title: `${a.code} ${a.name}`, nav: 'agencies', flash: flash ?? null, body });
}

export function deliveryForm(
  req: Request,
  a: Pick<Agency, 'code' | 'delivery'>,
  refusedWith?: { values: Record<string, string>; errors: FormErrors },
): SafeHtml {
  const { t } = web(req);
  const errors = refusedWith?.errors ?? null;
  const mode = refusedWith?.values.mode ?? a.delivery.mode;
  const url = refusedWith ? refusedWith.values.url : a.delivery.url;
  return html`<form method="post" action="/ui/admin/agencies/${seg(a.code)}/delivery" class="stack">
    ${csrfField(req)}
    ${deliveryInputs(t, errors, { mode, url: url ?? '', cipherProtected: a.delivery.cipherProtected === true })}
    <button type="submit" class="primary">${t('form.save')}</button>
  </form>`;
}

/**
 * The fields of a delivery setting (mode, push URL, encryption), each refusal next to its field: the
 * unit page's delivery form and the endpoints page's form.
 */
export function deliveryInputs(
  t: Translator,
  errors: FormErrors | null,
  v: { mode: string; url: string; cipherProtected: boolean },
  o: { wide?: boolean } = {},
): SafeHtml {
  return html`<label
      >${t('ag.deliveryMode')}<select name="mode" ${invalidAttrs(errors, 'mode')}>
        ${DELIVERY_MODES.map((m) => option(m, t(`mode.${m}`), v.mode === m))}</select
      >${fieldError(errors, 'mode')}</label
    >
    <label class="${o.wide ? 'wide' : ''}"
      >${t('ag.deliveryUrl')}<input
        type="url"
        name="url"
        maxlength="500"
        value="${v.url}"
        placeholder="https://…"
        ${invalidAttrs(errors, 'url')}
      />${fieldError(errors, 'url')}</label
    >
    <label class="check"
      ><input type="checkbox" name="cipherProtected" value="1" ${v.cipherProtected ? raw(' checked') : ''} />
      ${t('ag.cipher')}</label
    >`;
}

/** The rows of an import: the codes assigned, or for a dry run the codes they would get now. */
function rowsTable(
  t: Translator,
  rows: readonly { line: number; code: string; name: string; parent: string | null }[],
  preview: boolean,
): SafeHtml {
  if (!rows.length) return raw('');
  const code = (c: string) =>
    preview ? html`<code>${c}</code>` : html`<a href="/ui/admin/agencies/${seg(c)}"><code>${c}</code></a>`;
  return html`${preview ? html`<h3>${t('imp.preview')}</h3>` : ''}
    <table class="list compact" id="${preview ? 'import-preview' : 'import-created'}">
      <thead>
        <tr>
          <th>${t('imp.line')}</th>
          <th>${t('ag.code')}</th>
          <th>${t('ag.name')}</th>
          <th>${t('ag.parent')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr>
              <td>${r.line}</td>
              <td>${code(r.code)}</td>
              <td>${r.name}</td>
              <td><code>${r.parent ?? ''}</code></td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/** Why an import failed, in the page's language (the per-row reasons follow in a table). */
function importFailure(req: Request, error: NonNullable<UiJob['error']>): string {
  const { t, lang } = web(req);
  if (error.code in ERROR_CODES) {
    const code = error.code as ErrorCode;
    const spec = lang === 'vi' ? ERROR_CODES[code].vi : ERROR_CODES[code].en;
    // Rows listed below: the sentence alone; otherwise the one reason, mapped like a row's.
    if (error.errors?.length) return spec;
    const en = ERROR_CODES[code].en;
    const reason = error.message.startsWith(`${en}: `) ? error.message.slice(en.length + 2) : '';
    const r = reason ? problemRefusal(reason, t) : null;
    return r ? `${spec}: ${r.text}` : lang === 'en' && reason ? `${spec}: ${reason}` : spec;
  }
  return lang === 'vi' ? (error.messageVi ?? error.message) : error.message;
}

function jobView(req: Request, job: NonNullable<Awaited<ReturnType<ImportJobs['get']>>>): SafeHtml {
  const { t, lang } = web(req);
  const stalled = isStalled(job);
  const pct = job.total ? Math.round((job.done / job.total) * 100) : 0;
  const result = job.result as
    | {
        dryRun: boolean;
        rows: number;
        created: number;
        closed: number;
        createdRows: { line: number; code: string; name: string; parent: string | null }[];
        previewRows?: { line: number; code: string; name: string; parent: string | null }[];
        splits: { code: string; successors: string[] }[];
      }
    | undefined;
  return html`<section
    class="card"
    id="job"
    data-job="${job.id}"
    data-state="${stalled ? 'stalled' : job.state}"
  >
    <h2>${t('imp.job')} <code class="small">${job.id}</code></h2>
    ${dl([
      [
        t('imp.state'),
        html`<span id="job-state">${stalled ? t('imp.stalled') : t(`imp.${job.state}`)}</span>`,
      ],
      [t('imp.startedAt'), fmtDateTime(job.startedAt, lang)],
      [t('imp.by'), job.actor],
    ])}
    ${
      job.state === 'running' && !stalled
        ? html`<p>
              <progress id="job-progress" max="100" value="${pct}">${pct}%</progress>
              <span id="job-phase"
                >${job.phase ? t(`imp.phase.${job.phase}` as 'imp.phase.validate') : ''}</span
              >
              <span id="job-count">${job.done}/${job.total}</span>
            </p>
            <p class="small muted">${t('imp.polling')}</p>`
        : ''
    }
    ${
      job.state === 'done' && result
        ? html`<div class="flash flash-ok">
              ${t(result.dryRun ? 'imp.dryRunOk' : 'imp.doneSummary', { rows: result.rows, created: result.created, closed: result.closed })}
            </div>
            ${result.splits.length ? html`<p class="warn">${t('imp.splits')}: ${result.splits.map((s) => html`<code>${s.code}</code> → ${s.successors.join(', ')}; `)}</p>` : ''}
            ${rowsTable(t, result.dryRun ? (result.previewRows ?? []) : result.createdRows, result.dryRun)}
            ${!result.dryRun && job.resultCsv !== undefined ? html`<p><a class="button" href="/ui/admin/imports/${seg(job.id)}/result.csv" download>${t('imp.resultCsv')}</a></p>` : ''}`
        : ''
    }
    ${
      job.state === 'failed' && job.error
        ? html`<div class="flash flash-error">${importFailure(req, job.error)}</div>
            ${
              job.error.errors?.length
                ? html`<table class="list compact" id="import-errors">
                    <thead>
                      <tr>
                        <th>${t('imp.line')}</th>
                        <th>${t('ref.column')}</th>
                        <th>${t('imp.problem')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${job.error.errors.map((e) => {
                        const r = rowRefusal(e, t, lang);
                        return html`<tr>
                          <td>${e.line}</td>
                          <td><code>${r.field ?? ''}</code></td>
                          <td>${r.text}</td>
                        </tr>`;
                      })}
                    </tbody>
                  </table>`
                : ''
            }`
        : ''
    }
  </section>`;
}

async function importPage(req: Request, jobs: ImportJobs, flash?: Flash | null): Promise<string> {
  const { t, lang } = web(req);
  const recent = await jobs.recent(10);
  const body = html`<p class="crumbs"><a href="/ui/admin/agencies">${t('nav.agencies')}</a></p>
    <h1>${t('ag.import')}</h1>
    <section class="card">
      <p>${t('imp.intro')}</p>
      <p>
        <a class="button" id="import-template" href="/ui/admin/agencies/import/template.csv" download
          >${t('imp.template')}</a
        >
        <span class="small muted">${t('imp.templateHint')}</span>
      </p>
      <details id="import-columns">
        <summary>${t('imp.columns')}</summary>
        <table class="list compact">
          <thead>
            <tr>
              <th>${t('imp.column')}</th>
              <th>${t('imp.meaning')}</th>
            </tr>
          </thead>
          <tbody>
            ${TEMPLATE_COLUMNS.map(
              (c) =>
                html`<tr>
                  <td><code>${c}</code></td>
                  <td>${t(`imp.col.${c}`)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </details>
      <form method="post" action="/ui/admin/agencies/import" class="stack" id="import-form">
        ${csrfField(req)}
        <label>${t('imp.file')}<input type="file" accept=".csv,text/csv,.txt" data-fill="csv" /></label>
        <label>${t('imp.csv')}<textarea name="csv" rows="10" spellcheck="false" required></textarea></label>
        <label>${t('ag.validFrom')}${dateInput('validFrom')}</label>
        <label class="check"><input type="checkbox" name="dryRun" value="1" /> ${t('imp.dryRun')}</label>
        <button type="submit" class="primary">${t('imp.submit')}</button>
      </form>
    </section>
    <section class="card">
      <h2>${t('imp.recent')}</h2>
      ${
        recent.length
          ? html`<table class="list compact">
              <thead>
                <tr>
                  <th>${t('imp.startedAt')}</th>
                  <th>${t('imp.by')}</th>
                  <th>${t('imp.state')}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${recent.map(
                  (j) =>
                    html`<tr>
                      <td>${fmtDateTime(j.startedAt, lang)}</td>
                      <td>${j.actor}</td>
                      <td>${isStalled(j) ? t('imp.stalled') : t(`imp.${j.state}`)}</td>
                      <td><a href="/ui/admin/imports/${seg(j.id)}">${t('imp.open')}</a></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : empty(t('list.empty'))
      }
    </section>`;
  return renderPage(req, { title: t('ag.import'), nav: 'agencies', flash: flash ?? null, body });
}

export function adminAgenciesRouter(deps: {
  directory: DirectoryService;
  imports: ImportJobs;
  maxImportBytes: number;
}): Router {
  const r = express.Router();
  const { directory, imports } = deps;
  const adminOnly = (req: Request) => {
    if (!canWrite(userOf(req))) throw new HubError('FORBIDDEN', 'auditors have read-only access');
  };

  r.get('/agencies', async (req, res) => {
    res.send(await searchPage(req, directory));
  });

  r.post('/agencies', async (req, res: Response) => {
    adminOnly(req);
    const v = formValues(req, REGISTER_FIELDS);
    try {
      if (field(req, 'preview') === '1') {
        // The preview step: the code the registration would get, reserving nothing.
        const next = await directory.previewCode(previewInput(v));
        res.send(await searchPage(req, directory, null, v, { nextCode: next?.code ?? null }));
        return;
      }
      const { agency } = await directory.register(actorOf(req), registerInput(v));
      res.redirect(303, `/ui/admin/agencies/${seg(agency.code)}?registered=1`);
    } catch (err) {
      const { flash, errors } = refused(req, err, REGISTER_FIELDS);
      res
        .status(isHubError(err) ? err.status : 500)
        .send(await searchPage(req, directory, flash, v, { errors }));
    }
  });

  // Search-as-you-type for the parent and province fields (app.js): active units whose code
  // starts with, or whose name contains, what was typed (without diacritics or case), bounded.
  r.get('/agencies/lookup', async (req, res) => {
    adminOnly(req);
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : '';
    const topLevel = req.query.scope === 'province';
    res.setHeader('Cache-Control', 'no-store');
    if (!q) {
      res.json({ items: [] });
      return;
    }
    const base = { status: 'active', limit: LOOKUP_LIMIT, ...(topLevel ? { topLevel: true } : {}) };
    const code = normalizeCode(q);
    const [byCode, byName] = await Promise.all([
      /^[A-Z0-9.]{1,35}$/.test(code) ? directory.search({ ...base, code }) : { items: [] },
      directory.search({ ...base, q }),
    ]);
    const key = nameKey(q);
    const seen = new Set<string>();
    const items = [...byCode.items, ...byName.items]
      .filter((a) => !seen.has(a.code) && seen.add(a.code))
      // Names that start with what was typed first, then the others, each in code order.
      .sort((x, y) => Number(!nameKey(x.name).startsWith(key)) - Number(!nameKey(y.name).startsWith(key)))
      .slice(0, LOOKUP_LIMIT)
      .map((a) => ({ code: a.code, name: a.name, ...(a.province ? { province: a.province } : {}) }));
    res.json({ items });
  });

  // The code a registration would get now (live preview in app.js): read only, reserves nothing.
  r.get('/agencies/next-code', async (req, res) => {
    adminOnly(req);
    const qv = (k: string, max: number) =>
      typeof req.query[k] === 'string' ? req.query[k].trim().slice(0, max) : '';
    const v = { parent: qv('parent', 40), province: qv('province', 10), block: qv('block', 10) };
    res.setHeader('Cache-Control', 'no-store');
    try {
      const next = await directory.previewCode(previewInput(v));
      res.json({ code: next?.code ?? null, parent: next?.parent ?? null });
    } catch (err) {
      const { t, lang } = web(req);
      if (!isHubError(err)) throw err;
      const errors = formErrors(err, t, lang, REGISTER_FIELDS);
      res.json({
        code: null,
        errors: Object.fromEntries(errors.fields),
        message: [errors.summary, ...errors.general].join(' — '),
      });
    }
  });

  r.get('/agencies/import/template.csv', (req, res) => {
    adminOnly(req);
    res.setHeader('Content-Disposition', 'attachment; filename="mau-nhap-don-vi.csv"');
    res.type('text/csv; charset=utf-8').send(importTemplateCsv());
  });

  r.get('/agencies/export', async (req, res) => {
    const format = req.query.format === 'json' ? 'json' : 'csv';
    await streamExport(directory, format, res);
  });

  r.get('/agencies/import', async (req, res) => {
    adminOnly(req);
    res.send(await importPage(req, imports));
  });

  r.post('/agencies/import', async (req, res) => {
    adminOnly(req);
    const csv = textField(req, 'csv', deps.maxImportBytes);
    const validFromS = field(req, 'validFrom', 10);
    const validFrom = validFromS ? parseFormDate(validFromS) : undefined;
    if (!csv.trim() || validFrom === null) {
      const { t } = web(req);
      res.status(400).send(
        await importPage(req, imports, {
          kind: 'error',
          text: t(validFrom === null ? 'form.badDate' : 'imp.noFile'),
        }),
      );
      return;
    }
    const id = await imports.start(actorOf(req), csv, {
      dryRun: field(req, 'dryRun') === '1',
      ...(validFrom ? { validFrom } : {}),
    });
    res.redirect(303, `/ui/admin/imports/${seg(id)}`);
  });

  r.get('/imports/:id', async (req, res) => {
    const { t } = web(req);
    const job = await imports.get(req.params.id);
    if (!job) throw new HubError('NOT_FOUND', `no import job ${req.params.id}`);
    const running = job.state === 'running' && !isStalled(job);
    res.send(
      renderPage(req, {
        title: t('ag.import'),
        nav: 'agencies',
        // Without JavaScript the page reloads itself while the import runs.
        ...(running ? { head: raw('<noscript><meta http-equiv="refresh" content="2"></noscript>') } : {}),
        body: html`<p class="crumbs">
            <a href="/ui/admin/agencies">${t('nav.agencies')}</a> ·
            <a href="/ui/admin/agencies/import">${t('ag.import')}</a>
          </p>
          <h1>${t('ag.import')}</h1>
          ${jobView(req, job)}`,
      }),
    );
  });

  r.get('/imports/:id/status', async (req, res) => {
    const job = await imports.get(req.params.id);
    if (!job) throw new HubError('NOT_FOUND', `no import job ${req.params.id}`);
    const { t } = web(req);
    res.json({
      id: job.id,
      state: isStalled(job) ? 'stalled' : job.state,
      phase: job.phase ?? null,
      phaseLabel: job.phase ? t(`imp.phase.${job.phase}` as 'imp.phase.validate') : '',
      done: job.done,
      total: job.total,
    });
  });

  r.get('/imports/:id/result.csv', async (req, res) => {
    const job = await imports.get(req.params.id);
    if (!job || job.resultCsv === undefined)
      throw new HubError('NOT_FOUND', 'no result file for this import');
    res.setHeader('Content-Disposition', `attachment; filename="import-${job.id}.csv"`);
    res.type('text/csv; charset=utf-8').send('\uFEFF' + job.resultCsv);
  });

  r.get('/agencies/:code', async (req, res) => {
    const { t } = web(req);
    const flash: Flash | null = req.query.registered
      ? { kind: 'ok', text: t('ag.registered', { code: req.params.code }) }
      : req.query.ok
        ? { kind: 'ok', text: t('form.saved') }
        : null;
    res.send(await agencyPage(req, directory, req.params.code, flash));
  });

  r.post('/agencies/:code/close', async (req, res) => {
    adminOnly(req);
    const values = formValues(req, CLOSE_FIELDS);
    const atDate = values.at ? parseFormDate(values.at.slice(0, 10)) : undefined;
    try {
      if (atDate === null) throw new HubError('VALIDATION_FAILED', 'the date must be dd/mm/yyyy');
      await directory.close(actorOf(req), req.params.code, {
        successors: codeList(values.successors!.slice(0, 2000)),
        ...(atDate ? { at: atDate } : {}),
        ...(values.reason ? { reason: values.reason.slice(0, 500) } : {}),
      });
      res.redirect(303, `/ui/admin/agencies/${seg(req.params.code)}?ok=1`);
    } catch (err) {
      const { flash, errors } = refused(req, err, CLOSE_FIELDS);
      res
        .status(isHubError(err) ? err.status : 500)
        .send(await agencyPage(req, directory, req.params.code, flash, { form: 'close', values, errors }));
    }
  });

  r.post('/agencies/:code/delivery', async (req, res) => {
    adminOnly(req);
    try {
      await updateDelivery(req, directory, req.params.code);
      res.redirect(303, `/ui/admin/agencies/${seg(req.params.code)}?ok=1`);
    } catch (err) {
      const { flash, errors } = refused(req, err, DELIVERY_FIELDS);
      const values = formValues(req, DELIVERY_FIELDS);
      res
        .status(isHubError(err) ? err.status : 500)
        .send(await agencyPage(req, directory, req.params.code, flash, { form: 'delivery', values, errors }));
    }
  });

  return r;
}

/** Sets an agency's delivery mode, endpoint URL and cipher-protected flag from a form. */
export async function updateDelivery(
  req: Request,
  directory: DirectoryService,
  code: string,
): Promise<Agency> {
  const mode = field(req, 'mode', 10) as DeliveryMode;
  if (!DELIVERY_MODES.includes(mode))
    throw new HubError('VALIDATION_FAILED', 'mode must be pull, push or amqp');
  const url = field(req, 'url', 500);
  return directory.update(actorOf(req), code, {
    delivery: {
      mode,
      ...(url ? { url } : {}),
      ...(field(req, 'cipherProtected') === '1' ? { cipherProtected: true } : {}),
    },
  });
}
