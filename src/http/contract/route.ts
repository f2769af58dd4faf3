/**
 * One place where a /v1 route is described: method, path, request (params, query, JSON or raw body)
 * and responses, as zod schemas. The same description validates the request (`on`) and produces the
 * OpenAPI document (src/http/openapi.ts). Adding a route: define it in the area's module
 * (src/http/contract/*.ts), list it in `V1_ROUTES` (index.ts), mount it with `on(router, base, spec,
 * handler)` (docs/api.md, "Adding a route").
 */
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { HubError } from '../../domain/errors.ts';

export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

/** Who may call: no authentication, any authenticated system (HMAC), or systems with the 'admin' right. */
export type Auth = 'none' | 'hmac' | 'admin';

export interface ResponseSpec {
  readonly description: string;
  /** A JSON body. */
  readonly json?: z.ZodType;
  /** Other media types (binary or text bodies), described, not validated. */
  readonly media?: readonly string[];
  /** Response headers worth knowing: name → description. */
  readonly headers?: Readonly<Record<string, string>>;
}

export type BodySpec =
  | { readonly json: z.ZodType; readonly required?: boolean }
  | {
      readonly raw: readonly string[];
      readonly description: string;
      /** The Content-Type values accepted (else UNSUPPORTED_MEDIA_TYPE); any when absent. */
      readonly accepts?: { readonly pattern: RegExp; readonly refusal: string };
    };

export interface RouteSpec {
  readonly method: Method;
  /** Full path in OpenAPI form: `/v1/agencies/{code}`. */
  readonly path: `/v1/${string}`;
  /** Unique operation id (camelCase). */
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: Auth;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: BodySpec;
  /** Success (and redirect) responses by status. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Refusals specific to the route (status → which codes and when); 400/401/403/429/503 are implied. */
  readonly errors?: Readonly<Record<number, string>>;
}

/** Keeps the literal types of a route description (for the typed input of its handler). */
export function defineRoute<const S extends RouteSpec>(spec: S): S {
  return spec;
}

type Out<T> = T extends z.ZodType ? z.output<T> : Record<string, never>;

/** What a handler receives: the validated, transformed params, query and JSON body. */
export interface Input<S extends RouteSpec> {
  readonly params: Out<S['params']>;
  readonly query: Out<S['query']>;
  readonly body: S['body'] extends { json: infer J } ? Out<J> : undefined;
}

/** `path.to.key: message; …` — the zod issues of a refused request, each with where it is. */
export function issuesReason(where: 'params' | 'query' | 'body', error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const path = [where, ...i.path.map(String)].join('.');
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

function check<T extends z.ZodType>(
  where: 'params' | 'query' | 'body',
  schema: T,
  value: unknown,
): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new HubError('VALIDATION_FAILED', issuesReason(where, r.error), {
      issues: r.error.issues.map((i) => ({
        path: [where, ...i.path.map(String)].join('.'),
        message: i.message,
      })),
    });
  return r.data;
}

/** Query values as the hub reads them: an empty value (`?q=`) is no value. */
function queryOf(req: Request): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) if (v !== '') q[k] = v;
  return q;
}

/** The raw body (kept for the HMAC) as JSON; an empty body is `{}` (or undefined when optional). */
function jsonOf(req: Request): unknown {
  const raw = req.rawBody;
  if (!raw || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HubError('VALIDATION_FAILED', 'body: not valid JSON');
  }
}

/** Validates a request against its route description: VALIDATION_FAILED with the issue paths. */
export function validate<S extends RouteSpec>(spec: S, req: Request): Input<S> {
  const accepts = spec.body && 'raw' in spec.body ? spec.body.accepts : undefined;
  if (accepts && !accepts.pattern.test(req.header('content-type') ?? ''))
    throw new HubError('UNSUPPORTED_MEDIA_TYPE', accepts.refusal);
  return {
    params: (spec.params ? check('params', spec.params, req.params) : {}) as Input<S>['params'],
    query: (spec.query ? check('query', spec.query, queryOf(req)) : {}) as Input<S>['query'],
    body: (spec.body && 'json' in spec.body
      ? check('body', spec.body.json, jsonOf(req))
      : undefined) as Input<S>['body'],
  };
}

/** The Express path of a route under the prefix its router is mounted at (`/v1/a/{x}` → `/a/:x`). */
export function expressPath(spec: RouteSpec, base: string): string {
  if (!spec.path.startsWith(`${base}/`))
    throw new Error(`route ${spec.path} cannot be mounted under ${base}`);
  return spec.path.slice(base.length).replace(/\{(\w+)\}/g, ':$1');
}

/**
 * Mounts a described route on a router mounted at `base`: the request is validated against the
 * description before the handler sees it.
 */
export function on<const S extends RouteSpec>(
  router: Router,
  base: string,
  spec: S,
  handler: (input: Input<S>, req: Request, res: Response) => Promise<void>,
): void {
  router[spec.method](expressPath(spec, base), async (req: Request, res: Response) => {
    await handler(validate(spec, req), req, res);
  });
}
