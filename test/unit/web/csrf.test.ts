/** Anti-forgery checks of the web UI (src/web/csrf.ts) and the cookie helpers. */
import { expect } from 'chai';
import { csrfProblem, newCsrfToken, tokensEqual, type CsrfInput } from '../../../src/web/csrf.ts';
import { parseCookies, serializeCookie } from '../../../src/web/cookies.ts';
import { safeNext } from '../../../src/web/context.ts';

const token = newCsrfToken();
const ok: CsrfInput = {
  method: 'POST',
  host: 'hub.example.vn',
  origin: 'https://hub.example.vn',
  secFetchSite: 'same-origin',
  expected: token,
  given: token,
};

describe('CSRF protection', () => {
  it('lets safe methods through without a token', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      expect(csrfProblem({ ...ok, method, given: undefined, expected: undefined })).to.equal(null);
  });

  it('accepts a state-changing request with the session token from the same origin', () => {
    expect(csrfProblem(ok)).to.equal(null);
    expect(csrfProblem({ ...ok, origin: undefined, secFetchSite: undefined })).to.equal(null); // older clients
    expect(csrfProblem({ ...ok, origin: 'http://HUB.example.vn' })).to.equal(null); // scheme may differ behind TLS offload
  });

  it('refuses a missing token, a wrong token, a token of another length, and no expected token', () => {
    expect(csrfProblem({ ...ok, given: undefined })).to.contain('missing');
    expect(csrfProblem({ ...ok, given: '' })).to.contain('missing');
    expect(csrfProblem({ ...ok, given: newCsrfToken() })).to.contain('does not match');
    expect(csrfProblem({ ...ok, given: token.slice(1) })).to.contain('does not match');
    expect(csrfProblem({ ...ok, expected: undefined })).to.contain('does not match');
    for (const method of ['PUT', 'PATCH', 'DELETE', 'post'])
      expect(csrfProblem({ ...ok, method, given: undefined }), method).to.contain('missing');
  });

  it('refuses requests from another site even with the right token', () => {
    expect(csrfProblem({ ...ok, origin: 'https://evil.example' })).to.contain('another origin');
    expect(csrfProblem({ ...ok, origin: 'https://hub.example.vn.evil.example' })).to.contain(
      'another origin',
    );
    expect(csrfProblem({ ...ok, origin: 'not a url' })).to.contain('another origin');
    expect(csrfProblem({ ...ok, secFetchSite: 'cross-site' })).to.contain('cross-site');
    expect(csrfProblem({ ...ok, origin: 'null', secFetchSite: 'cross-site' })).to.contain('cross-site');
    expect(csrfProblem({ ...ok, origin: 'null', secFetchSite: undefined })).to.contain('another origin');
    expect(csrfProblem({ ...ok, origin: 'null', secFetchSite: 'same-origin' })).to.equal(null);
  });

  it('compares tokens in constant time and makes 256-bit random tokens', () => {
    expect(tokensEqual('abc', 'abc')).to.equal(true);
    expect(tokensEqual('abc', 'abd')).to.equal(false);
    expect(tokensEqual('abc', 'abcd')).to.equal(false);
    expect(tokensEqual(undefined, undefined)).to.equal(false);
    expect(Buffer.from(newCsrfToken(), 'base64url')).to.have.length(32);
    expect(newCsrfToken()).not.to.equal(newCsrfToken());
  });

  it('writes HttpOnly, SameSite cookies (Secure over TLS) and parses cookie headers', () => {
    expect(serializeCookie('hub_session', 'abc', { path: '/ui', sameSite: 'Lax', secure: true })).to.equal(
      'hub_session=abc; Path=/ui; SameSite=Lax; HttpOnly; Secure',
    );
    expect(serializeCookie('x', '', { path: '/ui', sameSite: 'Strict', maxAge: 0 })).to.contain('Max-Age=0');
    const c = parseCookies('a=1; hub_session=tok%3D; a=2; broken; b="q"');
    expect(c.get('a')).to.equal('1');
    expect(c.get('hub_session')).to.equal('tok=');
    expect(c.get('b')).to.equal('q');
  });

  it('redirects only inside the UI after login (no open redirect)', () => {
    expect(safeNext('/ui/documents/1?x=2')).to.equal('/ui/documents/1?x=2');
    for (const bad of [
      'https://evil.example/ui/',
      '//evil.example/ui',
      '/ui\\..\\x',
      '/v1/inbox',
      'javascript:alert(1)',
      42,
    ])
      expect(safeNext(bad, '/ui/'), String(bad)).to.equal('/ui/');
  });
});
