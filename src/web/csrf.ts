/**
 * Anti-forgery checks of the web UI. Every state-changing request (anything but GET/HEAD/OPTIONS)
 * must carry the session's CSRF token (synchronizer token: a hidden `_csrf` field, or the
 * X-CSRF-Token header for scripts), compared in constant time; before login, the login form uses
 * a double-submit cookie. In addition, a request that a browser marks as coming from another site
 * (Origin of another host, or Sec-Fetch-Site: cross-site) is refused outright. The session cookie
 * is SameSite=Lax as a further layer.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokensEqual(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface CsrfInput {
  readonly method: string;
  /** The Host header of the request. */
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly secFetchSite: string | undefined;
  /** The token the server expects (session token, or the login cookie). */
  readonly expected: string | undefined;
  /** The token the request carries (form field or header). */
  readonly given: string | undefined;
}

/**
 * The part of the check that needs no body: a request the browser marks as coming from another
 * origin. null when the request may proceed; otherwise why it is refused.
 */
export function crossSiteProblem(r: Omit<CsrfInput, 'expected' | 'given'>): string | null {
  if (SAFE_METHODS.has(r.method.toUpperCase())) return null;
  if (r.secFetchSite === 'cross-site') return 'cross-site request';
  // Browsers send "Origin: null" for some same-origin requests (privacy settings, referrer policy);
  // Sec-Fetch-Site then still tells where the request came from.
  const opaqueSameOrigin = r.origin === 'null' && r.secFetchSite === 'same-origin';
  if (r.origin !== undefined && r.origin !== '' && !opaqueSameOrigin) {
    let originHost: string | null;
    try {
      originHost = r.origin === 'null' ? null : new URL(r.origin).host;
    } catch {
      originHost = null;
    }
    if (!originHost || !r.host || originHost.toLowerCase() !== r.host.toLowerCase())
      return `request from another origin (${r.origin})`;
  }
  return null;
}

/** null when the request may proceed; otherwise why it is refused. */
export function csrfProblem(r: CsrfInput): string | null {
  if (SAFE_METHODS.has(r.method.toUpperCase())) return null;
  const crossSite = crossSiteProblem(r);
  if (crossSite) return crossSite;
  if (!r.given) return 'the anti-forgery token is missing';
  if (!tokensEqual(r.expected, r.given)) return 'the anti-forgery token does not match';
  return null;
}
