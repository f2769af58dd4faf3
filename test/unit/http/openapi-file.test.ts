/** docs/openapi.json is the generated document (`npm run openapi`), and the contract helpers. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { HubError } from '../../../src/domain/errors.ts';
import { expressPath, issuesReason, type RouteSpec } from '../../../src/http/contract/route.ts';
import { V1_ROUTES } from '../../../src/http/contract/index.ts';
import { buildOpenApi, openApiText } from '../../../src/http/openapi.ts';

describe('OpenAPI document', () => {
  it('docs/openapi.json is up to date (else: npm run openapi)', () => {
    const file = readFileSync(path.join(PROJECT_ROOT, 'docs/openapi.json'), 'utf8');
    expect(file === openApiText(), 'docs/openapi.json is stale: run `npm run openapi`').to.equal(true);
  });

  it('refuses two descriptions of one route, and two different schemas under one name', () => {
    const r = V1_ROUTES[0]!;
    expect(() => buildOpenApi([r, r])).to.throw(/described twice/);
    const a = z.object({ a: z.string() }).meta({ id: 'Twice' });
    const b = z.object({ b: z.string() }).meta({ id: 'Twice' });
    const route = (json: z.ZodType, path: `/v1/${string}`): RouteSpec => ({
      method: 'get',
      path,
      operationId: 'x',
      tag: 'x',
      summary: 'x',
      auth: 'none',
      responses: { 200: { description: 'x', json } },
    });
    expect(() => buildOpenApi([route(a, '/v1/a'), route(b, '/v1/b')])).to.throw(/two different schemas/);
  });

  it('mounts a route under its router’s prefix, and names the refused fields', () => {
    const r = V1_ROUTES.find((x) => x.path === '/v1/admin/agencies/{code}/certificates/{fingerprint}')!;
    expect(expressPath(r, '/v1/admin')).to.equal('/agencies/:code/certificates/:fingerprint');
    expect(() => expressPath(r, '/v1/other')).to.throw(/cannot be mounted/);
    const err = z.object({ limit: z.number(), q: z.object({ x: z.string() }) }).safeParse({ q: {} }).error!;
    expect(issuesReason('query', err)).to.match(/^query\.limit: .+; query\.q\.x: /);
    expect(new HubError('VALIDATION_FAILED', issuesReason('query', err)).messageVi).to.match(
      /^Dữ liệu không hợp lệ: query\.limit/,
    );
  });
});
