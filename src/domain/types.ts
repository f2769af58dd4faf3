/** Domain records shared by the use cases and the store. Infrastructure types never appear here. */
import type { BusinessCode, BusinessState } from './status.ts';

export type Block = 'party' | 'state' | 'front' | 'other';
/** `peer`: a remote unit, served by a federation peer (src/federation): relayed there, never edited here. */
export type DeliveryMode = 'pull' | 'push' | 'amqp' | 'peer';
export type AgencyStatus = 'active' | 'closed';

export interface RegisteredCertificate {
  readonly fingerprintSha256: string;
  readonly subject?: string;
  readonly notAfter?: Date;
  readonly pem?: string;
  readonly registeredAt: Date;
  readonly revokedAt?: Date;
}

export interface Agency {
  readonly code: string;
  readonly legacyCode?: string;
  readonly name: string;
  readonly shortName?: string;
  readonly block: Block;
  readonly kind: string;
  readonly parentCode: string | null;
  readonly province?: string;
  readonly status: AgencyStatus;
  readonly validFrom?: Date;
  readonly closedAt?: Date;
  readonly successors: readonly string[];
  /** The units this one succeeds (recorded when a new commune is registered with predecessors). */
  readonly predecessors?: readonly string[];
  readonly contact: {
    readonly email?: string;
    readonly phone?: string;
    readonly fax?: string;
    readonly address?: string;
    readonly website?: string;
  };
  readonly delivery: {
    readonly mode: DeliveryMode;
    readonly url?: string;
    readonly cipherProtected?: boolean;
    /** Mode `peer`: the id of the federation peer that owns and serves this unit. */
    readonly peer?: string;
  };
  readonly certificates: readonly RegisteredCertificate[];
  readonly version: number;
  readonly updatedAt: Date;
}

export type MessageType = 'edoc' | 'status';

export interface RoutingOutcome {
  readonly code: string;
  readonly outcome: 'accepted' | 'rerouted' | 'refused';
  readonly deliveredTo?: string;
  readonly reason?: string;
}

export interface DocumentMeta {
  readonly subject?: string;
  /** The subject folded (domain/text.ts): diacritic-free, lower-case, for search. */
  readonly subjectFolded?: string;
  /** "number/notation" folded like unit names (domain/text.ts numberKey), for search. */
  readonly numberKey?: string;
  readonly codeNumber?: string;
  readonly codeNotation?: string;
  readonly promulgationDate?: string;
  readonly priority?: number;
  readonly dueDate?: string;
  readonly businessType?: number;
  readonly refDocumentId?: string;
  readonly statusCode?: BusinessCode;
  readonly responseForDocumentId?: string;
  readonly responseForOrganId?: string;
  readonly description?: string;
  readonly year?: string;
}

export interface ChainEntry {
  readonly docId: string;
  readonly documentId: string;
  readonly type: 'revoke' | 'update' | 'replace';
  readonly at: Date;
  readonly reason?: string;
}

export interface DocumentRecord {
  readonly id: string;
  /** Deduplication key: sender + DocumentId for documents, sender + hash for status messages. */
  readonly key: string;
  readonly messageType: MessageType;
  readonly senderCode: string;
  readonly documentId: string;
  readonly sha256: string;
  readonly size: number;
  readonly state: 'pending' | 'accepted';
  readonly receivedAt: Date;
  readonly acceptedAt?: Date;
  readonly meta: DocumentMeta;
  readonly signer: { readonly fingerprintSha256: string; readonly subject: string };
  readonly recipients: readonly RoutingOutcome[];
  readonly receipt?: string;
  readonly submittedBy: string;
  /**
   * Federation (issue 22): the hops the message came through to this hub, oldest first — today the
   * peer that delivered it (by sendEdoc to /vdxp or collected by polling), derived from the caller;
   * absent for a direct submission. docs/federation.md ### Paths.
   */
  readonly via?: readonly ViaHop[];
  /** Later revoke / update / replace messages about this document, and what it probably duplicates. */
  readonly chain?: readonly ChainEntry[];
  readonly probableDuplicateOf?: string;
}

/** One hop of a message's path across hubs: the federation peer, its system id here, and when. */
export interface ViaHop {
  readonly peer: string;
  readonly systemId: string;
  readonly at: Date;
}

export type TransportState = 'queued' | 'available' | 'pushed' | 'acknowledged' | 'failed' | 'dead-lettered';

export interface TimelineEntry {
  readonly code: BusinessCode;
  readonly at: Date;
  readonly reportedAt?: string;
  readonly description?: string;
  readonly statusDocId?: string;
  readonly by: string;
}

export interface DeliveryRecord {
  /** `${docId}:${recipientCode}`: the idempotency key of the delivery. */
  readonly id: string;
  readonly docId: string;
  readonly documentId: string;
  readonly messageType: MessageType;
  readonly senderCode: string;
  readonly recipientCode: string;
  /** The code the sender addressed, when the delivery was rerouted to a successor. */
  readonly requestedCode?: string;
  readonly transport: TransportState;
  readonly attempts: number;
  readonly lastError?: string;
  /** When lastError was recorded. */
  readonly lastErrorAt?: Date;
  readonly queuedAt: Date;
  readonly availableAt?: Date;
  readonly ackedAt?: Date;
  readonly failedAt?: Date;
  readonly ack?: { readonly result: 'done' | 'fail'; readonly reason?: string };
  readonly business: BusinessState;
  readonly timeline: readonly TimelineEntry[];
  readonly version: number;
  /** When the recipient must have accepted (03): from DueDate and Priority (domain/deadlines.ts). */
  readonly deadline?: Date;
  /** When a clerk of the recipient first opened the document in the web UI, and who. */
  readonly openedAt?: Date;
  readonly openedBy?: string;
}

/** What an inbox listing shows of a delivery (kept in the inbox entry: no delivery read per item). */
export type InboxItem = Pick<
  DeliveryRecord,
  | 'id'
  | 'docId'
  | 'documentId'
  | 'messageType'
  | 'senderCode'
  | 'recipientCode'
  | 'requestedCode'
  | 'queuedAt'
> & { readonly availableAt: Date };

export interface OutboxEntry {
  readonly id: string;
  readonly docId: string;
  readonly deliveryId: string;
  readonly recipientCode: string;
  readonly createdAt: Date;
  readonly sentAt?: Date;
}

export interface AuditEvent {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly data?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  readonly seq: number;
  readonly at: Date;
  readonly prevHash: string;
  readonly hash: string;
}

export interface SystemCredential {
  readonly systemId: string;
  readonly secret: string;
  readonly agencyCodes: readonly string[];
  readonly rights: readonly ('send' | 'admin')[];
  readonly active: boolean;
  /** Set when the caller is a federation peer (src/federation/peers.ts): its messages are never relayed on. */
  readonly peer?: string;
}
