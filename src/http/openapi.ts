/**
 * The OpenAPI 3.1 description of the agency API, served at /v1/openapi.json: generated from the
 * route schemas of src/http/contract (zod 4's `z.toJSONSchema`), the same schemas that validate the
 * requests. Schemas with a `.meta({ id })` become components; the rest are inlined.
 */
import { z } from 'zod';
import { ErrorEnvelope } from './contract/common.ts';
import { V1_ROUTES } from './contract/index.ts';
import type { RouteSpec } from './contract/route.ts';

type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/** JSON Schema (2020-12, OpenAPI 3.1's dialect) of a zod schema; named sub-schemas go to `components`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', components: Json): Json {
  const out = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'throw',
    reused: 'inline',
    override: (ctx) => {
      // The response side: objects may grow fields later (a client ignores what it does not know).
      if (io === 'output' && ctx.jsonSchema.type === 'object') delete ctx.jsonSchema.additionalProperties;
    },
  }) as Json;
  delete out.$schema;
  const defs = (out.$defs ?? {}) as Record<string, Json>;
  delete out.$defs;
  const relink = (j: Json) => JSON.parse(JSON.stringify(j).replaceAll('"#/$defs/', `"${COMPONENTS}`)) as Json;
  for (const [id, def] of Object.entries(defs)) {
    const named = relink(def);
    const before = components[id];
    if (before !== undefined && JSON.stringify(before) !== JSON.stringify(named))
      throw new Error(`two different schemas are named ${id}`);
    components[id] = named;
  }
  // The root itself named: a reference to its component.
  if (typeof out.$ref === 'string' && out.$ref.startsWith('#/$defs/') && Object.keys(out).length === 1)
    return { $ref: COMPONENTS + out.$ref.slice('#/$defs/'.length) };
  return relink(out);
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `${COMPONENTS}Error` } } },
});

/** Refusals every route of its kind may answer, besides its own. */
function impliedErrors(r: RouteSpec): Record<number, string> {
  const e: Record<number, string> = {};
  if (r.params || r.query || (r.body && 'json' in r.body))
    e[400] = 'VALIDATION_FAILED: details.issues lists each refused field (params.x, query.x, body.x)';
  if (r.auth !== 'none') {
    e[401] = 'UNAUTHENTICATED, REQUEST_REPLAYED';
    e[429] = 'RATE_LIMITED (Retry-After)';
    e[503] = 'UNAVAILABLE (shutting down), INTAKE_BUSY (Retry-After)';
  }
  if (r.auth === 'admin') e[403] = "FORBIDDEN: the 'admin' right is required";
  return e;
}

function parameters(r: RouteSpec, components: Json): Json[] {
  const list: Json[] = [];
  for (const [where, schema] of [
    ['path', r.params],
    ['query', r.query],
  ] as const) {
    if (!schema) continue;
    const s = jsonSchema(schema, 'input', components);
    const props = (s.properties ?? {}) as Record<string, Json>;
    const required = new Set((s.required ?? []) as string[]);
    for (const [name, p] of Object.entries(props)) {
      const { description, ...rest } = p;
      list.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }
  return list;
}

function operation(r: RouteSpec, components: Json): Json {
  const responses: Json = {};
  for (const [status, res] of Object.entries(r.responses)) {
    const content: Json = {};
    if (res.json) content['application/json'] = { schema: jsonSchema(res.json, 'output', components) };
    for (const m of res.media ?? []) content[m] = {};
    responses[status] = {
      description: res.description,
      ...(res.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([h, d]) => [
                h,
                { description: d, schema: { type: 'string' } },
              ]),
            ),
          }
        : {}),
      ...(Object.keys(content).length ? { content } : {}),
    };
  }
  for (const [status, d] of Object.entries({ ...impliedErrors(r), ...r.errors }))
    responses[status] ??= errorResponse(d);
  const params = parameters(r, components);
  return {
    operationId: r.operationId,
    tags: [r.tag],
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    ...(r.auth === 'none' ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(r.body
      ? {
          requestBody:
            'json' in r.body
              ? {
                  required: r.body.required ?? false,
                  content: { 'application/json': { schema: jsonSchema(r.body.json, 'input', components) } },
                }
              : {
                  required: true,
                  description: r.body.description,
                  content: Object.fromEntries(r.body.raw.map((m) => [m, { schema: { type: 'string' } }])),
                },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI document of the given routes (every /v1 route by default). */
export function buildOpenApi(routes: readonly RouteSpec[] = V1_ROUTES): Json {
  const components: Json = {};
  jsonSchema(ErrorEnvelope, 'output', components);
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const item = (paths[r.path] ??= {});
    if (item[r.method]) throw new Error(`${r.method.toUpperCase()} ${r.path} is described twice`);
    item[r.method] = operation(r, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vietnam e-document interconnection hub — agency API',
      version: '1',
      description:
        'Agency document-management systems submit signed edXML messages (QCVN 102:2016), poll their inbox, ' +
        'download the exact signed bytes, acknowledge, and follow delivery and business status; administrators ' +
        'keep the directory, certificates, credentials and dead letters. Every request is authenticated with ' +
        'HUB1-HMAC-SHA256 (see docs/api.md). Generated from the route schemas (src/http/contract).',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    security: [{ hubHmac: [] }],
    paths,
    components: {
      securitySchemes: {
        hubHmac: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'HUB1-HMAC-SHA256 Credential=<systemId>, Timestamp=<unix s>[, Nonce=<nonce>], Signature=<hex>; ' +
            'send the body hash in X-Hub-Content-SHA256 (required above 64 KiB); each signature is accepted once',
        },
      },
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}

/** The document served at /v1/openapi.json. */
export const openApiSpec = buildOpenApi();

/** The document as `npm run openapi` writes it to docs/openapi.json (2-space JSON, final newline). */
export function openApiText(doc: Record<string, unknown> = openApiSpec): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
