/**
 * Store interfaces the use cases depend on. Implemented by src/store (MongoDB through mongoose).
 * Use cases receive only what they use: `Pick<Stores, 'documents' | 'deliveries'>`.
 */
import type {
  Agency,
  AgencyStatus,
  AuditEntry,
  Block,
  AuditEvent,
  DeliveryRecord,
  InboxItem,
  DocumentRecord,
  OutboxEntry,
  SystemCredential,
  TimelineEntry,
  ChainEntry,
} from './types.ts';
import type { BusinessState } from './status.ts';
import type { PayloadStream } from './payload.ts';

export interface AgencyStore {
  /** By canonical code or by legacy 13-character code. */
  findByCode(code: string): Promise<Agency | null>;
  upsertSeed(agencies: readonly Omit<Agency, 'version' | 'updatedAt'>[]): Promise<number>;
  count(): Promise<number>;
}

/** Directory search (GET /v1/agencies): every criterion is optional; pages are ordered by code. */
export interface AgencySearch {
  readonly codePrefix?: string;
  /** Folded (diacritic-free, lower-case) words that must all occur in the name or short name. */
  readonly nameWords?: readonly string[];
  readonly block?: Block;
  readonly province?: string;
  readonly status?: AgencyStatus;
  readonly parentCode?: string;
  /** Only level-1 bodies (no parent). */
  readonly topLevel?: boolean;
  readonly limit: number;
  /** Cursor: the last code of the previous page. */
  readonly after?: string;
}

/**
 * The directory's single writer (see directory-store.ts): every change of the directory is made
 * holding it, so read-modify-write is safe on backends without atomic updates (FerretDB 1.x) and
 * change-feed versions are handed out in the order their writes complete.
 */
export interface DirectoryWriter {
  /** Takes `n` consecutive change-feed versions; returns the first. */
  versions(n: number): Promise<number>;
  /** Keeps the lock alive during a long write; throws when another writer has taken it over. */
  renew(): Promise<void>;
}

/** An entry of the permanent register of issued codes: canonical codes and legacy aliases. */
export interface CodeReservation {
  readonly code: string;
  readonly canonical: string;
  readonly kind: 'canonical' | 'legacy';
  /** An existing code registered as given (not assigned by the hub): freed if its import fails. */
  readonly given?: boolean;
}

export interface AgencyPatch {
  readonly set: Partial<Omit<Agency, 'code' | 'version' | 'updatedAt' | 'successors' | 'certificates'>>;
  readonly addSuccessors?: readonly string[];
  /** Replaces the successors (an audited correction of a merger, issue 19 §1). */
  readonly replaceSuccessors?: readonly string[];
}

/** The journal of a bulk import: an import interrupted mid-way is rolled back from it. */
export interface ImportJob {
  readonly id: string;
  readonly actor: string;
  readonly fileSha256: string;
  readonly rows: number;
  readonly state: 'applying' | 'done' | 'rolled-back';
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  readonly finishedAt?: Date;
  readonly error?: string;
  readonly created?: number;
}

/**
 * The directory's persistence: agencies (never deleted), the register of issued codes (never
 * shrinks), per-parent code counters and the change-feed version counter (never go down).
 */
export interface DirectoryStore extends AgencyStore {
  /** Many lookups by canonical or legacy code; keyed by the requested code, misses left out. */
  findMany(codes: readonly string[]): Promise<Map<string, Agency>>;
  search(q: AgencySearch): Promise<Agency[]>;
  /** Changes after `since` up to the watermark (no write still in progress below it), by version. */
  changes(since: number, limit: number): Promise<{ items: Agency[]; watermark: number; stalled: boolean }>;
  /** Every agency, ordered by code. */
  exportAll(): AsyncIterable<Agency>;
  /** Runs `fn` as the directory's only writer (waits up to `timeoutMs` for the current one). */
  withWriter<T>(label: string, fn: (w: DirectoryWriter) => Promise<T>, timeoutMs?: number): Promise<T>;
  /** Takes `n` consecutive ordinals from the counter of `parent`; returns the first. */
  takeOrdinals(parent: string, n: number): Promise<number>;
  /** Inserts the reservations; returns the codes that were already issued (and not reserved now). */
  reserveCodes(entries: readonly CodeReservation[], by: string): Promise<Set<string>>;
  /** Drops reservations made by `by` for codes that were never issued (rollback before insert). */
  dropReservations(codes: readonly string[], by: string): Promise<void>;
  /** Which of these codes (canonical or legacy) were ever issued or reserved. */
  issued(codes: readonly string[]): Promise<Set<string>>;
  insertAgencies(agencies: readonly Agency[], importId?: string): Promise<void>;
  /** Writes a change (callers hold the writer lock); null when the agency changed since `expectedVersion`. */
  update(code: string, expectedVersion: number, version: number, patch: AgencyPatch): Promise<Agency | null>;
  /** The highest version below which every write is finished; `stalled` when a dead writer holds it. */
  watermark(): Promise<{ watermark: number; stalled: boolean }>;
  /** The last ordinal handed out under `parent` (0 when none). */
  lastOrdinal(parent: string): Promise<number>;
  /**
   * Gives back ordinals `first…last` taken by a registration that then failed before any agency
   * carried them (under the writer lock): the counter goes back to `first - 1` if it still stands at
   * `last`, so that a failed attempt leaves no gap. Returns whether it went back.
   */
  returnOrdinals(parent: string, first: number, last: number): Promise<boolean>;

  startImport(job: Omit<ImportJob, 'state' | 'heartbeatAt'>): Promise<void>;
  heartbeatImport(id: string): Promise<void>;
  finishImport(
    id: string,
    state: 'done' | 'rolled-back',
    extra?: { error?: string; created?: number },
  ): Promise<void>;
  getImport(id: string): Promise<ImportJob | null>;
  /** Imports still applying whose heartbeat is older than `staleBefore`: their process died. */
  staleImports(staleBefore: Date): Promise<ImportJob[]>;
  /** Records agencies as they were before an import changes them (written before the change). */
  saveUndo(importId: string, entries: readonly { before: Agency; appliedVersion: number }[]): Promise<void>;
  /** Undoes an import: changed agencies restored (with a new version), created ones removed. */
  rollbackImport(importId: string, w: DirectoryWriter): Promise<{ restored: number; removed: number }>;
  clearUndo(importId: string): Promise<void>;
  /** The units an import created, as audited (their SHA-256 is in the audit log). */
  saveImportRecords(importId: string, records: readonly Record<string, unknown>[]): Promise<void>;
  importRecords(importId: string): Promise<Record<string, unknown>[]>;
}

export interface CredentialStore {
  find(systemId: string): Promise<SystemCredential | null>;
  upsert(cred: SystemCredential): Promise<void>;
}

export interface DocumentStore {
  findByKey(key: string): Promise<DocumentRecord | null>;
  get(id: string): Promise<DocumentRecord | null>;
  /**
   * The accepted document this sender (canonical code) sent under this DocumentId. There is no lookup
   * by DocumentId alone: DocumentIds are predictable (documents/originals.ts).
   */
  findBySenderAndDocumentId(senderCode: string, documentId: string): Promise<DocumentRecord | null>;
  /**
   * The commit point: inserts the record as given (accepted, with its receipt) with its payload — the
   * claim on the key and the acceptance in one write; false when the key already exists (a replay, a
   * conflict, a race, or the same bytes left pending by an older hub: see `commit`).
   */
  insert(doc: DocumentRecord, payload: Uint8Array): Promise<boolean>;
  /** Accepts a pending record (left by a hub that stopped before its commit point). */
  commit(
    id: string,
    receipt: string,
    acceptedAt: Date,
    found?: { readonly probableDuplicateOf?: string },
  ): Promise<void>;
  /**
   * Removes what a submission wrote under this id that no committed document owns: everything when
   * the document is absent or pending; the queued deliveries and tasks to recipients it does not
   * have when it is accepted.
   */
  discardUncommitted(id: string): Promise<void>;
  /** Decree 30: same issuer, number, notation and year under another DocumentId. */
  findProbableDuplicate(
    doc: Pick<DocumentRecord, 'id' | 'senderCode' | 'documentId' | 'meta'>,
  ): Promise<DocumentRecord | null>;
  /** Records a revoke / update / replace of this document (idempotent per docId). */
  appendChain(id: string, entry: ChainEntry): Promise<void>;
  getPayload(id: string): Promise<Buffer | null>;
  /** The payload a chunk at a time (downloads stream it); null when there is none. */
  openPayload(id: string): Promise<PayloadStream | null>;
  /** The record and its payload at once (a download: one read for both when the payload is small). */
  open(id: string): Promise<{ document: DocumentRecord; payload: PayloadStream | null } | null>;
}

export interface InboxQuery {
  readonly recipientCodes: readonly string[];
  readonly messageType?: 'edoc' | 'status';
  readonly limit: number;
  readonly after?: string;
}

/** What making a delivery available did: `made` false when it was already past `queued`. */
export interface Availability {
  readonly delivery: DeliveryRecord;
  readonly made: boolean;
}

/**
 * An acknowledgement: the acknowledged delivery, and `first` false when it was acknowledged before
 * (a repeat, answered with the first one and changing nothing); or why not (not the caller's / not
 * delivered yet, or its state).
 */
export type AckOutcome =
  { readonly delivery: DeliveryRecord; readonly first: boolean } | 'not-found' | 'conflict';

/** Recent activity of recipients' endpoints (dead-letter replay warns about failing ones). */
export interface EndpointActivity {
  readonly failures: readonly { recipientCode: string; lastError: string; at: Date }[];
  readonly deliveries: readonly { recipientCode: string; at: Date }[];
}

export interface DeliveryStore {
  insertMany(deliveries: readonly DeliveryRecord[]): Promise<void>;
  get(id: string): Promise<DeliveryRecord | null>;
  forDocument(docId: string): Promise<DeliveryRecord[]>;
  /**
   * queued → available and listed in the recipient's inbox (idempotent consumer: a delivery already
   * available is listed again if a crash left it unlisted); null when there is no such delivery.
   */
  markAvailable(id: string, at: Date): Promise<Availability | null>;
  /** queued → pushed (push or amqp mode); false if already past queued. */
  markPushed(id: string, at: Date): Promise<boolean>;
  /** The endpoint refused the document: the delivery ends as failed with the reason. */
  markRefused(id: string, reason: string, at: Date): Promise<void>;
  recordFailure(id: string, error: string, final: boolean): Promise<void>;
  /** queued → dead-lettered (its task reached the dead-letter queue); idempotent. */
  markDeadLettered(id: string): Promise<void>;
  /** dead-lettered (or still queued) → queued with its attempts reset; false when it is past that. */
  requeue(id: string): Promise<boolean>;
  /** Deliveries still queued since before `queuedBefore` (a lost task: restore, broker loss). */
  waiting(queuedBefore: Date): Promise<Pick<DeliveryRecord, 'id' | 'docId' | 'recipientCode'>[]>;
  /** Failures and deliveries recorded for these recipients since `since`. */
  endpointActivity(recipientCodes: readonly string[], since: Date): Promise<EndpointActivity>;
  /** Deliveries past their deadline and not yet accepted (03). */
  overdue(now: Date, limit: number): Promise<DeliveryRecord[]>;
  inbox(q: InboxQuery): Promise<InboxItem[]>;
  /**
   * Acknowledgement by the recipient (one of `recipientCodes`) of a delivered delivery; idempotent
   * (a second one answers with the first).
   */
  acknowledge(
    id: string,
    recipientCodes: readonly string[],
    result: 'done' | 'fail',
    reason: string | undefined,
    at: Date,
  ): Promise<AckOutcome>;
  /** Optimistic update of the business state; false when `version` is stale. */
  applyStatus(id: string, version: number, state: BusinessState, entry?: TimelineEntry): Promise<boolean>;
}

/** A delivery task that reached the dead-letter queue, with its reason. */
export interface DeadLetter {
  readonly id: string;
  readonly deliveryId?: string;
  readonly docId?: string;
  readonly recipientCode?: string;
  readonly reason: string;
  readonly deadAt: Date;
  readonly replayedAt?: Date;
  readonly replayCount: number;
  /** The task as it was dead-lettered. */
  readonly content: Buffer;
}

export interface DeadLetterStore {
  /** Records (or records again, as not replayed) a dead letter. */
  record(letter: Omit<DeadLetter, 'replayedAt' | 'replayCount'>): Promise<DeadLetter>;
  get(id: string): Promise<DeadLetter | null>;
  getMany(ids: readonly string[]): Promise<DeadLetter[]>;
  /** Newest first. */
  list(o: { includeReplayed: boolean; limit: number }): Promise<DeadLetter[]>;
  markReplayed(id: string, replayCount: number, at: Date): Promise<void>;
  /** Dead letters recorded without a delivery (unreadable, or their delivery did not exist). */
  withoutDelivery(): AsyncIterable<DeadLetter>;
  /** Removes such dead letters; returns how many. */
  removeWithoutDelivery(ids: readonly string[]): Promise<number>;
}

export interface OutboxStore {
  /** Inserts the entries not already there (same ids); answers the ids it inserted. */
  insertMany(entries: readonly OutboxEntry[]): Promise<string[]>;
  markSent(ids: readonly string[], at: Date): Promise<void>;
  due(olderThan: Date, limit: number): Promise<OutboxEntry[]>;
  remove(ids: readonly string[]): Promise<void>;
}

export interface AuditLog {
  append(event: AuditEvent): Promise<AuditEntry>;
  verify(): Promise<{ ok: boolean; count: number; brokenAt?: number; reason?: string }>;
}

export interface Stores {
  readonly agencies: AgencyStore;
  readonly credentials: CredentialStore;
  readonly documents: DocumentStore;
  readonly deliveries: DeliveryStore;
  readonly outbox: OutboxStore;
  readonly deadLetters: DeadLetterStore;
  readonly audit: AuditLog;
}

/**
 * Signed /v1 requests already accepted (issue 18 §5), shared by every api process: `firstUse` records
 * the key until `expiresAt` (the end of its clock-skew window) and answers false if it was there.
 */
export interface SignatureLedger {
  firstUse(key: string, expiresAt: Date): Promise<boolean>;
}

export type * from './ports/certificates.ts';
export type * from './ports/users.ts';
export type * from './ports/leases.ts';
export type * from './ports/audit.ts';
