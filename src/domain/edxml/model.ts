/** The edXML message model (QCVN 102:2016), see docs/domain.md §3. */
import type { BusinessCode } from '../status.ts';

export const EDXML_NS = 'http://www.mic.gov.vn/TBT/QCVN_102_2016';

export interface Organ {
  organId: string;
  organizationInCharge?: string;
  organName?: string;
  organAdd?: string;
  email?: string;
  telephone?: string;
  fax?: string;
  website?: string;
}

export interface ResponseFor {
  organId: string;
  code?: string;
  promulgationDate?: string;
  documentId: string;
}

export interface StaffInfo {
  department?: string;
  staff?: string;
  mobile?: string;
  email?: string;
}

export type Priority = 0 | 1 | 2 | 3 | 4;
export type BusinessDocType = 0 | 1 | 2 | 3;

export const PRIORITY = {
  0: { vi: 'Thường', en: 'normal' },
  1: { vi: 'Khẩn', en: 'urgent' },
  2: { vi: 'Thượng khẩn', en: 'very urgent' },
  3: { vi: 'Hỏa tốc', en: 'immediate' },
  4: { vi: 'Hỏa tốc hẹn giờ', en: 'immediate at a set time' },
} as const;

export const BUSINESS_DOC_TYPES = {
  0: { vi: 'Văn bản mới', en: 'new' },
  1: { vi: 'Thu hồi', en: 'revoke' },
  2: { vi: 'Cập nhật', en: 'update' },
  3: { vi: 'Thay thế', en: 'replace' },
} as const;

export const STATUS_CODES = {
  '01': { vi: 'Đã đến', en: 'arrived' },
  '02': { vi: 'Từ chối tiếp nhận', en: 'refused' },
  '03': { vi: 'Đã tiếp nhận', en: 'accepted' },
  '04': { vi: 'Phân công', en: 'assigned' },
  '05': { vi: 'Đang xử lý', en: 'processing' },
  '06': { vi: 'Hoàn thành', en: 'completed' },
  '13': { vi: 'Thu hồi / lấy lại', en: 'recall requested' },
  '15': { vi: 'Đồng ý thu hồi / cập nhật', en: 'recall or update agreed' },
  '16': { vi: 'Từ chối thu hồi / cập nhật', en: 'recall or update refused' },
} as const satisfies Record<BusinessCode, { vi: string; en: string }>;

export type StatusCode = BusinessCode;

export interface Business {
  docType: BusinessDocType;
  reason?: string;
  documentId?: string;
  paper?: string;
  documentInfo?: {
    metadataChanged: boolean;
    receiversChanged: boolean;
    receivers: { organId: string; receiverType: 0 | 1 }[];
  };
  replacements: { documentId: string; organIds: string[] }[];
  staffInfo?: StaffInfo;
}

export interface ManifestReference {
  contentId: string;
  contentType?: string;
  description?: string;
  attachmentName?: string;
}

export interface Attachment {
  contentId: string;
  attachmentName: string;
  description?: string;
  contentType: string;
  contentBase64: string;
}

export interface EdocMessage {
  kind: 'edoc';
  from: Organ;
  to: Organ[];
  documentId: string;
  code: { codeNumber: string; codeNotation: string };
  promulgationInfo: { place?: string; promulgationDate: string };
  documentType?: { type?: string; typeDetail?: string; typeName?: string };
  subject: string;
  content?: string;
  signerInfo?: { competence?: string; position?: string; fullName?: string };
  dueDate?: string;
  toPlaces: string[];
  steeringType?: string;
  responseFor: ResponseFor[];
  otherInfo: {
    priority: Priority;
    sphereOfPromulgation?: string;
    typerNotation?: string;
    promulgationAmount?: string;
    pageAmount?: string;
    direction?: string;
    /**
     * Secrecy marking (MẬT, TỐI MẬT, TUYỆT MẬT). QCVN 102 publishes no element for it; the hub reads
     * OtherInfo/SecurityLevel (assumption, documented in docs/security.md).
     */
    securityLevel?: string;
    appendixes: string[];
  };
  /** OrganId is optional in QCVN 102 (docs/edxml-conformance.md). */
  traceHeaders: { organId?: string; timestamp: string }[];
  business?: Business;
  manifest: ManifestReference[];
  attachments: Attachment[];
}

export interface StatusMessage {
  kind: 'status';
  from: Organ;
  responseFor: ResponseFor;
  staffInfo?: StaffInfo;
  statusCode: StatusCode;
  description?: string;
  timestamp: string;
}

export type EdxmlMessage = EdocMessage | StatusMessage;
