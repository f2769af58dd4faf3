/**
 * Logs (issue 23, docs/deployment.md ## Logs): every line names the role, pid and host; one access
 * line per request with the caller; a 401 names the system it claimed, labelled as such; the query
 * string (where secrets may be) never reaches the log. Lines are captured from the hub's own logger.
 */
import { hostname } from 'node:os';
import { expect } from 'chai';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { CONTENT_SHA256_HEADER, sha256Hex, signRequest } from '../../src/http/hmac-auth.ts';

const H29 = { systemId: 'dms-H29.001', secret: 'DEV-ONLY-secret-H29.001' }; // DEV-ONLY seed credential

type Line = Record<string, unknown>;

function signedHeaders(who: { systemId: string; secret: string }, pathWithQuery: string) {
  const bodySha256 = sha256Hex(Buffer.alloc(0));
  return {
    authorization: signRequest(who.systemId, who.secret, {
      method: 'GET',
      pathWithQuery,
      timestamp: Math.floor(Date.now() / 1000),
      bodySha256,
    }),
    [CONTENT_SHA256_HEADER]: bodySha256,
  };
}

describe('ops: structured logs and the access log', function () {
  this.timeout(60_000);
  let t: TestHub;
  const raw: string[] = [];
  const lines = (): Line[] => raw.map((s) => JSON.parse(s) as Line);
  const accessLine = (requestId: string) =>
    eventually(
      () => lines().find((l) => l.access === true && l.requestId === requestId),
      5000,
      'access line',
    );

  before(async () => {
    const log = createLogger('info', {}, { write: (s: string) => void raw.push(s) });
    t = await startTestHub('opslogs', {}, { log });
  });
  after(async () => {
    await t?.close();
  });

  it('carries the role, pid and host on every line', () => {
    const all = lines();
    expect(all.length).to.be.greaterThan(0);
    for (const l of all) {
      expect(l).to.include({ svc: 'vn-dochub', pid: process.pid, host: hostname() });
      expect(l.role).to.equal('api+worker');
    }
  });

  it('writes one access line per request naming the authenticated system', async () => {
    const res = await fetch(`${t.url}/v1/inbox`, { headers: signedHeaders(H29, '/v1/inbox') });
    expect(res.status).to.equal(200);
    const id = res.headers.get('x-request-id')!;
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    const line = await accessLine(id);
    expect(line).to.include({ method: 'GET', path: '/v1/inbox', status: 200, system: 'dms-H29.001' });
    expect(line.durationMs).to.be.a('number').and.at.least(0);
    expect(line).not.to.have.property('claimedSystem');
    expect(lines().filter((l) => l.requestId === id && l.access)).to.have.length(1);
  });

  it('names the claimed system of a 401, never trusted, and keeps the query out of the log', async () => {
    const path = '/v1/inbox?token=QUERY-SECRET-123';
    const res = await fetch(`${t.url}${path}`, {
      headers: signedHeaders({ systemId: 'dms-H29.001', secret: 'wrong-secret' }, path),
    });
    expect(res.status).to.equal(401);
    const body = (await res.json()) as { id: string };
    const id = res.headers.get('x-request-id')!;
    expect(body.id, 'the error id is the request id').to.equal(id);
    const line = await accessLine(id);
    expect(line).to.include({ path: '/v1/inbox', status: 401, claimedSystem: 'dms-H29.001' });
    expect(line).not.to.have.property('system');
    expect(raw.join('\n')).not.to.include('QUERY-SECRET-123');
  });

  it('keeps the id a proxy gave the request, and replaces one that is not plausible', async () => {
    const kept = await fetch(`${t.url}/v1/openapi.json`, { headers: { 'x-request-id': 'proxy-abc-12345' } });
    expect(kept.headers.get('x-request-id')).to.equal('proxy-abc-12345');
    await accessLine('proxy-abc-12345');
    const replaced = await fetch(`${t.url}/v1/openapi.json`, { headers: { 'x-request-id': 'bad id\t"x' } });
    expect(replaced.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });
});
