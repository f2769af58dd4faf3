/** Small pieces shared by the pages: badges, agency labels, pagers, definition lists. */
import { PRIORITY, STATUS_CODES } from '../domain/edxml/model.ts';
import type { BusinessState } from '../domain/status.ts';
import type { DocumentRecord } from '../domain/types.ts';
import { html, href, seg, type HtmlValue, type SafeHtml } from './html.ts';
import type { Lang, Translator } from './i18n.ts';

export function statusLabel(code: string | null, lang: Lang, t: Translator): string {
  if (code === null) return t('status.none');
  if (code === 'recalled') return t('status.recalled');
  const s = STATUS_CODES[code as keyof typeof STATUS_CODES];
  return s ? `${code} · ${s[lang === 'vi' ? 'vi' : 'en']}` : code;
}

export function statusBadge(state: BusinessState, lang: Lang, t: Translator): SafeHtml {
  const code = state.code;
  const cls =
    code === null
      ? 'none'
      : code === '02' || code === 'recalled'
        ? 'bad'
        : code === '06'
          ? 'done'
          : code === '01'
            ? 'info'
            : 'progress';
  return html`<span class="badge badge-${cls}" data-status="${code ?? 'none'}"
      >${statusLabel(code, lang, t)}</span
    >${
      state.pending
        ? html` <span class="badge badge-warn"
            >${t(state.pending === 'recall' ? 'status.pendingRecall' : 'status.pendingUpdate')}</span
          >`
        : ''
    }`;
}

export function codeLabel(code: string, lang: Lang): string {
  const s = STATUS_CODES[code as keyof typeof STATUS_CODES];
  return s ? `${code} · ${s[lang === 'vi' ? 'vi' : 'en']}` : code;
}

export function priorityLabel(p: number | undefined, lang: Lang): string {
  const v = PRIORITY[(p ?? 0) as keyof typeof PRIORITY];
  return v ? (lang === 'vi' ? v.vi : v.en) : String(p);
}

export function priorityBadge(p: number | undefined, lang: Lang): SafeHtml {
  const n = p ?? 0;
  return n === 0
    ? html`<span class="muted">${priorityLabel(n, lang)}</span>`
    : html`<span class="badge badge-urgent-${n}">${priorityLabel(n, lang)}</span>`;
}

export function transportBadge(tr: string, t: Translator): SafeHtml {
  const cls = tr === 'failed' || tr === 'dead-lettered' ? 'bad' : tr === 'queued' ? 'warn' : 'done';
  return html`<span class="badge badge-${cls}" data-transport="${tr}"
    >${t(`transport.${tr}` as Parameters<Translator>[0])}</span
  >`;
}

/** An agency: its code (linked for administrators) and name. */
export function agency(code: string, names: ReadonlyMap<string, string>, link = false): SafeHtml {
  const name = names.get(code);
  const c = link
    ? html`<a href="/ui/admin/agencies/${seg(code)}"><code>${code}</code></a>`
    : html`<code>${code}</code>`;
  return name ? html`${c} <span class="name">${name}</span>` : c;
}

/**
 * The page numbers a pager shows: the first, the last, and `radius` either side of the current one;
 * null marks a gap ("…"). pageWindow(7, 20) → [1, null, 5, 6, 7, 8, 9, null, 20].
 */
export function pageWindow(page: number, pages: number, radius = 2): (number | null)[] {
  const out: (number | null)[] = [];
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - page) <= radius) out.push(p);
    else if (out.at(-1) !== null) out.push(null);
  }
  return out;
}

export function pager(
  path: string,
  query: Record<string, string | number | undefined>,
  page: number,
  pages: number,
  t: Translator,
): SafeHtml {
  if (pages <= 1) return html``;
  const numbers = pageWindow(page, pages).map((p) =>
    p === null
      ? html`<span class="gap" aria-hidden="true">…</span>`
      : p === page
        ? html`<span class="current" aria-current="page">${p}</span>`
        : html`<a href="${href(path, { ...query, page: p })}" data-page="${p}">${p}</a>`,
  );
  return html`<nav class="pager" aria-label="${t('pager.label')}">
    ${page > 1 ? html`<a rel="prev" href="${href(path, { ...query, page: page - 1 })}">‹ ${t('pager.prev')}</a>` : html`<span class="muted">‹ ${t('pager.prev')}</span>`}
    <span class="pages">${numbers}</span>
    <span class="muted">${t('pager.page', { page, pages })}</span>
    ${page < pages ? html`<a rel="next" href="${href(path, { ...query, page: page + 1 })}">${t('pager.next')} ›</a>` : html`<span class="muted">${t('pager.next')} ›</span>`}
  </nav>`;
}

/** A document's "number/notation" as written, or a dash. */
export function numberOf(doc: DocumentRecord): string {
  const { codeNumber, codeNotation } = doc.meta;
  return codeNumber || codeNotation ? `${codeNumber ?? ''}${codeNotation ? `/${codeNotation}` : ''}` : '—';
}

export function dl(rows: readonly (readonly [string, HtmlValue] | null | false)[]): SafeHtml {
  return html`<dl class="meta">
    ${rows
      .filter((r): r is readonly [string, HtmlValue] => !!r)
      .map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd>${v === undefined || v === null || v === '' ? '—' : v}</dd>`,
      )}
  </dl>`;
}

export function empty(text: string): SafeHtml {
  return html`<p class="empty">${text}</p>`;
}

export function option(value: string, label: string, selected: boolean): SafeHtml {
  return html`<option value="${value}" ${selected ? html` selected` : ''}>${label}</option>`;
}
