/** What agency systems may read: their inbox, message bytes, and the state of their documents. */
import { agencyScope, inboxItem, systemParty, visibleDocument } from '../access/policy.ts';
import { HubError } from '../domain/errors.ts';
import type { Stores } from '../domain/ports.ts';
import type { PayloadStream } from '../domain/payload.ts';
import type { DeliveryRecord, DocumentRecord, SystemCredential } from '../domain/types.ts';

export class DocumentQueries {
  readonly #stores: Pick<Stores, 'documents' | 'deliveries' | 'audit'>;

  constructor(stores: Pick<Stores, 'documents' | 'deliveries' | 'audit'>) {
    this.#stores = stores;
  }

  inbox(
    caller: SystemCredential,
    q: { agency?: string; type?: 'edoc' | 'status'; limit?: number; after?: string },
  ) {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    return this.#stores.deliveries.inbox({
      // A system reads its own agencies' inboxes (src/access/policy.ts): never null for a system.
      recipientCodes: agencyScope(systemParty(caller), q.agency) ?? [],
      limit,
      ...(q.type ? { messageType: q.type } : {}),
      ...(q.after ? { after: q.after } : {}),
    });
  }

  async #ownDelivery(caller: SystemCredential, deliveryId: string): Promise<DeliveryRecord> {
    return inboxItem(systemParty(caller), deliveryId, await this.#stores.deliveries.get(deliveryId));
  }

  /** The signed bytes as stored, a chunk at a time; `document.size` is their length. */
  async download(
    caller: SystemCredential,
    deliveryId: string,
  ): Promise<{ delivery: DeliveryRecord; document: DocumentRecord; payload: PayloadStream }> {
    const delivery = await this.#ownDelivery(caller, deliveryId);
    const opened = await this.#stores.documents.open(delivery.docId);
    if (!opened?.payload) throw new HubError('INTERNAL', `payload of ${delivery.docId} is missing`);
    return { delivery, document: opened.document, payload: opened.payload };
  }

  async acknowledge(
    caller: SystemCredential,
    deliveryId: string,
    result: 'done' | 'fail',
    reason?: string,
  ): Promise<DeliveryRecord> {
    // The store checks that the delivery is the caller's and was delivered, with the update itself.
    const d = await this.#stores.deliveries.acknowledge(
      deliveryId,
      caller.agencyCodes,
      result,
      reason,
      new Date(),
    );
    // Same answer for "absent" and "not yours": nothing leaks about other agencies' traffic.
    if (d === 'not-found') throw new HubError('NOT_FOUND', `no inbox item ${deliveryId}`);
    if (d === 'conflict')
      throw new HubError('CONFLICT', `inbox item ${deliveryId} cannot be acknowledged in its state`);
    // A repeat (the client's retry, a replay: docs/threat-model.md T3) changes nothing: the first
    // acknowledgement's answer, no second audit entry.
    if (!d.first) return d.delivery;
    await this.#stores.audit.append({
      actor: caller.systemId,
      action: 'delivery.acknowledged',
      subject: deliveryId,
      data: { result: d.delivery.ack?.result ?? result, ...(reason ? { reason } : {}) },
    });
    return d.delivery;
  }

  /** What the caller may see of a document (src/access/policy.ts). */
  async document(
    caller: SystemCredential,
    docId: string,
  ): Promise<{ document: DocumentRecord; deliveries: DeliveryRecord[] }> {
    const document = await this.#stores.documents.get(docId);
    const all = document?.state === 'accepted' ? await this.#stores.deliveries.forDocument(docId) : [];
    const { deliveries } = visibleDocument(systemParty(caller), docId, document, all);
    return { document: document!, deliveries };
  }
}
