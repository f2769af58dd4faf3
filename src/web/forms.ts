/** Reading urlencoded form fields (bodies parsed by express.urlencoded, extended: false). */
import type { Request } from 'express';

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
export function codeList(s: string): string[] {
  return s
    .split(/[\s,;]+/)
    .map((c) => c.trim())
    .filter(Boolean);
}

export function formValues(req: Request, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, field(req, n)]));
}
