/**
 * Hub-signed receipts (ARCHITECTURE.md §2 step 9): what the hub accepted, its SHA-256, when, and
 * the routing outcome per recipient, signed with the hub's certificate under the same profile.
 * The sender can prove what the hub accepted and when; anyone with the trust anchors can check it.
 */
import { HubError } from '../domain/errors.ts';
import { XMLParser } from 'fast-xml-parser';
import { signXml, verifyEnveloped, type SigningKey, type VerifiedMessage } from './signature.ts';
import type { TrustStore } from './trust.ts';

export const RECEIPT_NS = 'urn:vn-dochub:receipt:1';

export interface ReceiptData {
  readonly receiptId: string;
  readonly documentId: string;
  readonly senderCode: string;
  readonly sha256: string;
  readonly receivedAt: string;
  readonly recipients: readonly {
    code: string;
    outcome: 'accepted' | 'rerouted' | 'refused';
    deliveredTo?: string;
    reason?: string;
  }[];
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function buildSignedReceipt(d: ReceiptData, hubKey: SigningKey): string {
  const recipients = d.recipients
    .map(
      (r) =>
        `<Recipient code="${esc(r.code)}" outcome="${r.outcome}"${r.deliveredTo ? ` deliveredTo="${esc(r.deliveredTo)}"` : ''}${r.reason ? ` reason="${esc(r.reason)}"` : ''}/>`,
    )
    .join('');
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<HubReceipt xmlns="${RECEIPT_NS}" id="${esc(d.receiptId)}">` +
    `<DocumentId>${esc(d.documentId)}</DocumentId><Sender>${esc(d.senderCode)}</Sender>` +
    `<Sha256>${d.sha256}</Sha256><ReceivedAt>${d.receivedAt}</ReceivedAt>` +
    `<Recipients>${recipients}</Recipients></HubReceipt>`;
  return signXml(xml, hubKey, { xpath: '/*' });
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  processEntities: false,
  parseTagValue: false,
  isArray: (name) => name === 'Recipient',
});

const unesc = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#xD;/g, '\r')
    .replace(/&amp;/g, '&');

/** Verifies a receipt against the trust anchors and reads its data from the signed bytes only. */
export async function verifyReceipt(
  xml: string | Uint8Array,
  trust: TrustStore,
  at?: Date,
): Promise<ReceiptData & { signer: VerifiedMessage['signer'] }> {
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  const v = await verifyEnveloped(bytes, trust, {
    ...(at ? { at } : {}),
    rootNs: RECEIPT_NS,
    rootName: 'HubReceipt',
    where: 'HubReceipt',
    parentOk: (p, root) => p === root,
  });
  const r = (parser.parse(v.signedXml) as { HubReceipt?: Record<string, unknown> }).HubReceipt;
  if (!r) throw new HubError('SCHEMA_INVALID', 'not a hub receipt');
  const s = (k: string) => unesc(typeof r[k] === 'string' ? r[k] : '');
  const recips = (
    (r.Recipients as { Recipient?: Record<string, string>[] } | undefined)?.Recipient ?? []
  ).map((x) => ({
    code: unesc(x.code ?? ''),
    outcome: x.outcome as 'accepted',
    ...(x.deliveredTo ? { deliveredTo: unesc(x.deliveredTo) } : {}),
    ...(x.reason ? { reason: unesc(x.reason) } : {}),
  }));
  return {
    receiptId: unesc(typeof r.id === 'string' ? r.id : ''),
    documentId: s('DocumentId'),
    senderCode: s('Sender'),
    sha256: s('Sha256'),
    receivedAt: s('ReceivedAt'),
    recipients: recips,
    signer: v.signer,
  };
}
