/** Cookie parsing and serialization for the web UI (no dependency: a handful of cookies, all ours). */

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!name || out.has(name)) continue; // the first one wins (most specific path)
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      // not ours: ignored
    }
  }
  return out;
}

export interface CookieOptions {
  readonly path: string;
  readonly httpOnly?: boolean;
  readonly secure?: boolean;
  readonly sameSite: 'Strict' | 'Lax';
  /** Seconds; 0 deletes the cookie; absent = until the browser closes. */
  readonly maxAge?: number;
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${o.path}`, `SameSite=${o.sameSite}`];
  if (o.httpOnly !== false) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  if (o.maxAge !== undefined) {
    parts.push(`Max-Age=${o.maxAge}`);
    if (o.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  return parts.join('; ');
}
