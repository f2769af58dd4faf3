/** Deterministic identifiers: a replayed write lands on the same records, and lookups go by `_id`. */
import { createHash } from 'node:crypto';

/** The document id derived from its deduplication key (`edoc:<sender>:<DocumentId>` or `status:<sender>:<sha256>`). */
export function docIdFor(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The deduplication key of a document message. */
export const edocKey = (senderCode: string, documentId: string) => `edoc:${senderCode}:${documentId}`;

export const deliveryIdFor = (docId: string, recipientCode: string) => `${docId}:${recipientCode}`;

/** The recipient a delivery id names (deliveryIdFor: a document id holds no colon); '' for none. */
export function recipientOfDeliveryId(deliveryId: string): string {
  const i = deliveryId.indexOf(':');
  return i < 0 ? '' : deliveryId.slice(i + 1);
}

/** The recipients a document's deliveries go to: its routing's `deliveredTo`, refusals left out. */
export function ownedRecipients(
  recipients: readonly { readonly outcome: string; readonly deliveredTo?: string | undefined }[] | undefined,
): string[] {
  return (recipients ?? []).flatMap((r) => (r.outcome !== 'refused' && r.deliveredTo ? [r.deliveredTo] : []));
}

/**
 * The sender code a DocumentId embeds (docs/domain.md §3: `{senderOrganId},{yyyy/MM/dd},{number}/{notation}`):
 * the text before the first comma, exactly as written; null when the DocumentId has no comma, i.e.
 * does not follow the format at all: such an id names no sender (docs/security.md, "Document
 * identity").
 */
export function documentIdSender(documentId: string): string | null {
  const i = documentId.indexOf(',');
  return i < 0 ? null : documentId.slice(0, i);
}
