/** The hub's own agency API (/v1). Mapping from HTTP to use cases happens here, nothing else. */
import express, { type Router } from 'express';
import { isOverdue } from '../domain/deadlines.ts';
import type { DeliveryRecord, DocumentRecord, InboxItem } from '../domain/types.ts';
import type { DocumentQueries } from '../documents/queries.ts';
import type { SubmissionService } from '../documents/submission.ts';
import { callerOf } from './auth.ts';
import { sendPayload } from './payload.ts';
import { on } from './contract/route.ts';
import {
  acknowledgeInboxItem,
  downloadInboxItem,
  getDocument,
  getEvidence,
  listInbox,
  submitDocument,
} from './contract/documents.ts';

function deliveryView(d: DeliveryRecord) {
  return {
    id: d.id,
    recipient: d.recipientCode,
    ...(d.requestedCode ? { requestedCode: d.requestedCode, rerouted: true } : {}),
    transport: d.transport,
    attempts: d.attempts,
    queuedAt: d.queuedAt,
    availableAt: d.availableAt,
    ackedAt: d.ackedAt,
    ack: d.ack,
    lastError: d.lastError,
    status: d.business.code,
    ...(d.deadline
      ? { deadline: d.deadline, overdue: isOverdue(d.deadline, d.business.code, new Date()) }
      : {}),
    pendingRequest: d.business.pending,
    timeline: d.timeline,
  };
}

function inboxItem(d: InboxItem) {
  return {
    id: d.id,
    docId: d.docId,
    documentId: d.documentId,
    messageType: d.messageType,
    from: d.senderCode,
    to: d.recipientCode,
    ...(d.requestedCode ? { addressedTo: d.requestedCode } : {}),
    availableAt: d.availableAt,
  };
}

function documentView(doc: DocumentRecord) {
  return {
    id: doc.id,
    documentId: doc.documentId,
    messageType: doc.messageType,
    sender: doc.senderCode,
    sha256: doc.sha256,
    size: doc.size,
    receivedAt: doc.receivedAt,
    acceptedAt: doc.acceptedAt,
    meta: doc.meta,
    signer: doc.signer,
    routing: doc.recipients,
    ...(doc.chain?.length ? { chain: doc.chain } : {}),
    ...(doc.probableDuplicateOf ? { probableDuplicateOf: doc.probableDuplicateOf } : {}),
    ...(doc.via?.length ? { via: doc.via } : {}),
  };
}

/** Where v1Router is mounted (src/http/server.ts). */
const V1 = '/v1';

export function v1Router(deps: {
  submissions: SubmissionService;
  queries: DocumentQueries;
  evidence: (docId: string) => Promise<Buffer>;
}): Router {
  const r = express.Router();

  on(r, V1, submitDocument, async (_in, req, res) => {
    const result = await deps.submissions.submit(callerOf(req), req.rawBody ?? Buffer.alloc(0));
    res.status(result.duplicate ? 200 : 202);
    res.setHeader('Location', `/v1/documents/${result.docId}`);
    if (req.accepts(['json', 'xml']) === 'xml') {
      res.type('application/xml').send(result.receipt);
      return;
    }
    res.json({
      docId: result.docId,
      documentId: result.documentId,
      messageType: result.messageType,
      sha256: result.sha256,
      receivedAt: result.receivedAt,
      recipients: result.recipients,
      duplicate: result.duplicate,
      receipt: result.receipt,
    });
  });

  on(r, V1, getDocument, async ({ params }, req, res) => {
    const { document, deliveries } = await deps.queries.document(callerOf(req), params.id);
    res.json({
      ...documentView(document),
      receipt: document.receipt,
      deliveries: deliveries.map(deliveryView),
    });
  });

  on(r, V1, getEvidence, async ({ params }, req, res) => {
    const { document } = await deps.queries.document(callerOf(req), params.id); // parties only
    const zip = await deps.evidence(document.id);
    res.setHeader('Content-Disposition', `attachment; filename="evidence-${document.id}.zip"`);
    res.type('application/zip').send(zip);
  });

  on(r, V1, listInbox, async ({ query }, req, res) => {
    const items = await deps.queries.inbox(callerOf(req), query);
    const last = items.at(-1);
    res.json({ items: items.map(inboxItem), ...(last ? { next: last.id } : {}) });
  });

  on(r, V1, downloadInboxItem, async ({ params }, req, res) => {
    const { document, payload } = await deps.queries.download(callerOf(req), params.id);
    res.setHeader('X-Hub-Doc-Id', document.id);
    res.setHeader('X-Hub-Sha256', document.sha256);
    res.setHeader('X-Hub-Message-Type', document.messageType);
    await sendPayload(res, payload, document.size);
  });

  on(r, V1, acknowledgeInboxItem, async ({ params, body }, req, res) => {
    const d = await deps.queries.acknowledge(callerOf(req), params.id, body.result, body.reason);
    res.json({ id: d.id, transport: d.transport, ack: d.ack, ackedAt: d.ackedAt });
  });

  return r;
}
