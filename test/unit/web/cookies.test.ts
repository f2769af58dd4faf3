/** The web UI's cookie attributes as the configuration decides them (issue 18 §6). */
import path from 'node:path';
import { expect } from 'chai';
import type { Request, Response } from 'express';
import { loadConfig, PROJECT_ROOT } from '../../../src/config.ts';
import { secureCookiesFor, setSessionCookie, type WebContext } from '../../../src/web/context.ts';

const production = (env: Record<string, string> = {}) =>
  loadConfig({
    HUB_CONFIG: path.join(PROJECT_ROOT, 'config/production.json'),
    CREDENTIALS_KEY: 'unit-test-credentials-key-0123456789abcdef',
    HUB_PINS: 'ab'.repeat(32), // production refuses to start without pinned hub certificates
    MONGODB_URI: 'mongodb://127.0.0.1:27017/dochub', // and without the addresses from the environment
    AMQP_URL: 'amqp://hub:secret@127.0.0.1:5672',
    ...env,
  });

/** The Set-Cookie header of a new session, for a request that did (not) come over TLS. */
function sessionCookie(http: { publicUrl: string; secureCookies: boolean }, overTls: boolean): string {
  const secure = secureCookiesFor(http)({ secure: overTls } as Request);
  const headers: string[] = [];
  const res = { append: (_name: string, v: string) => headers.push(v) } as unknown as Response;
  setSessionCookie(res, { secureCookies: secure } as WebContext, 'token');
  return headers[0]!;
}

describe('web UI cookies from the configuration', () => {
  it('marks the session cookie Secure in the production configuration whatever PUBLIC_URL says', () => {
    for (const publicUrl of ['', 'http://hub.internal:8080']) {
      const c = sessionCookie(production({ PUBLIC_URL: publicUrl }).http, false);
      expect(c.split('; ')).to.include.members(['hub_session=token', 'Secure', 'HttpOnly', 'SameSite=Lax']);
    }
  });

  it('marks it Secure in development only over TLS or with an https PUBLIC_URL', () => {
    const dev = loadConfig({}).http;
    expect(sessionCookie(dev, false).split('; ')).not.to.include('Secure');
    expect(sessionCookie(dev, true).split('; ')).to.include('Secure');
    const https = loadConfig({ PUBLIC_URL: 'https://hub.gov.vn' }).http;
    expect(sessionCookie(https, false).split('; ')).to.include('Secure');
  });
});
