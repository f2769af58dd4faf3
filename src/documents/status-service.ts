/**
 * Status messages: which delivery a status is about, who may send it, and the transition.
 * 13 (recall request) comes from the original sender and is relayed to the recipient; every other
 * code comes from a recipient and is relayed to the original sender (docs/domain.md §3).
 */
import { deliveryIdFor } from '../domain/ids.ts';
import { HubError } from '../domain/errors.ts';
import type { DeliveryStore } from '../domain/ports.ts';
import { applyBusinessStatus, statusDirection } from '../domain/status.ts';
import type { Originals } from './originals.ts';
import type { DeliveryRecord, DocumentRecord } from '../domain/types.ts';
import type { StatusMessage } from '../domain/edxml/index.ts';

export interface StatusTarget {
  readonly document: DocumentRecord;
  readonly delivery: DeliveryRecord;
  /** Who receives the relayed status. */
  readonly counterpart: string;
}

export class StatusService {
  readonly #deliveries: DeliveryStore;
  readonly #originals: Originals;

  constructor(deps: { deliveries: DeliveryStore; originals: Originals }) {
    this.#deliveries = deps.deliveries;
    this.#originals = deps.originals;
  }

  /**
   * The target is the document `ResponseFor/OrganId` (or the reporter, for 13) sent under
   * `ResponseFor/DocumentId`, and the delivery of it to the recipient side: a status about another
   * agency's document with the same DocumentId finds nothing (originals.ts).
   */
  async resolve(reporter: string, msg: StatusMessage): Promise<StatusTarget> {
    const fromSender = statusDirection(msg.statusCode) === 'from-sender';
    const { originalSender, recipient } = await this.#originals.statusParties(
      reporter,
      msg.statusCode,
      msg.responseFor.organId,
    );
    const document = await this.#originals.document(originalSender, msg.responseFor.documentId);
    if (!document) {
      throw new HubError(
        'STATUS_UNKNOWN_DOCUMENT',
        `no document ${msg.responseFor.documentId} from ${originalSender}`,
      );
    }
    const delivery = await this.#deliveries.get(deliveryIdFor(document.id, recipient));
    if (!delivery) {
      throw new HubError(
        'STATUS_UNKNOWN_DOCUMENT',
        `${recipient} never received ${msg.responseFor.documentId}`,
      );
    }
    if (!fromSender && delivery.transport === 'queued') {
      throw new HubError(
        'STATUS_UNKNOWN_DOCUMENT',
        `${msg.responseFor.documentId} has not been delivered to ${recipient} yet`,
      );
    }
    // Validate the transition now, so a refused status writes nothing.
    applyBusinessStatus(delivery.business, msg.statusCode);
    return { document, delivery, counterpart: fromSender ? recipient : document.senderCode };
  }

  /** Applies the transition with optimistic concurrency; idempotent per status document. */
  async apply(
    target: StatusTarget,
    msg: StatusMessage,
    statusDocId: string,
    reporter: string,
  ): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = attempt === 0 ? target.delivery : await this.#deliveries.get(target.delivery.id);
      if (!d) throw new HubError('STATUS_UNKNOWN_DOCUMENT', 'delivery disappeared');
      if (d.timeline.some((t) => t.statusDocId === statusDocId)) return;
      const next = applyBusinessStatus(d.business, msg.statusCode);
      const ok = await this.#deliveries.applyStatus(d.id, d.version, next, {
        code: msg.statusCode,
        at: new Date(),
        ...(msg.timestamp ? { reportedAt: msg.timestamp } : {}),
        ...(msg.description ? { description: msg.description } : {}),
        statusDocId,
        by: reporter,
      });
      if (ok) return;
    }
    throw new HubError('CONFLICT', 'the delivery changed too often; retry');
  }
}
