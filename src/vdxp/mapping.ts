/**
 * How the hub's model reads in the national-axis vocabulary (docs/vdxp-protocol.md §5, §8: codes,
 * status vocabularies and time formats are the server's to choose; the SDK passes them through).
 * Documented for agencies in docs/national-axis.md.
 */
import { ERROR_CODES, type ErrorCode, type HubError } from '../domain/errors.ts';
import { validateAgencyCode } from '../domain/codes.ts';
import type { Agency, DeliveryRecord, DocumentRecord, InboxItem, RoutingOutcome } from '../domain/types.ts';
import type { EnvelopeObject } from './envelope.ts';

// ---- error codes -------------------------------------------------------------------------------

/**
 * Hub error code → envelope ErrorCode. Generic refusals keep their HTTP status as the code; the
 * refusals about the message itself get codes of their own (1xxx), grouped by what went wrong.
 * A code missing here (added later) falls back to its HTTP status; it is never "0".
 */
export const VDXP_ERROR_CODES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: '400',
  UNAUTHENTICATED: '401',
  FORBIDDEN: '403',
  VDXP_ADMIN_DISABLED: '403',
  VDXP_ADMIN_NOT_ALLOWED: '403',
  NOT_FOUND: '404',
  CONFLICT: '409',
  PAYLOAD_TOO_LARGE: '413',
  UNSUPPORTED_MEDIA_TYPE: '415',
  RATE_LIMITED: '429',
  INTERNAL: '500',
  UNAVAILABLE: '503',
  XML_MALFORMED: '1001',
  XML_PROLOG_INVALID: '1002',
  XML_DOCTYPE_FORBIDDEN: '1003',
  XML_LIMITS_EXCEEDED: '1004',
  SCHEMA_INVALID: '1005',
  CONTENT_HASH_MISMATCH: '1006',
  SIGNATURE_MISSING: '1101',
  SIGNATURE_PROFILE_VIOLATION: '1102',
  SIGNATURE_ALGORITHM_FORBIDDEN: '1103',
  SIGNATURE_INVALID: '1104',
  CERT_UNTRUSTED: '1201',
  CERT_EXPIRED: '1202',
  CERT_NOT_YET_VALID: '1203',
  CERT_REVOKED: '1204',
  CERT_REVOCATION_UNKNOWN: '1205',
  CERT_KEY_USAGE: '1206',
  SENDER_MISMATCH: '1301',
  CALLER_MISMATCH: '1302',
  AGENCY_CODE_INVALID: '1401',
  UNKNOWN_RECIPIENT: '1402',
  SECRET_ROUTE_REQUIRED: '1403',
  DUPLICATE_CONFLICT: '1404',
  STATUS_TRANSITION_INVALID: '1501',
  STATUS_NO_PENDING_REQUEST: '1505',
  STATUS_UNKNOWN_DOCUMENT: '1502',
  REFERENCED_DOCUMENT_UNKNOWN: '1503',
  NOT_ORIGINAL_SENDER: '1504',
  DOCUMENT_ID_SENDER_MISMATCH: '1405',
};

export function vdxpErrorCode(err: HubError): string {
  return VDXP_ERROR_CODES[err.code] ?? String(err.status);
}

/**
 * Longest ErrorDesc sent. The protocol sets no bound (the SDK reads it into a String), but agency
 * systems log and store it: a reason quoting a long input is cut, the code in brackets always kept.
 */
export const VDXP_ERROR_DESC_MAX = 1000;

/**
 * ErrorDesc: the Vietnamese message, the English one in parentheses, the reason (what exactly was
 * refused, as /v1 says it), then the hub's stable code in brackets:
 * `Thông điệp không đúng cấu trúc edXML (The message does not follow the edXML schema): missing
 * TraceHeader[1]/OrganId [SCHEMA_INVALID]`. Sent \uXXXX-escaped (src/vdxp/envelope.ts).
 */
export function vdxpErrorDesc(err: HubError): string {
  const spec = ERROR_CODES[err.code];
  const head = `${spec.vi} (${spec.en})`;
  const tail = ` [${err.code}]`;
  if (!err.reason) return head + tail;
  const room = VDXP_ERROR_DESC_MAX - head.length - tail.length - 2;
  const reason = err.reason.length > room ? `${err.reason.slice(0, Math.max(0, room - 1))}…` : err.reason;
  return `${head}: ${reason}${tail}`;
}

// ---- identifiers -------------------------------------------------------------------------------

const HUB_DOC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The `docId` a receiving system sees: the delivery (`<hub docId>:<recipient code>`) with `_` for
 * `:` — the SDK saves files as `<filePath>/<yyyy>/<M>/<docId>.edxml`, and `:` is not allowed in
 * Windows file names. Codes never contain `_`, so the mapping is reversible.
 */
export function vdxpDocIdOf(deliveryId: string): string {
  return deliveryId.replace(':', '_');
}

/**
 * The delivery ids a `docId` may stand for: `<docId>_<code>` (as listed), `<docId>:<code>` (the
 * hub's own form), or a bare hub document id (the sender's DocId), tried for every agency the
 * calling system acts for.
 */
export function deliveryIdCandidates(raw: string, agencyCodes: readonly string[]): string[] {
  const id = raw.trim();
  const sep = id.search(/[_:]/);
  if (sep > 0) {
    const doc = id.slice(0, sep).toLowerCase();
    const code = id.slice(sep + 1).toUpperCase();
    return HUB_DOC_ID.test(doc) && code ? [`${doc}:${code}`] : [];
  }
  const doc = id.toLowerCase();
  return HUB_DOC_ID.test(doc) ? agencyCodes.map((c) => `${doc}:${c}`) : [];
}

/**
 * `to` arrives as JSON text (quirk 9): `["A","B"]` for an array, `"A"` with the quotes for a
 * string. Plain text (another client) is read as a comma- or semicolon-separated list.
 */
export function parseToHeader(value: string | undefined): string[] {
  if (value === undefined) return [];
  const text = value.trim();
  if (text === '') return [];
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'string') return v.trim() ? [v.trim()] : [];
    if (typeof v === 'number') return [String(v)];
    if (Array.isArray(v))
      return v
        .filter((x): x is string | number => typeof x === 'string' || typeof x === 'number')
        .map((x) => String(x).trim())
        .filter(Boolean);
  } catch {
    // not JSON: a plain list
  }
  return text
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

// ---- times -------------------------------------------------------------------------------------

/** `yyyy-MM-dd HH:mm:ss` in Vietnam time (UTC+7, no daylight saving), as in the protocol examples. */
export function vnTime(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const t = new Date(d).getTime();
  if (Number.isNaN(t)) return undefined;
  return new Date(t + 7 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

// ---- documents ---------------------------------------------------------------------------------

export type MessageTypeFilter = 'edoc' | 'status' | undefined;

/** `messagetype` (edoc / status, any case); anything else is no filter. */
export function messageTypeOf(v: string | undefined): MessageTypeFilter {
  const t = v?.trim().toLowerCase();
  return t === 'edoc' || t === 'status' ? t : undefined;
}

/** A received item of getReceivedEdocList (`status`: initial, or processing after updateStatus). */
export function receivedItem(d: InboxItem, processingAt: Date | undefined): EnvelopeObject {
  return {
    docId: vdxpDocIdOf(d.id),
    serviceType: 'eDoc',
    messageType: d.messageType,
    created_time: vnTime(d.queuedAt),
    updated_time: vnTime(processingAt ?? d.availableAt ?? d.queuedAt),
    from: d.senderCode,
    to: d.recipientCode,
    status: processingAt ? 'processing' : 'initial',
    status_desc: processingAt ? 'Đang xử lý' : 'Chờ nhận',
    // Not read by the SDK: the edXML DocumentId and the code the sender addressed (merged units).
    documentId: d.documentId,
    ...(d.requestedCode ? { addressedTo: d.requestedCode } : {}),
  };
}

const BUSINESS_DESC: Record<string, string> = {
  '01': 'Đã đến',
  '02': 'Từ chối tiếp nhận',
  '03': 'Đã tiếp nhận',
  '04': 'Phân công',
  '05': 'Đang xử lý',
  '06': 'Hoàn thành',
  recalled: 'Đã thu hồi',
};

/** The transport side of a delivery as a send status: pending, sent, done or fail. */
function sendStatusOf(d: DeliveryRecord): { sendStatus: string; sendStatusDesc: string } {
  switch (d.transport) {
    case 'queued':
      return { sendStatus: 'pending', sendStatusDesc: 'Đang chuyển' };
    case 'available':
    case 'pushed':
      return { sendStatus: 'sent', sendStatusDesc: 'Đã chuyển đến nơi nhận' };
    case 'acknowledged':
      return d.ack?.result === 'fail'
        ? { sendStatus: 'fail', sendStatusDesc: `Nơi nhận báo lỗi: ${d.ack.reason ?? ''}`.trim() }
        : { sendStatus: 'done', sendStatusDesc: 'Nơi nhận đã nhận' };
    case 'failed':
    case 'dead-lettered':
      return { sendStatus: 'fail', sendStatusDesc: `Không chuyển được: ${d.lastError ?? ''}`.trim() };
  }
}

/** One line of getSentEdocList: a document and one of its recipients. */
export function sentItem(doc: DocumentRecord, d: DeliveryRecord): EnvelopeObject {
  const code = d.business.code;
  const pending = d.business.pending;
  return {
    serviceType: 'eDoc',
    messageType: doc.messageType,
    senderDocId: doc.id,
    receiverDocId: vdxpDocIdOf(d.id),
    fromCode: doc.senderCode,
    toCode: d.recipientCode,
    title: doc.meta.subject,
    notation: notationOf(doc),
    sentTime: vnTime(doc.receivedAt),
    receivedTime: vnTime(d.ackedAt ?? d.availableAt),
    ...sendStatusOf(d),
    ...(code
      ? {
          receiveStatus: code,
          receiveStatusDesc:
            (BUSINESS_DESC[code] ?? code) +
            (pending ? ` (chờ trả lời yêu cầu ${pending === 'recall' ? 'thu hồi' : 'cập nhật'})` : ''),
        }
      : {}),
    documentId: doc.documentId,
    ...(d.requestedCode ? { addressedTo: d.requestedCode } : {}),
  };
}

/** A recipient the hub could not route to (no delivery exists): shown as a failed line. */
export function refusedItem(doc: DocumentRecord, r: RoutingOutcome): EnvelopeObject {
  return {
    serviceType: 'eDoc',
    messageType: doc.messageType,
    senderDocId: doc.id,
    fromCode: doc.senderCode,
    toCode: r.code,
    title: doc.meta.subject,
    notation: notationOf(doc),
    sentTime: vnTime(doc.receivedAt),
    sendStatus: 'fail',
    sendStatusDesc: `Không có nơi nhận hợp lệ: ${r.reason ?? ''}`.trim(),
    documentId: doc.documentId,
  };
}

function notationOf(doc: DocumentRecord): string | undefined {
  const { codeNumber, codeNotation } = doc.meta;
  if (!codeNumber && !codeNotation) return undefined;
  return [codeNumber, codeNotation].filter(Boolean).join('/');
}

// ---- directory ---------------------------------------------------------------------------------

/** Hierarchy level of a code (1 = ministries, provinces, level-1 bodies), from the code itself. */
export function levelOf(code: string): number | undefined {
  const v = validateAgencyCode(code);
  return v.ok ? v.parsed.level : undefined;
}

/** `pid` is the parent's code; level-1 bodies have "0" (the protocol's example). */
const pidOf = (a: Agency) => a.parentCode ?? '0';

/** getAgenciesList: `code` is the current code, `oldCode` the QCVN 102 13-character one. */
export function agencyItem(a: Agency): EnvelopeObject {
  return {
    id: a.code,
    pid: pidOf(a),
    code: a.code,
    name: a.name,
    mail: a.contact.email,
    oldCode: a.legacyCode,
  };
}

/** getAgenciesListQD20: `code` per Decision 20/2020, `code102` the QCVN 102 form where it exists. */
export function agencyItemQd20(a: Agency): EnvelopeObject {
  return {
    id: a.code,
    pid: pidOf(a),
    code: a.code,
    name: a.name,
    mail: a.contact.email,
    code102: a.legacyCode,
  };
}

/** getSynchronizeUnit: every unit, closed ones `deleted`, with the directory's change version. */
export function syncItem(a: Agency): EnvelopeObject {
  const v = validateAgencyCode(a.code);
  return {
    id: a.code,
    pid: pidOf(a),
    code: a.code,
    name: a.name,
    mail: a.contact.email,
    version: a.version,
    centerCode: v.ok ? v.parsed.level1 : a.code.split('.')[0],
    deleted: a.status === 'closed',
    modifyDate: vnTime(a.updatedAt),
    isAgency: v.ok ? v.parsed.kind === 'agency' : true,
    // Not read by the SDK: where documents to a closed unit go (its successors), as text.
    ...(a.status === 'closed' && a.successors.length ? { successors: a.successors.join(';') } : {}),
    ...(a.legacyCode ? { oldCode: a.legacyCode } : {}),
  };
}
