/**
 * The access log: one line per request once its answer is sent (docs/deployment.md ## Logs) with the
 * method, the path (never the query string, where a client might put a secret), the status, the time
 * taken, the authenticated caller (agency system or web UI user) and the request id, which is also
 * the id of any error answer and the `X-Request-Id` response header.
 *
 * A 401 names the system the request CLAIMED to be (from its Authorization or XroadVnpt-systemid
 * header), labelled `claimedSystem`: it was not authenticated, so it is a lead, not a fact.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../observability/logger.ts';
import { parseAuthorization } from './hmac-auth.ts';

/** An id a proxy in front may have given the request; anything else is replaced by a new one. */
const FORWARDED_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** Probes come every few seconds: logged at debug level only. */
const PROBES = new Set(['/healthz', '/readyz']);

/** The request id of this request (set by accessLog). */
export function requestIdOf(res: Response): string | undefined {
  const id = res.locals.requestId as unknown;
  return typeof id === 'string' ? id : undefined;
}

/** The system id a request claims, bounded and printable: never trusted, only logged. */
export function claimedSystem(req: Request): string | undefined {
  const vdxp = req.headers['xroadvnpt-systemid'];
  const raw =
    parseAuthorization(req.headers.authorization)?.systemId ?? (typeof vdxp === 'string' ? vdxp : '');
  const clean = raw.replace(/[^\x21-\x7e]/g, '?').slice(0, 64);
  return clean || undefined;
}

export function accessLog(log: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const forwarded = req.headers['x-request-id'];
    const requestId =
      typeof forwarded === 'string' && FORWARDED_ID.test(forwarded) ? forwarded : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const path = req.originalUrl.split('?', 1)[0]!;
    const done = (aborted: boolean) => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const line: Record<string, unknown> = {
        access: true,
        requestId,
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        ip: req.ip,
      };
      if (aborted) line.aborted = true;
      if (req.caller) line.system = req.caller.systemId;
      const user = req.web?.session?.username;
      if (user) line.user = user;
      if (res.statusCode === 401 && !req.caller) {
        const claimed = claimedSystem(req);
        if (claimed) line.claimedSystem = claimed;
      }
      if (PROBES.has(path)) log.debug(line, 'request');
      else log.info(line, 'request');
    };
    let logged = false;
    res.once('finish', () => {
      if (!logged) done(false);
      logged = true;
    });
    res.once('close', () => {
      if (!logged) done(!res.writableFinished);
      logged = true;
    });
    next();
  };
}
