/** The one place where errors become HTTP responses: { code, message, messageVi, details, id }. */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler } from 'express';
import { HubError, isHubError } from '../domain/errors.ts';
import type { Logger } from '../observability/logger.ts';
import { requestIdOf } from './access-log.ts';

export function errorBody(err: HubError, id: string) {
  return {
    code: err.code,
    message: err.message,
    messageVi: err.messageVi,
    ...(err.details ? { details: err.details } : {}),
    id,
  };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    // The request's id (access log, X-Request-Id) when there is one: one id to look up in the logs.
    const id = requestIdOf(res) ?? randomUUID();
    let hubErr: HubError;
    if (isHubError(err)) {
      hubErr = err;
      log.info({ errId: id, code: err.code, path: req.path, reason: err.message }, 'request refused');
    } else if ((err as { type?: string }).type === 'entity.too.large') {
      hubErr = new HubError(
        'PAYLOAD_TOO_LARGE',
        `limit is ${(err as { limit?: number }).limit ?? '?'} bytes`,
      );
      log.info({ errId: id, code: hubErr.code, path: req.path }, 'request refused');
    } else {
      hubErr = new HubError('INTERNAL');
      log.error({ errId: id, err, path: req.path }, 'unhandled error');
    }
    // Half a response already went out (a streamed download): cut it rather than leave it hanging.
    if (res.headersSent) return void res.destroy();
    res.status(hubErr.status).json(errorBody(hubErr, id));
  };
}
