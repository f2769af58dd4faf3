/**
 * Revoke (BussinessDocType 1), update (2) and replace (3) of an accepted document (docs/domain.md §3,
 * docs/architecture-design.md §4). Only the original sender may issue them, and they reference the original
 * DocumentId (Bussiness/DocumentId). Effects on the original document's deliveries, applied before the
 * new message's commit point and idempotently per new message:
 *   revoke  → every delivery gets a pending recall (as a 13), answered by 15 / 16;
 *   update  → removed receivers (ReceiverType 0) get a pending recall, the others a pending update
 *             (answered by 15 / 16); added receivers (ReceiverType 1) receive the update message itself;
 *   replace → every delivery gets a pending update; the replacement is delivered as a new document.
 * The original document records the chain (type, new DocumentId, time, reason).
 */
import { HubError } from '../domain/errors.ts';
import type { DeliveryStore, DocumentStore } from '../domain/ports.ts';
import { applyBusinessStatus, isTerminal, type BusinessState } from '../domain/status.ts';
import type { Agency, ChainEntry, DeliveryRecord, DocumentRecord } from '../domain/types.ts';
import type { EdocMessage } from '../domain/edxml/index.ts';
import type { Originals } from './originals.ts';

const TYPES = { 1: 'revoke', 2: 'update', 3: 'replace' } as const;

export interface BusinessPlan {
  readonly original: DocumentRecord;
  readonly type: ChainEntry['type'];
  apply(newDocId: string, reporter: string): Promise<void>;
}

export class BusinessFlows {
  readonly #documents: DocumentStore;
  readonly #deliveries: DeliveryStore;
  readonly #originals: Originals;

  constructor(deps: { documents: DocumentStore; deliveries: DeliveryStore; originals: Originals }) {
    this.#documents = deps.documents;
    this.#deliveries = deps.deliveries;
    this.#originals = deps.originals;
  }

  /**
   * Validates a revoke/update/replace before anything is written; null for a new document. The
   * original is the sender's own document with that DocumentId (originals.ts): another agency's
   * document under the same DocumentId is never a target.
   */
  async plan(sender: Agency, msg: EdocMessage): Promise<BusinessPlan | null> {
    const b = msg.business;
    if (!b || b.docType === 0) return null;
    const type = TYPES[b.docType];
    const refId = b.docType === 3 ? (b.documentId ?? b.replacements[0]?.documentId) : b.documentId;
    if (!refId)
      throw new HubError('SCHEMA_INVALID', `a ${type} must name the original in Bussiness/DocumentId`);
    if (!(await this.#originals.mayBelongTo(sender, refId)))
      throw new HubError('NOT_ORIGINAL_SENDER', `${refId} is not a DocumentId of ${sender.code}`);
    const original = await this.#documents.findBySenderAndDocumentId(sender.code, refId);
    if (!original)
      throw new HubError('REFERENCED_DOCUMENT_UNKNOWN', `no accepted document ${refId} from ${sender.code}`);
    const deliveries = await this.#deliveries.forDocument(original.id);
    const removed = new Set(
      (b.documentInfo?.receivers ?? []).filter((r) => r.receiverType === 0).map((r) => r.organId),
    );
    const pendingFor = (d: DeliveryRecord): 'recall' | 'update' =>
      type === 'revoke' || removed.has(d.recipientCode) || (d.requestedCode && removed.has(d.requestedCode))
        ? 'recall'
        : 'update';
    return {
      original,
      type,
      apply: async (newDocId, reporter) => {
        for (const d of deliveries) {
          if (isTerminal(d.business)) continue;
          await this.#setPending(
            d.id,
            pendingFor(d),
            newDocId,
            reporter,
            `${type}${b.reason ? `: ${b.reason}` : ''}`,
          );
        }
        await this.#documents.appendChain(original.id, {
          docId: newDocId,
          documentId: msg.documentId,
          type,
          at: new Date(),
          ...(b.reason ? { reason: b.reason } : {}),
        });
      },
    };
  }

  async #setPending(
    deliveryId: string,
    kind: 'recall' | 'update',
    byDocId: string,
    reporter: string,
    description: string,
  ): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = await this.#deliveries.get(deliveryId);
      if (!d || d.timeline.some((t) => t.statusDocId === byDocId)) return;
      if (d.business.pending === kind) return;
      let next: BusinessState;
      if (kind === 'recall') {
        next = d.business.pending
          ? { code: d.business.code, pending: 'recall' }
          : applyBusinessStatus(d.business, '13');
      } else {
        next = { code: d.business.code, pending: d.business.pending ?? 'update' };
      }
      const ok = await this.#deliveries.applyStatus(
        d.id,
        d.version,
        next,
        kind === 'recall'
          ? { code: '13', at: new Date(), description, statusDocId: byDocId, by: reporter }
          : undefined,
      );
      if (ok) return;
    }
    throw new HubError('CONFLICT', 'the delivery changed too often; retry');
  }
}
