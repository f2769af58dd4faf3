/** Contract of the document routes: submit, read, evidence, inbox, download, acknowledge. */
import { z } from 'zod';
import { agencyCode, instant, pathParam, queryInt } from './common.ts';
import { defineRoute } from './route.ts';

const messageType = z.enum(['edoc', 'status']);

export const RoutingOutcome = z
  .object({
    code: agencyCode,
    outcome: z.enum(['accepted', 'rerouted', 'refused']),
    deliveredTo: z.string().optional().meta({ description: 'The successor a rerouted document went to' }),
    reason: z.string().optional(),
  })
  .meta({ id: 'RoutingOutcome', description: 'What the hub did with one addressed recipient' });

export const SubmissionReceipt = z
  .object({
    docId: z.string().meta({ description: 'The hub document id' }),
    documentId: z.string().meta({ description: 'The edXML DocumentId' }),
    messageType,
    sha256: z.string(),
    receivedAt: instant,
    recipients: z.array(RoutingOutcome),
    duplicate: z.boolean().meta({ description: 'The same bytes were accepted before: the original receipt' }),
    receipt: z.string().meta({ description: 'Hub-signed XML receipt (XML-DSig)' }),
  })
  .meta({ id: 'SubmissionReceipt' });

const businessCode = z.string().meta({ description: 'QCVN 102 status code (01–06, 13, 15, 16) or recalled' });

const TimelineEntry = z.object({
  code: businessCode,
  at: instant,
  reportedAt: z.string().optional(),
  description: z.string().optional(),
  statusDocId: z.string().optional(),
  by: z.string(),
});

export const DeliveryView = z
  .object({
    id: z.string().meta({ description: '<docId>:<recipient code>' }),
    recipient: agencyCode,
    requestedCode: z.string().optional().meta({ description: 'The code the sender addressed (rerouted)' }),
    rerouted: z.literal(true).optional(),
    transport: z.enum(['queued', 'available', 'pushed', 'acknowledged', 'failed', 'dead-lettered']),
    attempts: z.number().int(),
    queuedAt: instant,
    availableAt: instant.optional(),
    ackedAt: instant.optional(),
    ack: z.object({ result: z.enum(['done', 'fail']), reason: z.string().optional() }).optional(),
    lastError: z.string().optional(),
    status: businessCode.nullable().meta({ description: 'Last business status reported, null before any' }),
    deadline: instant.optional(),
    overdue: z.boolean().optional(),
    pendingRequest: z.enum(['recall', 'update']).nullable(),
    timeline: z.array(TimelineEntry),
  })
  .meta({ id: 'Delivery', description: 'One recipient of a document: transport and business status' });

export const DocumentView = z
  .object({
    id: z.string(),
    documentId: z.string(),
    messageType,
    sender: agencyCode,
    sha256: z.string(),
    size: z.number().int(),
    receivedAt: instant,
    acceptedAt: instant.optional(),
    meta: z
      .record(z.string(), z.unknown())
      .meta({ description: 'Subject, number, notation, dates… from the edXML' }),
    signer: z.object({ fingerprintSha256: z.string(), subject: z.string() }),
    routing: z.array(RoutingOutcome),
    chain: z
      .array(
        z.object({
          docId: z.string(),
          documentId: z.string(),
          type: z.enum(['revoke', 'update', 'replace']),
          at: instant,
          reason: z.string().optional(),
        }),
      )
      .optional(),
    probableDuplicateOf: z.string().optional(),
    via: z
      .array(z.object({ peer: z.string(), systemId: z.string(), at: instant }))
      .optional()
      .meta({
        description:
          'Federation: the hops the message came through to this hub (the peer that delivered it); absent for a direct submission',
      }),
    receipt: z.string().optional(),
    deliveries: z.array(DeliveryView),
  })
  .meta({ id: 'Document' });

const InboxItem = z
  .object({
    id: z.string().meta({ description: 'The delivery id: download and acknowledge with it' }),
    docId: z.string(),
    documentId: z.string(),
    messageType,
    from: agencyCode,
    to: agencyCode,
    addressedTo: z.string().optional(),
    availableAt: instant,
  })
  .meta({ id: 'InboxItem' });

const docIdParams = z.object({ id: pathParam('The hub document id') });
const deliveryIdParams = z.object({ id: pathParam('The inbox item (delivery) id') });

export const submitDocument = defineRoute({
  method: 'post',
  path: '/v1/documents',
  operationId: 'submitDocument',
  tag: 'documents',
  auth: 'hmac',
  summary: 'Submit a signed edXML document or status message',
  description: 'Answers JSON, or the signed XML receipt alone with `Accept: application/xml`.',
  body: {
    raw: ['application/xml', 'text/xml', 'application/octet-stream'],
    description: 'The signed edXML message (QCVN 102), exact bytes',
    accepts: {
      pattern: /^(?:(?:application|text)\/(?:[a-z.+-]*\+)?xml|application\/octet-stream)\b/i,
      refusal: 'send the edXML message as application/xml',
    },
  },
  responses: {
    202: {
      description: 'Accepted; hub-signed receipt',
      json: SubmissionReceipt,
      media: ['application/xml'],
      headers: { Location: 'The document: /v1/documents/{docId}' },
    },
    200: { description: 'Same bytes already accepted: the original receipt', json: SubmissionReceipt },
  },
  errors: {
    400: 'Malformed XML, DOCTYPE, limits',
    409: 'DUPLICATE_CONFLICT, STATUS_TRANSITION_INVALID',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE: not XML',
    422: 'Schema, signature, certificate, sender or recipient refused',
  },
});

export const getDocument = defineRoute({
  method: 'get',
  path: '/v1/documents/{id}',
  operationId: 'getDocument',
  tag: 'documents',
  auth: 'hmac',
  summary: 'A document with its per-recipient transport state and status timeline',
  description: 'The sender sees every delivery; a recipient sees its own.',
  params: docIdParams,
  responses: { 200: { description: 'The document', json: DocumentView } },
  errors: { 404: 'Unknown, or not visible to the caller' },
});

export const getEvidence = defineRoute({
  method: 'get',
  path: '/v1/documents/{id}/evidence',
  operationId: 'getEvidence',
  tag: 'documents',
  auth: 'hmac',
  summary: 'The evidence bundle of a document (zip: message, receipt, manifest, chains, CRLs)',
  params: docIdParams,
  responses: { 200: { description: 'Evidence bundle', media: ['application/zip'] } },
  errors: { 404: 'Unknown, or not visible to the caller', 503: 'EVIDENCE_INCOMPLETE' },
});

export const listInbox = defineRoute({
  method: 'get',
  path: '/v1/inbox',
  operationId: 'listInbox',
  tag: 'inbox',
  auth: 'hmac',
  summary: 'Unacknowledged messages for the caller, oldest first',
  query: z.object({
    type: messageType.optional(),
    agency: z.string().optional().meta({ description: 'One of the agencies the caller acts for' }),
    limit: queryInt.optional().meta({ description: 'Page size, 1–500 (default 50)' }),
    after: z.string().optional().meta({ description: 'Paging cursor: the `next` of the previous page' }),
  }),
  responses: {
    200: {
      description: 'A page of the inbox',
      json: z.object({ items: z.array(InboxItem), next: z.string().optional() }),
    },
  },
});

export const downloadInboxItem = defineRoute({
  method: 'get',
  path: '/v1/inbox/{id}',
  operationId: 'downloadInboxItem',
  tag: 'inbox',
  auth: 'hmac',
  summary: 'The exact signed bytes of an inbox item',
  params: deliveryIdParams,
  responses: {
    200: {
      description: 'The edXML message as the sender signed it',
      media: ['application/xml'],
      headers: {
        'X-Hub-Doc-Id': 'The hub document id',
        'X-Hub-Sha256': 'SHA-256 of the bytes',
        'X-Hub-Message-Type': 'edoc or status',
      },
    },
  },
  errors: { 404: 'Not in the caller’s inbox' },
});

export const acknowledgeInboxItem = defineRoute({
  method: 'post',
  path: '/v1/inbox/{id}/ack',
  operationId: 'acknowledgeInboxItem',
  tag: 'inbox',
  auth: 'hmac',
  summary: 'Acknowledge an inbox item (transport acknowledgement, idempotent)',
  params: deliveryIdParams,
  body: {
    json: z
      .object({
        result: z.enum(['done', 'fail']).default('done'),
        reason: z.string().optional().meta({ description: 'Required with result "fail"' }),
      })
      .refine((b) => b.result !== 'fail' || !!b.reason, {
        message: 'a fail acknowledgement needs a reason',
        path: ['reason'],
      }),
  },
  responses: {
    200: {
      description: 'Acknowledged',
      json: z.object({
        id: z.string(),
        transport: z.string(),
        ack: z.object({ result: z.enum(['done', 'fail']), reason: z.string().optional() }).optional(),
        ackedAt: instant.optional(),
      }),
    },
  },
  errors: { 404: 'Not in the caller’s inbox' },
});

export const DOCUMENT_ROUTES = [
  submitDocument,
  getDocument,
  getEvidence,
  listInbox,
  downloadInboxItem,
  acknowledgeInboxItem,
] as const;
