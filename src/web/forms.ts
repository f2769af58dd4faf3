/**
 * Reading urlencoded form fields (bodies parsed by express.urlencoded, extended: false), and showing
 * a refusal next to the field it concerns (issue 19 §2: aria-invalid + aria-describedby).
 */
import type { Request } from 'express';
import { isHubError } from '../domain/errors.ts';
import { splitList } from '../directory/csv.ts';
import { web } from './context.ts';
import { html, raw, type SafeHtml } from './html.ts';
import type { Flash } from './layout.ts';
import { formErrors, type FormErrors } from './refusals.ts';

export function field(req: Request, name: string, max = 1000): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  const s: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof s === 'string' ? s.trim().slice(0, max) : '';
}

/** A long text field (CSV, PEM) without trimming inner content. */
export function textField(req: Request, name: string, max: number): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  const s: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof s === 'string' ? s.slice(0, max) : '';
}

/** Codes separated by commas, semicolons or spaces. */
export const codeList = (s: string): string[] => splitList(s);

export function formValues(req: Request, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, field(req, n)]));
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Attributes of an input whose value was refused: aria-invalid and the id of its message. */
export function invalidAttrs(errors: FormErrors | null | undefined, name: string): SafeHtml {
  if (!errors?.fields.has(name) || !FIELD_NAME.test(name)) return raw('');
  return raw(` aria-invalid="true" aria-describedby="err-${name}"`);
}

/** The refusals of one field, shown under it (nothing when the field was not refused). */
export function fieldError(errors: FormErrors | null | undefined, name: string): SafeHtml {
  const texts = errors?.fields.get(name);
  if (!texts?.length || !FIELD_NAME.test(name)) return raw('');
  return html`<span class="field-error" id="err-${name}">${texts.join(' ')}</span>`;
}

/** A refused form: the refusal's sentence on top, and each problem next to its field. */
export interface Refused {
  readonly flash: Flash;
  readonly errors: FormErrors;
}

export function refused(req: Request, err: unknown, formFields: readonly string[]): Refused {
  if (!isHubError(err)) throw err;
  const { t, lang } = web(req);
  const errors = formErrors(err, t, lang, formFields);
  const text = [errors.summary, ...errors.general, ...(errors.fields.size ? [t('ref.fixFields')] : [])];
  return { flash: { kind: 'error', text: text.join(' — ') }, errors };
}

/** A refusal as a flash only (a form without field errors): the sentence in the page's language. */
export function errorFlash(req: Request, err: unknown): Flash {
  return refused(req, err, []).flash;
}
