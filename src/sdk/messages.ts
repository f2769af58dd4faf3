/**
 * Typed builders of edXML messages for agency systems: a new document from a few fields (DocumentId,
 * dates, trace header, manifest filled in), attachments from files or buffers, status messages
 * answering a received document, and the revoke / update / replace messages of QCVN 102
 * (BussinessDocType 1/2/3, see docs/status-lifecycle.md and src/documents/business-flows.ts).
 * Every field of the model (src/domain/edxml/model.ts) can still be set directly.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type {
  Attachment,
  Business,
  EdocMessage,
  Organ,
  Priority,
  StaffInfo,
  StatusCode,
  StatusMessage,
} from '../domain/edxml/index.ts';
import { docIdFor, edocKey } from '../domain/ids.ts';

const VN_OFFSET_MS = 7 * 3_600_000;

/** `yyyy/MM/dd` in Vietnam time (UTC+7), as QCVN 102 dates are written. */
export function vnDate(d: Date = new Date()): string {
  return new Date(d.getTime() + VN_OFFSET_MS).toISOString().slice(0, 10).replace(/-/g, '/');
}

/** `yyyy/MM/dd HH:mm:ss` in Vietnam time (UTC+7). */
export function vnTimestamp(d: Date = new Date()): string {
  const s = new Date(d.getTime() + VN_OFFSET_MS).toISOString();
  return `${s.slice(0, 10).replace(/-/g, '/')} ${s.slice(11, 19)}`;
}

/** The hub's id of a document (what GET /v1/documents/{id} takes), from its sender and DocumentId. */
export function docIdOf(senderCode: string, documentId: string): string {
  return docIdFor(edocKey(senderCode, documentId));
}

const TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.zip': 'application/zip',
  '.xml': 'application/xml',
  '.txt': 'text/plain',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

export interface AttachmentOptions {
  readonly contentType?: string;
  readonly description?: string;
  /** Default: cid:<n> in the order given to newDocument. */
  readonly contentId?: string;
}

/** An attachment ready for the model: bytes base64-encoded, content type from the extension unless given. */
export interface AttachmentInput {
  readonly name: string;
  readonly data: Uint8Array;
  readonly contentType?: string;
  readonly description?: string;
  readonly contentId?: string;
}

export function attachmentFromBuffer(
  name: string,
  data: Uint8Array,
  o: AttachmentOptions = {},
): AttachmentInput {
  return { name, data, ...o };
}

export function attachmentFromFile(
  file: string,
  o: AttachmentOptions & { name?: string } = {},
): AttachmentInput {
  const { name, ...rest } = o;
  return { name: name ?? path.basename(file), data: readFileSync(file), ...rest };
}

function toAttachment(a: AttachmentInput, i: number): Attachment {
  return {
    contentId: a.contentId ?? `cid:${i + 1}`,
    attachmentName: a.name,
    ...(a.description ? { description: a.description } : {}),
    contentType: a.contentType ?? TYPES[path.extname(a.name).toLowerCase()] ?? 'application/octet-stream',
    contentBase64: Buffer.from(a.data).toString('base64'),
  };
}

const organ = (o: string | Organ): Organ => (typeof o === 'string' ? { organId: o } : o);

export interface NewDocumentInput {
  readonly from: string | Organ;
  readonly to: readonly (string | Organ)[];
  readonly subject: string;
  /** Số (document number); default: a random number (development only: real systems use their register). */
  readonly number?: string;
  /** Ký hiệu (notation), e.g. "UBND-VP". */
  readonly notation: string;
  /** Promulgation date; default now. */
  readonly date?: Date;
  readonly place?: string;
  readonly documentType?: EdocMessage['documentType'];
  readonly content?: string;
  readonly signerInfo?: EdocMessage['signerInfo'];
  /** `yyyy/MM/dd`, or a Date (written in Vietnam time). */
  readonly dueDate?: string | Date;
  readonly priority?: Priority;
  readonly toPlaces?: readonly string[];
  readonly steeringType?: string;
  readonly responseFor?: EdocMessage['responseFor'];
  readonly otherInfo?: Partial<Omit<EdocMessage['otherInfo'], 'priority'>>;
  readonly business?: Business;
  readonly attachments?: readonly AttachmentInput[];
}

/** A new document (BussinessDocType 0) with DocumentId, dates, trace header and manifest filled in. */
export function newDocument(i: NewDocumentInput): EdocMessage {
  const from = organ(i.from);
  const date = i.date ?? new Date();
  const number = i.number ?? String(1000 + (randomBytes(4).readUInt32BE(0) % 8_999_000));
  const attachments = (i.attachments ?? []).map(toAttachment);
  const promulgationDate = vnDate(date);
  return {
    kind: 'edoc',
    from,
    to: i.to.map(organ),
    documentId: `${from.organId},${promulgationDate},${number}/${i.notation}`,
    code: { codeNumber: number, codeNotation: i.notation },
    promulgationInfo: { ...(i.place ? { place: i.place } : {}), promulgationDate },
    ...(i.documentType ? { documentType: i.documentType } : {}),
    subject: i.subject,
    ...(i.content ? { content: i.content } : {}),
    ...(i.signerInfo ? { signerInfo: i.signerInfo } : {}),
    ...(i.dueDate ? { dueDate: typeof i.dueDate === 'string' ? i.dueDate : vnDate(i.dueDate) } : {}),
    toPlaces: [...(i.toPlaces ?? [])],
    ...(i.steeringType ? { steeringType: i.steeringType } : {}),
    responseFor: [...(i.responseFor ?? [])],
    otherInfo: { appendixes: [], ...i.otherInfo, priority: i.priority ?? 0 },
    traceHeaders: [{ organId: from.organId, timestamp: vnTimestamp(date) }],
    business: i.business ?? { docType: 0, replacements: [] },
    manifest: attachments.map((a) => ({
      contentId: a.contentId,
      contentType: a.contentType,
      ...(a.description ? { description: a.description } : {}),
      attachmentName: a.attachmentName,
    })),
    attachments,
  };
}

/** What a status message needs to know about the document it answers. */
export interface DocumentRef {
  /** The original sender. */
  readonly senderCode: string;
  readonly documentId: string;
  /** `number/notation`. */
  readonly code?: string;
  readonly promulgationDate?: string;
}

export function refOf(m: EdocMessage): DocumentRef {
  return {
    senderCode: m.from.organId,
    documentId: m.documentId,
    code: `${m.code.codeNumber}/${m.code.codeNotation}`,
    promulgationDate: m.promulgationInfo.promulgationDate,
  };
}

export interface StatusInput {
  /** The reporting agency (a recipient; for 13 the original sender). */
  readonly from: string | Organ;
  readonly original: EdocMessage | DocumentRef;
  readonly code: StatusCode;
  readonly description?: string;
  readonly staffInfo?: StaffInfo;
  /** For 13 (recall, sent by the original sender): the recipient it is addressed to. */
  readonly recipient?: string;
  readonly at?: Date;
}

/**
 * A status message (01 arrived … 06 completed, 02 refused, 15/16 answers to a recall or update;
 * 13 from the original sender, naming the recipient).
 */
export function statusFor(i: StatusInput): StatusMessage {
  const ref = 'kind' in i.original ? refOf(i.original) : i.original;
  if (i.code === '13' && !i.recipient)
    throw new TypeError('a 13 (recall) status names the recipient it is addressed to (recipient)');
  return {
    kind: 'status',
    from: organ(i.from),
    responseFor: {
      organId: i.code === '13' ? i.recipient! : ref.senderCode,
      ...(ref.code ? { code: ref.code } : {}),
      ...(ref.promulgationDate ? { promulgationDate: ref.promulgationDate } : {}),
      documentId: ref.documentId,
    },
    ...(i.staffInfo ? { staffInfo: i.staffInfo } : {}),
    statusCode: i.code,
    ...(i.description ? { description: i.description } : {}),
    timestamp: vnTimestamp(i.at),
  };
}

/** The document a revoke / update / replace refers to: its DocumentId and its recipients. */
export interface OriginalRef {
  readonly documentId: string;
  readonly recipients: readonly string[];
  readonly subject?: string;
}

export function originalOf(m: EdocMessage): OriginalRef {
  return { documentId: m.documentId, recipients: m.to.map((t) => t.organId), subject: m.subject };
}

type Extra = Omit<NewDocumentInput, 'to' | 'business' | 'subject' | 'notation'> & {
  readonly subject?: string;
  readonly notation?: string;
  readonly staffInfo?: StaffInfo;
};

/** Revoke (thu hồi, BussinessDocType 1): every recipient gets a pending recall it answers with 15 or 16. */
export function revokeDocument(original: OriginalRef, i: Extra & { reason: string }): EdocMessage {
  const { reason, staffInfo, ...rest } = i;
  return newDocument({
    notation: 'TH',
    subject: `Thu hồi văn bản ${original.documentId}${original.subject ? `: ${original.subject}` : ''}`,
    ...rest,
    to: original.recipients,
    business: {
      docType: 1,
      documentId: original.documentId,
      reason,
      replacements: [],
      ...(staffInfo ? { staffInfo } : {}),
    },
  });
}

/**
 * Update (cập nhật, BussinessDocType 2): the kept and added recipients get the updated document; removed
 * recipients get a pending recall, kept ones a pending update (both answered with 15 or 16).
 */
export function updateDocument(
  original: OriginalRef,
  i: Extra & {
    reason: string;
    subject: string;
    addRecipients?: readonly string[];
    removeRecipients?: readonly string[];
    metadataChanged?: boolean;
  },
): EdocMessage {
  const { reason, staffInfo, addRecipients = [], removeRecipients = [], metadataChanged = true, ...rest } = i;
  const removed = new Set(removeRecipients);
  const to = [
    ...original.recipients.filter((r) => !removed.has(r)),
    ...addRecipients.filter((a) => !original.recipients.includes(a)),
  ];
  const receivers = [
    ...removeRecipients.map((organId) => ({ organId, receiverType: 0 as const })),
    ...addRecipients.map((organId) => ({ organId, receiverType: 1 as const })),
  ];
  return newDocument({
    notation: 'CN',
    ...rest,
    to,
    business: {
      docType: 2,
      documentId: original.documentId,
      reason,
      documentInfo: { metadataChanged, receiversChanged: receivers.length > 0, receivers },
      replacements: [],
      ...(staffInfo ? { staffInfo } : {}),
    },
  });
}

/**
 * Replace (thay thế, BussinessDocType 3): the new document replaces the original for its recipients
 * (each gets a pending update on the original, answered with 15 or 16).
 */
export function replaceDocument(
  original: OriginalRef,
  i: Extra & { reason: string; subject: string; to?: readonly string[] },
): EdocMessage {
  const { reason, staffInfo, to, ...rest } = i;
  return newDocument({
    notation: 'TT',
    ...rest,
    to: to ?? original.recipients,
    business: {
      docType: 3,
      documentId: original.documentId,
      reason,
      replacements: [{ documentId: original.documentId, organIds: [...original.recipients] }],
      ...(staffInfo ? { staffInfo } : {}),
    },
  });
}
