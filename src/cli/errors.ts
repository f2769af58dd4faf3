/**
 * How hubctl reports a failure: the stable code, the reason, and a hint of what to do, on stderr (or
 * one JSON object on stdout with --json), then the documented exit code (src/cli/context.ts EXIT):
 *   3 refused (by the hub, or a hub rule checked locally), 4 unavailable (hub or store unreachable,
 *   503), 2 usage, 1 any other failure (key store, receipt check, unexpected error).
 */
import { HubError } from '../domain/errors.ts';
import { HubApiError } from '../sdk/client.ts';
import { SdkError, type SdkErrorCode } from '../sdk/errors.ts';
import { EXIT } from './context.ts';

/** What to do about each of the hub's refusal codes (src/domain/errors.ts). */
export const HUB_HINTS: Record<string, string> = {
  UNAUTHENTICATED:
    'check the system id and secret (HUB_SYSTEM_ID / HUB_SECRET or --system / --secret-file) and that this machine’s clock is right',
  FORBIDDEN: 'this system lacks the right for that request: ask the hub administrator',
  AGENCY_DUPLICATE_NAME:
    'the unit is probably registered already (see the code named); if it really is another unit, add --distinct-from <that code>',
  PREDECESSOR_CLOSED:
    'that predecessor was merged or split already; to correct it, add --correct-closed split|replace --correction-reason "…"',
  NOT_FOUND: 'check the identifier (docId, inbox item id or agency code)',
  PAYLOAD_TOO_LARGE: 'send smaller attachments (compress them, or split the document)',
  UNSUPPORTED_MEDIA_TYPE: 'send the edXML message as application/xml',
  XML_MALFORMED: 'the message is not well-formed XML: rebuild it from the SDK model',
  XML_PROLOG_INVALID: 'remove any bytes (BOM, text) before <?xml …?>',
  XML_DOCTYPE_FORBIDDEN: 'remove the DOCTYPE / entity declarations',
  XML_LIMITS_EXCEEDED: 'the message is too deep or has too many elements',
  SCHEMA_INVALID: 'a required edXML field is missing or wrong (see the reason); see schemas/edxml.xsd',
  SIGNATURE_MISSING: 'sign the message with the agency key (hubctl send does this; --key)',
  SIGNATURE_PROFILE_VIOLATION:
    'sign with the hub profile (enveloped, URI="", exclusive c14n, RSA/ECDSA-SHA256): use the SDK’s signEdxml',
  SIGNATURE_ALGORITHM_FORBIDDEN: 'SHA-1 and HMAC are refused: sign with RSA-SHA256 or ECDSA-SHA256',
  SIGNATURE_INVALID: 'the message changed after signing, or the key does not match the certificate',
  CERT_UNTRUSTED:
    'the certificate does not chain to a root the hub trusts: use a certificate from the government CA',
  CERT_EXPIRED: 'renew the agency certificate, then register the new one (hubctl certs register)',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet: check its start date and this machine’s clock',
  CERT_REVOKED: 'the certificate was revoked: get a new one and register it (hubctl certs register)',
  CERT_REVOCATION_UNKNOWN:
    'the hub has no fresh revocation data for the issuing CA: retry later or tell the hub operator',
  CERT_KEY_USAGE: 'the certificate is not for signing: use the agency’s signing certificate',
  SENDER_MISMATCH:
    'the signing certificate is not registered to the sending agency: register it (hubctl certs register <agency> <cert.pem>)',
  CALLER_MISMATCH: 'this system may not send for that agency: use the system credential of the From agency',
  AGENCY_CODE_INVALID: 'agency codes look like H29.001 or 000.00.00.G22',
  UNKNOWN_RECIPIENT: 'check the recipient codes (hubctl lookup <code>, hubctl directory search <words>)',
  SECRET_ROUTE_REQUIRED:
    'secret documents need cipher-protected sender and recipients: ask the hub administrator',
  DUPLICATE_CONFLICT:
    'this DocumentId was already sent with other content: use a new number, or revoke/replace the original',
  STATUS_TRANSITION_INVALID: 'that status does not follow the current one: see docs/status-lifecycle.md',
  STATUS_NO_PENDING_REQUEST:
    'answer 15/16 only to a recall or update in the inbox (hubctl inbox marks them RECALL / UPDATE); report progress with 01-06',
  REFERENCED_DOCUMENT_UNKNOWN: 'the document to revoke/update/replace is unknown: check its DocumentId',
  NOT_ORIGINAL_SENDER: 'only the agency that sent the original may revoke, update or replace it',
  DOCUMENT_ID_SENDER_MISMATCH:
    'a DocumentId starts with the sending agency’s own code ({code},{yyyy/MM/dd},{number}/{notation})',
  STATUS_UNKNOWN_DOCUMENT: 'statuses are only for documents this agency received (check the inbox item)',
  VALIDATION_FAILED: 'check the command’s arguments (hubctl <command> --help)',
  CONFLICT: 'the record changed or already exists: look at it again and retry',
  RATE_LIMITED: 'too many requests: wait a little and retry',
  UNAVAILABLE:
    'the hub is starting, stopping or overloaded: retry later (resending the same message is safe)',
  EVIDENCE_INCOMPLETE:
    'fetch the revocation data (hubctl crl refresh) and export again; --allow-incomplete writes a bundle marked incomplete',
  INTERNAL: 'report the error id to the hub operator',
  OPERATOR_LOGIN_REQUIRED:
    'give an administrator account: --user NAME (or HUBCTL_USER) and its password on the terminal, in HUBCTL_PASSWORD_FILE, or on standard input',
  LOGIN_FAILED: 'check the user name and password of --user / HUBCTL_USER (a web UI account)',
  LOGIN_THROTTLED: 'too many failed logins for that account: wait, or have another administrator reset it',
  BACKUP_TARGET_NOT_EMPTY:
    'restore into a new, empty database (--db <new name> or a fresh MONGODB_URI), never over live data',
  BACKUP_INVALID:
    'the backup directory was changed or is incomplete: take another backup, or use an older one',
  BACKUP_DIR_IN_USE: 'give a new directory (it is created) or an empty one',
  CREDENTIALS_KEY_MISMATCH:
    'the --from key is not the one that sealed the stored secrets: give the current CREDENTIALS_KEY',
  // federation peers managed by administrators (issue 22, fedapi)
  PEER_EXISTS: 'the peer is defined already: change it with hubctl peers update / rotate-secret',
  PEER_FROM_CONFIG: 'the peer comes from federation.peers in the configuration: change it there and redeploy',
  PEER_INVALID: 'fix the settings named in the reason (https:// URL, PEM certificates, secret length)',
  PEER_BACKLOG: 'wait for the backlog to drain (hubctl peers show), or remove with --force to dead-letter it',
  PEER_INBOUND_TAKEN: 'choose an inbound system id no other peer or agency system uses',
};

/** hubctl's own wording of the SDK hints that have a command-line option to name (src/sdk/errors.ts). */
export const CLI_SDK_HINTS: Partial<Record<SdkErrorCode, string>> = {
  KEYSTORE_PASSWORD_INVALID: 'check the password of the PKCS#12 file (--password-file / --password-env)',
  RECEIPT_INVALID:
    'the hub may still have accepted the document: look it up (hubctl track <docId>) before sending it again; check --trust and --hub-pin',
  HUB_UNREACHABLE: 'check the hub URL (--hub / HUB_URL) and that the hub is running; retry later',
  USAGE: 'see hubctl <command> --help',
};

export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly errorId?: string;
  readonly exit: number;
}

function isStoreDown(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name ?? '';
  return /MongoServerSelectionError|MongoNetworkError/.test(name);
}

export function describeFailure(err: unknown): Failure {
  if (err instanceof HubApiError)
    return {
      code: err.code,
      message: err.message,
      ...(HUB_HINTS[err.code] ? { hint: HUB_HINTS[err.code] } : {}),
      ...(err.errorId ? { errorId: err.errorId } : {}),
      exit: err.status === 503 || err.code === 'UNAVAILABLE' ? EXIT.UNAVAILABLE : EXIT.REFUSED,
    };
  if (err instanceof SdkError)
    return {
      code: err.code,
      message: err.message,
      hint: CLI_SDK_HINTS[err.code] ?? err.hint,
      exit:
        err.code === 'HUB_UNREACHABLE' || err.code === 'TIMEOUT'
          ? EXIT.UNAVAILABLE
          : err.code === 'USAGE'
            ? EXIT.USAGE
            : EXIT.FAILURE,
    };
  if (err instanceof HubError)
    return {
      code: err.code,
      message: err.message,
      ...(HUB_HINTS[err.code] ? { hint: HUB_HINTS[err.code] } : {}),
      exit: err.code === 'UNAVAILABLE' ? EXIT.UNAVAILABLE : EXIT.REFUSED,
    };
  if (isStoreDown(err))
    return {
      code: 'STORE_UNREACHABLE',
      message: (err as Error).message,
      hint: 'admin commands work on MongoDB directly: check MONGODB_URI, or start the store (npm run store:start)',
      exit: EXIT.UNAVAILABLE,
    };
  return { code: 'FAILED', message: (err as Error)?.message ?? String(err), exit: EXIT.FAILURE };
}

/** Prints the failure (code, reason, hint) and exits with its code. */
export function reportError(err: unknown, json: boolean): never {
  const f = describeFailure(err);
  if (json) {
    const { exit: _exit, ...rest } = f;
    console.log(JSON.stringify({ ok: false, ...rest }));
  } else {
    console.error(`hubctl: ${f.code}: ${f.message}`);
    if (f.hint) console.error(`  hint: ${f.hint}`);
    if (f.errorId) console.error(`  error id: ${f.errorId}`);
  }
  process.exit(f.exit);
}
