/** Public entry point of the package: the agency client SDK and the message building blocks. */
export {
  HubClient,
  HubApiError,
  isTransientStatus,
  originalFromView,
  type HubClientOptions,
  type RetryOptions,
  type RetryEvent,
  type InboxItem,
  type SubmitResponse,
  type SendResult,
  type Received,
  type DocumentView,
  type DeliveryView,
  type AgencyView,
  type AgencyCertificates,
  type RoutingView,
} from './sdk/client.ts';
export { SdkError, SDK_ERROR_CODES, type SdkErrorCode } from './sdk/errors.ts';
export { HubError, ERROR_CODES, type ErrorCode } from './domain/errors.ts';
export { loadAgencyKey, exportPkcs12, readPassword, type AgencyKey, type KeySource } from './sdk/keystore.ts';
export {
  newDocument,
  statusFor,
  revokeDocument,
  updateDocument,
  replaceDocument,
  attachmentFromFile,
  attachmentFromBuffer,
  refOf,
  originalOf,
  docIdOf,
  vnDate,
  vnTimestamp,
  type NewDocumentInput,
  type AttachmentInput,
  type StatusInput,
  type DocumentRef,
  type OriginalRef,
} from './sdk/messages.ts';
export { signRequest, HMAC_SCHEME } from './http/hmac-auth.ts';
export {
  buildEdxml,
  parseEdxml,
  parseDocumentId,
  formatDocumentId,
  PRIORITY,
  STATUS_CODES,
  BUSINESS_DOC_TYPES,
  type EdxmlMessage,
  type EdocMessage,
  type StatusMessage,
  type Organ,
  type Attachment,
  type Business,
  type Priority,
  type StatusCode,
} from './domain/edxml/index.ts';
export { signEdxml, verifyEdxml, loadSigningKey, type SigningKey } from './crypto/signature.ts';
export { encryptEdxml, decryptEdxml, isEncrypted, type RecipientKey } from './crypto/encryption.ts';
export { verifyReceipt } from './crypto/receipt.ts';
export { HUB_SIGNING_EKU, verifyHubSigned, type HubTrust } from './crypto/hub-signed.ts';
export { verifyPushRequest } from './delivery/push.ts';
export { TrustStore } from './crypto/trust.ts';
