/**
 * Hub-signed receipts (docs/architecture-design.md §2 step 9): what the hub accepted, its SHA-256, when, and
 * the routing outcome per recipient, signed with the hub's certificate under the same profile.
 * The sender can prove what the hub accepted and when; anyone with the trust anchors and the pinned
 * hub certificates can check it (src/crypto/hub-signed.ts), at the time the receipt states.
 */
import { HubError } from '../domain/errors.ts';
import { XMLParser } from 'fast-xml-parser';
import { signXml, type SigningKey, type VerifiedMessage } from './signature.ts';
import { verifyHubSigned, type HubTrust } from './hub-signed.ts';
import { DEFAULT_XML_LIMITS, decodeUtf8, guardXml, parseXmlStrict } from './xml-guard.ts';

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

function statedReceivedAt(root: Element): Date {
  for (let n = root.firstChild; n; n = n.nextSibling)
    if (
      n.nodeType === 1 &&
      (n as Element).localName === 'ReceivedAt' &&
      (n as Element).namespaceURI === RECEIPT_NS
    )
      return new Date((n as Element).textContent ?? '');
  throw new HubError('SCHEMA_INVALID', 'the receipt has no ReceivedAt');
}

/**
 * The time a receipt states, read before any verification (for setting up offline revocation checks at
 * that time); verifyReceipt() then checks it is the signed one.
 */
export function receiptTime(bytes: Uint8Array): Date {
  guardXml(bytes, DEFAULT_XML_LIMITS);
  return statedReceivedAt(parseXmlStrict(decodeUtf8(bytes)).documentElement);
}

/**
 * Verifies a receipt as a hub-signed artefact (pinned hub certificate with the hub-signing EKU, valid
 * at the receipt's own ReceivedAt) and reads its data from the signed bytes only.
 */
export async function verifyReceipt(
  xml: string | Uint8Array,
  hub: HubTrust,
): Promise<ReceiptData & { signer: VerifiedMessage['signer'] }> {
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  const v = await verifyHubSigned(bytes, hub, {
    rootNs: RECEIPT_NS,
    rootName: 'HubReceipt',
    statedTime: statedReceivedAt,
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
  // The certificate was checked at the ReceivedAt read before the signature was: it must be the signed one.
  if (new Date(s('ReceivedAt')).getTime() !== v.at.getTime())
    throw new HubError('SIGNATURE_INVALID', 'the receipt time checked is not the signed one');
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
