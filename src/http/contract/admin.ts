/** Contract of the administration routes: agency certificates, dead letters, system credentials. */
import { z } from 'zod';
import { agencyCode, instant, pathParam, queryFlag } from './common.ts';
import { defineRoute } from './route.ts';

const CertificateView = z
  .object({
    agency: agencyCode,
    fingerprintSha256: z.string(),
    subject: z.string().optional(),
    notAfter: instant.optional(),
    registeredAt: instant,
    revokedAt: instant.optional(),
  })
  .meta({ id: 'RegisteredCertificate' });

export const listCertificates = defineRoute({
  method: 'get',
  path: '/v1/admin/certificates',
  operationId: 'listCertificates',
  tag: 'certificates',
  auth: 'admin',
  summary: 'Registered agency signing certificates',
  query: z.object({ agency: z.string().optional().meta({ description: 'Only this agency’s' }) }),
  responses: { 200: { description: 'Certificates', json: z.object({ items: z.array(CertificateView) }) } },
});

export const registerCertificate = defineRoute({
  method: 'post',
  path: '/v1/admin/agencies/{code}/certificates',
  operationId: 'registerCertificate',
  tag: 'certificates',
  auth: 'admin',
  summary: 'Register an agency signing certificate (checked against the trust store and revocation)',
  params: z.object({ code: pathParam('Agency code') }),
  query: z.object({
    forceSubject: z
      .string()
      .optional()
      .meta({ description: 'Reason to register a certificate whose subject names another agency (audited)' }),
  }),
  body: { raw: ['application/x-pem-file', 'text/plain'], description: 'The certificate, PEM' },
  responses: { 201: { description: 'Registered', json: CertificateView } },
  errors: {
    404: 'Unknown agency',
    409: 'Already registered to another agency',
    422: 'CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, CERT_KEY_USAGE, CERT_SUBJECT_MISMATCH…',
  },
});

export const unregisterCertificate = defineRoute({
  method: 'delete',
  path: '/v1/admin/agencies/{code}/certificates/{fingerprint}',
  operationId: 'unregisterCertificate',
  tag: 'certificates',
  auth: 'admin',
  summary: 'Unregister (revoke for signing) an agency certificate',
  params: z.object({
    code: pathParam('Agency code'),
    fingerprint: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits')
      .transform((s) => s.toLowerCase())
      .meta({ description: 'SHA-256 fingerprint, hex' }),
  }),
  responses: { 204: { description: 'Unregistered' } },
  errors: { 404: 'Unknown agency or certificate' },
});

const DeadLetter = z
  .object({
    id: z.string(),
    deliveryId: z.string().optional(),
    docId: z.string().optional(),
    recipientCode: z.string().optional(),
    reason: z.string(),
    deadAt: instant,
    replayedAt: instant.optional(),
    replayCount: z.number().int(),
    content: z.string().optional(),
  })
  .meta({ id: 'DeadLetter', description: 'A delivery the worker gave up on' });

const deadLetterParams = z.object({ id: pathParam('Dead letter id') });

export const listDeadLetters = defineRoute({
  method: 'get',
  path: '/v1/admin/deadletters',
  operationId: 'listDeadLetters',
  tag: 'dead-letters',
  auth: 'admin',
  summary: 'Dead letters waiting for a replay (all=true: replayed ones too)',
  query: z.object({ all: queryFlag.optional() }),
  responses: { 200: { description: 'Dead letters', json: z.object({ items: z.array(DeadLetter) }) } },
});

export const getDeadLetter = defineRoute({
  method: 'get',
  path: '/v1/admin/deadletters/{id}',
  operationId: 'getDeadLetter',
  tag: 'dead-letters',
  auth: 'admin',
  summary: 'One dead letter',
  params: deadLetterParams,
  responses: { 200: { description: 'The dead letter', json: DeadLetter } },
  errors: { 404: 'Unknown dead letter' },
});

export const replayDeadLetter = defineRoute({
  method: 'post',
  path: '/v1/admin/deadletters/{id}/replay',
  operationId: 'replayDeadLetter',
  tag: 'dead-letters',
  auth: 'admin',
  summary: 'Deliver a dead letter again',
  params: deadLetterParams,
  responses: { 200: { description: 'The dead letter, replayed', json: DeadLetter } },
  errors: { 404: 'Unknown dead letter', 409: 'REPLAY_ENDPOINT_FAILING, CONFLICT' },
});

const System = z
  .object({
    systemId: z.string(),
    agencyCodes: z.array(z.string()),
    rights: z.array(z.enum(['send', 'admin'])),
    active: z.boolean(),
    createdAt: instant.optional(),
    rotatedAt: instant.optional(),
    disabledAt: instant.optional(),
  })
  .meta({ id: 'System', description: 'An agency-system credential (never its secret)' });

const IssuedSystem = System.extend({
  secret: z.string().meta({ description: 'Shown once (Cache-Control: no-store)' }),
}).meta({ id: 'IssuedSystem' });

const systemParams = z.object({ id: pathParam('System id') });

export const listSystems = defineRoute({
  method: 'get',
  path: '/v1/admin/systems',
  operationId: 'listSystems',
  tag: 'systems',
  auth: 'admin',
  summary: 'Agency-system credentials: systemId, agencies, rights, state; never the secret',
  responses: { 200: { description: 'Systems', json: z.object({ items: z.array(System) }) } },
});

export const getSystem = defineRoute({
  method: 'get',
  path: '/v1/admin/systems/{id}',
  operationId: 'getSystem',
  tag: 'systems',
  auth: 'admin',
  summary: 'One agency-system credential (without the secret)',
  params: systemParams,
  responses: { 200: { description: 'The credential', json: System } },
  errors: { 404: 'Unknown system' },
});

export const addSystem = defineRoute({
  method: 'post',
  path: '/v1/admin/systems',
  operationId: 'addSystem',
  tag: 'systems',
  auth: 'admin',
  summary: 'Issue a credential; the secret is in this answer only (Cache-Control: no-store)',
  body: {
    json: z.object({
      systemId: z.string(),
      agencyCodes: z.array(z.string()).default([]),
      rights: z.array(z.string()).optional().meta({ description: 'send, admin (default: send)' }),
    }),
    required: true,
  },
  responses: { 201: { description: 'The credential with its secret', json: IssuedSystem } },
  errors: { 409: 'The system exists' },
});

export const rotateSystem = defineRoute({
  method: 'post',
  path: '/v1/admin/systems/{id}/rotate',
  operationId: 'rotateSystem',
  tag: 'systems',
  auth: 'admin',
  summary: 'Issue a new secret (the old one stops working); the secret is in this answer only',
  params: systemParams,
  responses: { 200: { description: 'The credential with its new secret', json: IssuedSystem } },
  errors: { 404: 'Unknown system' },
});

export const disableSystem = defineRoute({
  method: 'post',
  path: '/v1/admin/systems/{id}/disable',
  operationId: 'disableSystem',
  tag: 'systems',
  auth: 'admin',
  summary: 'Disable a credential (a system cannot disable itself)',
  params: systemParams,
  responses: { 200: { description: 'The credential', json: System } },
  errors: { 404: 'Unknown system', 409: 'CONFLICT: the caller itself' },
});

export const enableSystem = defineRoute({
  method: 'post',
  path: '/v1/admin/systems/{id}/enable',
  operationId: 'enableSystem',
  tag: 'systems',
  auth: 'admin',
  summary: 'Enable a disabled credential',
  params: systemParams,
  responses: { 200: { description: 'The credential', json: System } },
  errors: { 404: 'Unknown system' },
});

export const ADMIN_ROUTES = [
  listCertificates,
  registerCertificate,
  unregisterCertificate,
  listDeadLetters,
  getDeadLetter,
  replayDeadLetter,
  listSystems,
  getSystem,
  addSystem,
  rotateSystem,
  disableSystem,
  enableSystem,
] as const;
