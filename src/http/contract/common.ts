/** Schemas shared by the /v1 routes: the error envelope, instants, codes, query integers. */
import { z } from 'zod';
import { parseCalendarDate } from '../../domain/calendar.ts';
import { ERROR_CODES, type ErrorCode } from '../../domain/errors.ts';

/** The one error envelope of every refusal (src/http/errors.ts, src/domain/errors.ts). */
export const ErrorEnvelope = z
  .object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).meta({
      description: 'Stable machine code (src/domain/errors.ts), e.g. VALIDATION_FAILED, SIGNATURE_INVALID',
    }),
    message: z.string().meta({ description: 'English message with the reason' }),
    messageVi: z.string().meta({ description: 'Vietnamese message with the reason' }),
    details: z.record(z.string(), z.unknown()).optional().meta({ description: 'Machine-readable details' }),
    id: z.string().meta({ description: 'Correlation id, also in the hub log (X-Request-Id)' }),
  })
  .meta({ id: 'Error', description: 'A refusal: stable code, reason in English and Vietnamese' });

/** An instant as JSON carries it (ISO 8601, UTC). */
export const instant = z.string().meta({ format: 'date-time' });

/** A calendar day `YYYY-MM-DD`. */
export const calendarDay = z.string().meta({ format: 'date' });

/** An agency identification code (Decision 20/2020, or its QCVN 102 form). */
export const agencyCode = z.string().min(1).meta({ description: 'Agency identification code, e.g. H29.001' });

/** A non-negative integer in a query string. */
export const queryInt = z
  .string()
  .regex(/^\d+$/, 'must be a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'must be a non-negative integer');

/** `true` or `false` in a query string; anything else is refused (docs/api.md, Validation). */
export const queryFlag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A calendar date (no time zone shift): YYYY-MM-DD, or an ISO 8601 date-time with its offset. */
export const calendarDate = z
  .string()
  .transform((v, ctx) => {
    const d = parseCalendarDate(v);
    if (d) return d;
    ctx.addIssue({
      code: 'custom',
      message: 'must be a date (YYYY-MM-DD, or an ISO 8601 date-time with its offset)',
    });
    return z.NEVER;
  })
  .meta({ description: 'YYYY-MM-DD, or an ISO 8601 date-time with its offset (read as that calendar day)' });

/** A path parameter: a non-empty string. */
export const pathParam = (description: string) => z.string().min(1).meta({ description });
