/**
 * The /v1 contract (issue 21): every route the hub mounts is in the generated OpenAPI document and
 * nothing else is; the document is well-formed OpenAPI 3.1; requests are validated by the same
 * schemas (VALIDATION_FAILED naming the refused field); answers match the response schemas.
 */
import { expect } from 'chai';
import type { Express } from 'express';
import { z } from 'zod';
import { HubClient } from '../../src/sdk/client.ts';
import { V1_ROUTES } from '../../src/http/contract/index.ts';
import type { RouteSpec } from '../../src/http/contract/route.ts';
import { buildOpenApi } from '../../src/http/openapi.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  rawPath?: unknown;
  handle?: { stack?: LayerLike[] };
}

/** `METHOD /path/{param}` of every route reachable in an Express app, with the mount prefixes. */
function mountedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: readonly LayerLike[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths)
          for (const [m, on] of Object.entries(layer.route.methods))
            if (on && m !== '_all')
              found.push(`${m.toUpperCase()} ${(prefix + p).replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) {
        if (typeof layer.rawPath !== 'string') throw new Error('a router mounted at a non-string path');
        walk(layer.handle.stack, prefix + (layer.rawPath === '/' ? '' : layer.rawPath));
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '');
  return found;
}

const specRoutes = (doc: Record<string, unknown>) =>
  Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
    Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`),
  );

/** The subset of OpenAPI 3.1 the generator emits, checked strictly enough to catch a broken document. */
const Ref = z.object({ $ref: z.string().regex(/^#\/components\/schemas\/\w+$/) });
const Operation = z.object({
  operationId: z.string().regex(/^[a-z][A-Za-z0-9]*$/),
  tags: z.array(z.string()).length(1),
  summary: z.string().min(1),
  description: z.string().optional(),
  security: z.array(z.unknown()).optional(),
  parameters: z
    .array(
      z.object({
        name: z.string().min(1),
        in: z.enum(['path', 'query', 'header']),
        required: z.boolean(),
        description: z.string().optional(),
        schema: z.record(z.string(), z.unknown()),
      }),
    )
    .optional(),
  requestBody: z
    .object({
      required: z.boolean(),
      description: z.string().optional(),
      content: z.record(z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/), z.object({ schema: z.unknown() })),
    })
    .optional(),
  responses: z
    .record(
      z.string().regex(/^[1-5]\d\d$/),
      z.object({
        description: z.string().min(1),
        headers: z.record(z.string(), z.object({ description: z.string(), schema: z.unknown() })).optional(),
        content: z.record(z.string(), z.object({ schema: z.unknown().optional() })).optional(),
      }),
    )
    .refine((r) => Object.keys(r).some((s) => s.startsWith('2')), 'an operation answers some 2xx'),
});
const OpenApi31 = z.object({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.object({ title: z.string().min(1), version: z.string().min(1), description: z.string() }),
  servers: z.array(z.object({ url: z.string() })),
  tags: z.array(z.object({ name: z.string() })),
  security: z.array(z.record(z.string(), z.array(z.string()))),
  paths: z.record(
    z.string().regex(/^\/v1\//),
    z
      .object({
        get: Operation.optional(),
        post: Operation.optional(),
        put: Operation.optional(),
        patch: Operation.optional(),
        delete: Operation.optional(),
      })
      .strict(),
  ),
  components: z.object({
    securitySchemes: z.record(z.string(), z.object({ type: z.string() }).loose()),
    schemas: z.record(z.string(), z.record(z.string(), z.unknown())),
  }),
});

describe('API contract: route schemas, generated OpenAPI, request validation', function () {
  this.timeout(120_000);
  let t: TestHub;
  let admin: HubClient;
  let served: Record<string, unknown>;

  before(async () => {
    t = await startTestHub('contract');
    admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
    served = (await (await fetch(`${t.url}/v1/openapi.json`)).json()) as Record<string, unknown>;
  });
  after(async () => {
    await t?.close();
  });

  it('describes every mounted /v1 route, and only those', () => {
    const app = t.hub.server.listeners('request')[0] as Express;
    const mounted = mountedRoutes(app).filter((r) => r.split(' ')[1]!.startsWith('/v1/'));
    expect(mounted.length).to.be.at.least(30);
    const described = specRoutes(served);
    expect(
      mounted.filter((r) => !described.includes(r)),
      'mounted, not in the spec',
    ).to.deep.equal([]);
    expect(
      described.filter((r) => !mounted.includes(r)),
      'in the spec, not mounted',
    ).to.deep.equal([]);
    expect(new Set(mounted).size, 'a route mounted twice').to.equal(mounted.length);
  });

  it('serves the document generated from the route schemas, and it is well-formed OpenAPI 3.1', () => {
    expect(served).to.deep.equal(buildOpenApi());
    const doc = OpenApi31.parse(served);
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item));
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size, 'operationIds are unique').to.equal(ids.length);
    // Every path parameter is declared, required, in the path.
    for (const [p, item] of Object.entries(doc.paths))
      for (const op of Object.values(item)) {
        const names = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const declared = (op.parameters ?? []).filter((x) => x.in === 'path');
        expect(
          declared.map((x) => x.name),
          p,
        ).to.deep.equal(names);
        expect(declared.every((x) => x.required)).to.equal(true);
      }
    // Every reference resolves; every refusal is the one error envelope.
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/(\w+)"/g))
      expect(doc.components.schemas, name).to.have.property(name!);
    for (const op of ops)
      for (const [status, r] of Object.entries(op.responses))
        if (Number(status) >= 400)
          expect(Ref.parse(r.content?.['application/json']?.schema).$ref).to.match(/Error$/);
  });

  it('refuses a request its schema refuses: VALIDATION_FAILED naming the field, in both languages', async () => {
    const cases: [string, string, string | undefined, string][] = [
      ['GET', '/v1/inbox?limit=ten', undefined, 'query.limit'],
      ['GET', '/v1/inbox?type=letter', undefined, 'query.type'],
      ['GET', '/v1/inbox?type=edoc&type=status', undefined, 'query.type'],
      ['GET', '/v1/admin/deadletters?all=1', undefined, 'query.all'],
      ['GET', '/v1/agencies/changes?since=-1', undefined, 'query.since'],
      ['GET', '/v1/admin/agencies/export?format=xls', undefined, 'query.format'],
      [
        'POST',
        '/v1/admin/agencies',
        JSON.stringify({ name: 'X', block: 'army', kind: 'unit' }),
        'body.block',
      ],
      ['POST', '/v1/admin/agencies', JSON.stringify({ block: 'state', kind: 'unit' }), 'body.name'],
      ['POST', '/v1/admin/agencies', '[1]', 'body'],
      ['POST', '/v1/admin/agencies', '{not json', 'body'],
      [
        'PATCH',
        '/v1/admin/agencies/H29.001',
        JSON.stringify({ code: 'H29.999' }),
        'body: code cannot be changed',
      ],
      ['POST', '/v1/admin/systems', JSON.stringify({ systemId: 3 }), 'body.systemId'],
      ['POST', '/v1/inbox/x/ack', JSON.stringify({ result: 'fail' }), 'body.reason'],
      ['DELETE', '/v1/admin/agencies/H29.001/certificates/zz', undefined, 'params.fingerprint'],
      // An optional field sent as null is not absent: refused (docs/api.md).
      ['POST', '/v1/inbox/x/ack', JSON.stringify({ result: null }), 'body.result'],
      ['PATCH', '/v1/admin/agencies/H29.001', JSON.stringify({ name: null }), 'body.name'],
    ];
    for (const [method, path, body, where] of cases) {
      const res = await admin.request(method, path, body, body ? 'application/json' : undefined);
      const e = (await res.json()) as { code: string; message: string; messageVi: string; details: unknown };
      expect([res.status, e.code], `${method} ${path}`).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(e.message, `${method} ${path}`).to.contain(where);
      expect(e.messageVi)
        .to.match(/^Dữ liệu không hợp lệ: /)
        .and.contain(where);
    }
  });

  it('refuses a raw body of a media type its route does not take (UNSUPPORTED_MEDIA_TYPE)', async () => {
    const res = await t.client('H29.001').request('POST', '/v1/documents', '{}', 'application/json');
    const e = (await res.json()) as { code: string; message: string };
    expect([res.status, e.code]).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(e.message).to.contain('application/xml');
  });

  it('answers what the response schemas say (read-only routes)', async () => {
    const dms = t.client('H29.001');
    const reads: [HubClient, RouteSpec, string][] = [
      [dms, route('searchAgencies'), '/v1/agencies?q=ha+noi&limit=3'],
      [dms, route('agencyChanges'), '/v1/agencies/changes?since=0&limit=5'],
      [dms, route('getAgency'), '/v1/agencies/H29.001'],
      [dms, route('agencyCertificates'), '/v1/agencies/H29.001/certificates'],
      [dms, route('listInbox'), '/v1/inbox?limit=5'],
      [admin, route('listCertificates'), '/v1/admin/certificates'],
      [admin, route('listDeadLetters'), '/v1/admin/deadletters?all=true'],
      [admin, route('listSystems'), '/v1/admin/systems'],
      [admin, route('getSystem'), '/v1/admin/systems/hub-admin'],
      [admin, route('exportAgencies'), '/v1/admin/agencies/export?format=json'],
      [dms, route('getHubCertificates'), '/v1/hub/certificates'],
    ];
    for (const [client, spec, path] of reads) {
      const res = await client.request('GET', path);
      expect(res.status, path).to.equal(200);
      const schema = spec.responses[200]!.json!;
      const r = schema.safeParse(await res.json());
      expect(r.success, `${path}: ${r.error?.message}`).to.equal(true);
    }
  });
});

function route(operationId: string): RouteSpec {
  const r = V1_ROUTES.find((x) => x.operationId === operationId);
  if (!r) throw new Error(`no route ${operationId}`);
  return r;
}
