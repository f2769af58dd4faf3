/**
 * Strict HTML escaping for server-rendered pages. Every interpolated value of the `html` tag is
 * escaped unless it is itself SafeHtml (made by `html` or, for constants only, `raw`). Attribute
 * values are always double-quoted in the templates, and escaping covers & < > " ' ` so a value can
 * end neither an element nor an attribute. URLs are built with `href()`, which only lets relative
 * paths and http(s) through.
 */

export class SafeHtml {
  readonly #s: string;
  constructor(s: string) {
    this.#s = s;
  }
  toString(): string {
    return this.#s;
  }
}

const ESC: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESC[c]!);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.toString();
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(v);
}

/** Tagged template: `html\`<p>${userText}</p>\`` escapes userText. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Trusted markup (constants written in this code base). Never pass user data here. */
export function raw(s: string): SafeHtml {
  return new SafeHtml(s);
}

export function join(items: readonly HtmlValue[], sep: HtmlValue = ''): SafeHtml {
  return new SafeHtml(items.map(render).join(render(sep)));
}

/**
 * A URL safe for an href/src/action attribute: a path of this site (starting with one "/", not
 * "//"), or an http(s) URL; anything else (javascript:, data:, …) becomes "#".
 */
export function safeUrl(u: string): string {
  if (/^\/(?![/\\])/.test(u)) return u;
  if (/^https?:\/\//i.test(u)) return u;
  return '#';
}

/** A path with a query string; empty values are left out. Returned as a plain string (escaped when interpolated). */
export function href(
  path: string,
  query: Record<string, string | number | boolean | undefined | null> = {},
): string {
  const qs = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return safeUrl(qs ? `${path}?${qs}` : path);
}

/** A path segment (codes and ids in URLs). */
export const seg = (s: string) => encodeURIComponent(s);
