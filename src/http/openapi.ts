/** OpenAPI 3.1 description of the agency API, served at /v1/openapi.json. */
const errorRef = { $ref: '#/components/schemas/Error' };
const err = (description: string) => ({ description, content: { 'application/json': { schema: errorRef } } });

export const openApiSpec = {
  openapi: '3.1.0',
  info: {
    title: 'Vietnam e-document interconnection hub — agency API',
    version: '1',
    description:
      'Agency document-management systems submit signed edXML messages (QCVN 102:2016), poll their inbox, ' +
      'download the exact signed bytes, acknowledge, and follow delivery and business status. ' +
      'Every request is authenticated with HUB1-HMAC-SHA256 (see docs/api.md).',
  },
  components: {
    securitySchemes: {
      hubHmac: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          'HUB1-HMAC-SHA256 Credential=<systemId>, Timestamp=<unix s>[, Nonce=<nonce>], Signature=<hex>; ' +
          'send the body hash in X-Hub-Content-SHA256 (required above 64 KiB); each signature is accepted once',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['code', 'message', 'messageVi', 'id'],
        properties: {
          code: {
            type: 'string',
            description: 'Stable machine code, e.g. SIGNATURE_INVALID, UNKNOWN_RECIPIENT, DUPLICATE_CONFLICT',
          },
          message: { type: 'string' },
          messageVi: { type: 'string' },
          details: { type: 'object' },
          id: { type: 'string', description: 'Correlation id, also in the hub log' },
        },
      },
      RoutingOutcome: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          outcome: { enum: ['accepted', 'rerouted', 'refused'] },
          deliveredTo: { type: 'string' },
          reason: { type: 'string' },
        },
      },
      SubmissionReceipt: {
        type: 'object',
        properties: {
          docId: { type: 'string' },
          documentId: { type: 'string' },
          messageType: { enum: ['edoc', 'status'] },
          sha256: { type: 'string' },
          receivedAt: { type: 'string', format: 'date-time' },
          recipients: { type: 'array', items: { $ref: '#/components/schemas/RoutingOutcome' } },
          duplicate: { type: 'boolean' },
          receipt: { type: 'string', description: 'Hub-signed XML receipt (XML-DSig)' },
        },
      },
    },
  },
  security: [{ hubHmac: [] }],
  paths: {
    '/v1/documents': {
      post: {
        summary: 'Submit a signed edXML document or status message',
        requestBody: { required: true, content: { 'application/xml': { schema: { type: 'string' } } } },
        responses: {
          '202': {
            description: 'Accepted; hub-signed receipt',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/SubmissionReceipt' } },
              'application/xml': {},
            },
          },
          '200': { description: 'Same bytes already accepted: the original receipt' },
          '400': err('Malformed XML, DOCTYPE, limits'),
          '401': err('Unauthenticated'),
          '409': err('DUPLICATE_CONFLICT or STATUS_TRANSITION_INVALID'),
          '413': err('PAYLOAD_TOO_LARGE'),
          '422': err('Signature, certificate, sender or recipient refused'),
        },
      },
    },
    '/v1/documents/{id}': {
      get: {
        summary: 'A document with its per-recipient transport state and status timeline',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'The document' },
          '404': err('Unknown, or not visible to the caller'),
        },
      },
    },
    '/v1/hub/certificates': {
      get: {
        summary:
          'The hub signing certificates (current first, then retired ones still pinned): what receipt verifiers pin',
        security: [],
        responses: {
          '200': {
            description:
              '{ signingEku, certificates: [{ fingerprintSha256, subject, notBefore, notAfter, pem }] }; ' +
              'a verifier accepts a receipt only from a certificate with the signingEku extended key usage ' +
              'whose SHA-256 it pins (obtain the pins out of band, check them against this list)',
          },
        },
      },
    },
    '/v1/inbox': {
      get: {
        summary: 'Unacknowledged messages for the caller, oldest first',
        parameters: [
          { name: 'type', in: 'query', schema: { enum: ['edoc', 'status'] } },
          { name: 'agency', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
          {
            name: 'after',
            in: 'query',
            schema: { type: 'string' },
            description: 'Paging cursor: the `next` of the previous page',
          },
        ],
        responses: { '200': { description: '{ items, next }' } },
      },
    },
    '/v1/inbox/{id}': {
      get: {
        summary: 'The exact signed bytes of an inbox item',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'edXML', content: { 'application/xml': {} } },
          '404': err('Not in the caller’s inbox'),
        },
      },
    },
    '/v1/agencies/{code}/certificates': {
      get: {
        summary: 'The certificates in force of an agency (PEM), to encrypt documents for it',
        parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: '{ code, status, routing, certificates: [{ fingerprintSha256, notAfter, pem }] }',
          },
          '404': err('Unknown agency'),
        },
      },
    },
    '/v1/admin/agencies': {
      post: {
        summary:
          'Register a unit (admin right): assigns the next free code under the parent (docs/directory.md §3, §4)',
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['name', 'block', 'kind'],
                properties: {
                  name: { type: 'string' },
                  shortName: { type: 'string' },
                  block: { enum: ['party', 'state', 'front', 'other'] },
                  kind: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,63}$' },
                  parent: { type: 'string' },
                  province: { type: 'string' },
                  predecessors: { type: 'array', items: { type: 'string' } },
                  validFrom: { type: 'string', format: 'date', description: 'calendar date YYYY-MM-DD' },
                  code: { type: 'string' },
                  legacyCode: { type: 'string' },
                  contact: { type: 'object' },
                  delivery: { type: 'object' },
                  distinctFrom: {
                    type: 'array',
                    items: { type: 'string' },
                    description: 'same-named active units under the parent this unit is not',
                  },
                  predecessorCorrection: {
                    type: 'object',
                    required: ['mode', 'reason'],
                    properties: { mode: { enum: ['split', 'replace'] }, reason: { type: 'string' } },
                    description: 'required to name a predecessor that is closed already (audited)',
                  },
                },
              },
            },
          },
        },
        responses: {
          '201': { description: 'The agency with its code, and `closed`: the predecessors' },
          '400': err('VALIDATION_FAILED (nothing reserved)'),
          '409': err(
            'AGENCY_DUPLICATE_NAME (details.existing), PREDECESSOR_CLOSED (details.predecessors), CONFLICT',
          ),
          '422': err('ENDPOINT_NOT_HTTPS: a push endpoint outside development must be https://'),
        },
      },
    },
    '/v1/admin/systems': {
      get: {
        summary:
          'Agency-system credentials (admin right): systemId, agencies, rights, state; never the secret',
        responses: { '200': { description: '{ items: [{ systemId, agencyCodes, rights, active, ... }] }' } },
      },
      post: {
        summary: 'Issue a credential; the secret is in this answer only (Cache-Control: no-store)',
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['systemId'],
                properties: {
                  systemId: { type: 'string' },
                  agencyCodes: { type: 'array', items: { type: 'string' } },
                  rights: { type: 'array', items: { enum: ['send', 'admin'] } },
                },
              },
            },
          },
        },
        responses: { '201': { description: '{ systemId, agencyCodes, rights, active, secret }' } },
      },
    },
    '/v1/admin/systems/{id}': {
      get: {
        summary: 'One agency-system credential (without the secret)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The credential' }, '404': err('Unknown system') },
      },
    },
    '/v1/admin/systems/{id}/rotate': {
      post: {
        summary: 'Issue a new secret (the old one stops working); the secret is in this answer only',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: '{ ..., secret }' } },
      },
    },
    '/v1/admin/systems/{id}/disable': {
      post: {
        summary: 'Disable a credential (a system cannot disable itself)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The credential' }, '409': err('The caller itself') },
      },
    },
    '/v1/admin/systems/{id}/enable': {
      post: {
        summary: 'Enable a disabled credential',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The credential' } },
      },
    },
    '/v1/inbox/{id}/ack': {
      post: {
        summary: 'Acknowledge an inbox item (transport acknowledgement)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { result: { enum: ['done', 'fail'] }, reason: { type: 'string' } },
              },
            },
          },
        },
        responses: { '200': { description: 'Acknowledged (idempotent)' } },
      },
    },
  },
} as const;
