/** Contract of the unauthenticated /v1 routes: this document and the hub signing certificates. */
import { z } from 'zod';
import { defineRoute } from './route.ts';

export const getOpenApi = defineRoute({
  method: 'get',
  path: '/v1/openapi.json',
  operationId: 'getOpenApi',
  tag: 'meta',
  auth: 'none',
  summary: 'This OpenAPI document (generated from the route schemas)',
  responses: { 200: { description: 'OpenAPI 3.1 document', json: z.record(z.string(), z.unknown()) } },
});

export const getHubCertificates = defineRoute({
  method: 'get',
  path: '/v1/hub/certificates',
  operationId: 'getHubCertificates',
  tag: 'meta',
  auth: 'none',
  summary:
    'The hub signing certificates (current first, then retired ones still pinned): what receipt verifiers pin',
  description:
    'A verifier accepts a receipt only from a certificate with the signingEku extended key usage whose ' +
    'SHA-256 it pins (obtain the pins out of band, check them against this list).',
  responses: {
    200: {
      description: 'The hub signing certificates',
      json: z.object({
        signingEku: z.string(),
        certificates: z.array(
          z
            .object({
              fingerprintSha256: z.string(),
              subject: z.string().optional(),
              notBefore: z.string().optional().meta({ format: 'date-time' }),
              notAfter: z.string().optional().meta({ format: 'date-time' }),
              pem: z.string(),
            })
            .loose(),
        ),
      }),
    },
  },
});

export const META_ROUTES = [getOpenApi, getHubCertificates] as const;
