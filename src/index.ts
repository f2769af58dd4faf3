/** Public entry point of the package: the agency client SDK and the message building blocks. */
export {
  HubClient,
  HubApiError,
  type HubClientOptions,
  type InboxItem,
  type SubmitResponse,
  type DocumentView,
} from './sdk/client.ts';
export { signRequest, HMAC_SCHEME } from './http/hmac-auth.ts';
export { buildEdxml, parseEdxml } from './domain/edxml/index.ts';
export { signEdxml, verifyEdxml, loadSigningKey, type SigningKey } from './crypto/signature.ts';
export { verifyReceipt } from './crypto/receipt.ts';
export { TrustStore } from './crypto/trust.ts';
