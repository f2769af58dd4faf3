/**
 * Errors raised on the agency's side of the SDK (never by the hub): key store, receipt check,
 * recipient certificates, transport. Each has a stable code, a readable message and a hint of what
 * to do. Refusals by the hub itself are HubApiError (src/sdk/client.ts), carrying the hub's code.
 */

export const SDK_ERROR_CODES = {
  KEYSTORE_PASSWORD_INVALID: 'check the password of the PKCS#12 file',
  KEYSTORE_INVALID: 'give a PKCS#12 (.p12/.pfx) file, or a PEM private key and certificate',
  KEYSTORE_NO_KEY: 'export the PKCS#12 file again with its private key included',
  KEYSTORE_NO_CERTIFICATE: 'export the PKCS#12 file again with the certificate included',
  KEYSTORE_KEY_MISMATCH: 'the private key does not belong to the certificate: pair the right files',
  RECEIPT_INVALID:
    'the hub may still have accepted the document: look it up by its docId (details.docId) before sending anything again, and check the trust anchors (roots) and the pinned hub certificates',
  RECEIPT_MISMATCH: 'the receipt does not match what was sent: report it to the hub operator',
  RECIPIENT_CERT_MISSING:
    'the recipient has no certificate in force in the directory: send unencrypted or ask it to register one',
  DECRYPTION_FAILED:
    'the message was not encrypted for this key: decrypt with the private key of the certificate registered for the receiving agency',
  HUB_UNREACHABLE: 'check the hub URL and that the hub is running; retry later',
  TIMEOUT: 'the hub did not answer in time; retry (resending the same message is safe)',
  USAGE: 'see the documentation of the call (docs/sdk.md)',
} as const;

export type SdkErrorCode = keyof typeof SDK_ERROR_CODES;

export class SdkError extends Error {
  readonly code: SdkErrorCode;
  readonly hint: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SdkErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SdkError';
    this.code = code;
    this.hint = SDK_ERROR_CODES[code];
    this.details = details;
  }
}
