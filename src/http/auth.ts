/** The authenticated caller of a /v1 request (set by src/http/intake.ts) and its rights. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HubError } from '../domain/errors.ts';
import type { SystemCredential } from '../domain/types.ts';

declare module 'express-serve-static-core' {
  interface Request {
    caller?: SystemCredential;
    rawBody?: Buffer;
  }
}

export function callerOf(req: Request): SystemCredential {
  if (!req.caller) throw new HubError('UNAUTHENTICATED');
  return req.caller;
}

/** Only systems holding the given right (e.g. 'admin') pass. */
export function requireRight(right: 'admin' | 'send'): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    next(
      req.caller?.rights.includes(right)
        ? undefined
        : new HubError('FORBIDDEN', `the '${right}' right is required`),
    );
  };
}
