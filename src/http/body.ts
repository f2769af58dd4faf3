/** Reading request bodies and query values the same way on every /v1 route. */
import type { Request } from 'express';
import { HubError } from '../domain/errors.ts';

/** A non-empty string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** The raw body (kept for the HMAC) as a JSON object; an empty body is `{}`. */
export function jsonBody(req: Request): Record<string, unknown> {
  const raw = req.rawBody;
  if (!raw || raw.length === 0) return {};
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HubError('VALIDATION_FAILED', 'body must be a JSON object');
}
