/** Express middleware: authenticates agency systems (HMAC credentials) on /v1. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HubError } from '../domain/errors.ts';
import type { CredentialStore } from '../domain/ports.ts';
import type { SystemCredential } from '../domain/types.ts';
import { parseAuthorization, verifySignature } from './hmac-auth.ts';

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

export function hmacAuth(
  credentials: Pick<CredentialStore, 'find'>,
  clockSkewSeconds: number,
  now: () => number = Date.now,
): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const auth = parseAuthorization(req.header('authorization'));
    if (!auth)
      return next(
        new HubError('UNAUTHENTICATED', 'missing or malformed Authorization header (HUB1-HMAC-SHA256)'),
      );
    if (Math.abs(now() / 1000 - auth.timestamp) > clockSkewSeconds) {
      return next(
        new HubError('UNAUTHENTICATED', `timestamp outside the allowed clock skew of ${clockSkewSeconds}s`),
      );
    }
    credentials
      .find(auth.systemId)
      .then((cred) => {
        const body = req.rawBody ?? Buffer.alloc(0);
        // One answer for unknown system, disabled system and bad signature: no oracle.
        if (
          !cred ||
          !cred.active ||
          !verifySignature(cred.secret, auth, {
            method: req.method,
            pathWithQuery: req.originalUrl,
            timestamp: auth.timestamp,
            body,
          })
        ) {
          return next(new HubError('UNAUTHENTICATED', 'unknown system or invalid signature'));
        }
        req.caller = cred;
        next();
      })
      .catch(next);
  };
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
