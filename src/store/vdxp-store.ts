/**
 * Queries the national-axis API needs beyond the hub's own ports (src/vdxp/): counts of waiting
 * deliveries, the documents an agency sent, and the "processing" marks of updateStatus. FerretDB
 * 1.x compatible: plain filters, no $lookup, no $elemMatch; deliveries are read by `_id`.
 */
import type { Connection, mongo } from 'mongoose';
import type { DeliveryStore } from '../domain/ports.ts';
import type { DeliveryRecord, DocumentRecord, MessageType } from '../domain/types.ts';
import { deliveryIdFor } from '../domain/ids.ts';
import type { Models } from './models.ts';

type Doc = Record<string, unknown> & { _id: unknown };

function toDocument(d: Doc): DocumentRecord {
  const { _id, ...rest } = d;
  for (const [k, v] of Object.entries(rest)) if (v === null) delete rest[k];
  return { id: String(_id), ...rest } as unknown as DocumentRecord;
}

export interface SentQuery {
  readonly senderCodes: readonly string[];
  readonly messageType: MessageType;
  readonly limit: number;
}

export class MongoVdxpStore {
  readonly #m: Pick<Models, 'Delivery' | 'Document' | 'InboxEntry'>;
  readonly #deliveries: Pick<DeliveryStore, 'get'>;
  readonly #marks: mongo.Collection<{ _id: string; at: Date }>;

  constructor(
    conn: Connection,
    models: Pick<Models, 'Delivery' | 'Document' | 'InboxEntry'>,
    deliveries: Pick<DeliveryStore, 'get'>,
  ) {
    this.#m = models;
    this.#deliveries = deliveries;
    if (!conn.db) throw new Error('MongoDB connection not open');
    this.#marks = conn.db.collection<{ _id: string; at: Date }>('vdxp_processing');
  }

  /** Deliveries waiting in the pull inbox of these agencies (not yet acknowledged). */
  countAvailable(recipientCodes: readonly string[], messageType: MessageType): Promise<number> {
    if (recipientCodes.length === 0) return Promise.resolve(0);
    // The inbox entries (models.ts): only what is pending is read.
    return this.#m.InboxEntry.countDocuments({ r: { $in: [...recipientCodes] }, mt: messageType });
  }

  delivery(id: string): Promise<DeliveryRecord | null> {
    return this.#deliveries.get(id);
  }

  /** The most recent accepted messages these agencies sent, newest first. */
  async sentDocuments(q: SentQuery): Promise<DocumentRecord[]> {
    if (q.senderCodes.length === 0) return [];
    const docs = await this.#m.Document.find(
      {
        senderCode: { $in: [...q.senderCodes] },
        state: 'accepted',
        messageType: q.messageType,
      },
      { payload: 0 },
    )
      .sort({ receivedAt: -1, _id: 1 })
      .limit(q.limit)
      .lean<Doc[]>();
    return docs.map(toDocument);
  }

  async document(id: string): Promise<DocumentRecord | null> {
    const d = await this.#m.Document.findById(id, { payload: 0 }).lean<Doc>();
    return d && d.state === 'accepted' ? toDocument(d) : null;
  }

  /** The deliveries of a document, read by `_id` from its routing outcomes (no scan on FerretDB). */
  async deliveriesOf(doc: DocumentRecord): Promise<DeliveryRecord[]> {
    const codes = [
      ...new Set(
        doc.recipients.filter((r) => r.outcome !== 'refused' && r.deliveredTo).map((r) => r.deliveredTo!),
      ),
    ];
    const found = await Promise.all(codes.map((c) => this.#deliveries.get(deliveryIdFor(doc.id, c))));
    return found.filter((d): d is DeliveryRecord => d !== null);
  }

  /** updateStatus "processing": remembered (idempotently) and shown in the received list. */
  async markProcessing(deliveryId: string, at: Date): Promise<void> {
    await this.#marks.updateOne({ _id: deliveryId }, { $setOnInsert: { at } }, { upsert: true });
  }

  async processingMarks(deliveryIds: readonly string[]): Promise<Map<string, Date>> {
    if (deliveryIds.length === 0) return new Map();
    const rows = await this.#marks.find({ _id: { $in: [...deliveryIds] } }).toArray();
    return new Map(rows.map((r) => [r._id, new Date(r.at)]));
  }

  async clearProcessing(deliveryId: string): Promise<void> {
    await this.#marks.deleteOne({ _id: deliveryId });
  }
}
