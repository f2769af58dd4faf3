import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * The hub's structured logger: every line carries the service, the process id and the host (and the
 * process's roles once createHub binds them), so that lines of several api and worker processes can
 * be told apart in one collector (docs/deployment.md ## Logs). `destination` is for tests (a stream
 * that captures the lines); by default lines go to standard output.
 */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { svc: 'vn-dochub', pid: process.pid, host: hostname(), ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'secret', '*.secret'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
