/**
 * Submission of a message (document or status) by an authenticated agency system:
 * verify (guard, signature profile, trusted chain) → read business data only from the signed
 * bytes → check the signer is registered to the sending agency → route (documents) or apply the
 * status transition (status messages) → deduplicate → persist (one logical write, commit point
 * last) → publish with confirms → hub-signed receipt. docs/architecture-design.md §2.
 */
import { createHash } from 'node:crypto';
import { HubError } from '../domain/errors.ts';
import type { Stores } from '../domain/ports.ts';
import type {
  Agency,
  DeliveryRecord,
  DocumentMeta,
  DocumentRecord,
  OutboxEntry,
  RoutingOutcome,
  SystemCredential,
} from '../domain/types.ts';
import { INITIAL_BUSINESS_STATE } from '../domain/status.ts';
import { deliveryIdFor, docIdFor, edocKey, ownedRecipients } from '../domain/ids.ts';
import { foldVietnamese, numberKey } from '../domain/text.ts';
import { acceptanceDeadline } from '../domain/deadlines.ts';
import type { EdocMessage, StatusMessage } from '../domain/edxml/index.ts';
import type { ReceiptData } from '../crypto/receipt.ts';
import type { VerifiedSubmission } from '../crypto/verifier.ts';
import type { DeliveryPublisher } from '../delivery/publisher.ts';
import type { HubMetrics } from '../observability/metrics.ts';
import { stage, timeStages } from '../observability/stages.ts';
import type { Logger } from '../observability/logger.ts';
import { routeRecipients } from '../directory/routing.ts';
import type { DirectoryCache } from '../directory/cache.ts';
import { StatusService } from './status-service.ts';
import { BusinessFlows } from './business-flows.ts';
import { Originals } from './originals.ts';
import type { FederationRules } from '../federation/rules.ts';

export interface Verifier {
  verify(bytes: Uint8Array): Promise<VerifiedSubmission>;
}

export interface ReceiptSigner {
  sign(data: ReceiptData): string;
}

export interface SubmissionResult {
  readonly docId: string;
  readonly documentId: string;
  readonly messageType: 'edoc' | 'status';
  readonly sha256: string;
  readonly receivedAt: Date;
  readonly recipients: readonly RoutingOutcome[];
  readonly receipt: string;
  /** True when this was a resubmission of already accepted bytes (idempotent replay). */
  readonly duplicate: boolean;
}

export interface SubmissionDeps {
  readonly stores: Pick<Stores, 'agencies' | 'documents' | 'deliveries' | 'outbox' | 'audit'>;
  readonly verifier: Verifier;
  readonly receipts: ReceiptSigner;
  readonly publisher: Pick<DeliveryPublisher, 'publishOutbox'>;
  readonly metrics: HubMetrics;
  readonly log: Logger;
  readonly clock?: () => Date;
  /** Federation (src/federation/rules.ts): peers' units as senders, and no relaying of a peer's messages. */
  readonly federation?: FederationRules;
  /** Recipients looked up through this process's directory cache (re-read before any refusal). */
  readonly directory?: DirectoryCache;
}

export { docIdFor, deliveryIdFor } from '../domain/ids.ts';

/** A submission ready to be written: what was verified, read from the signed bytes and routed. */
interface Submission {
  readonly caller: SystemCredential;
  readonly sender: Agency;
  readonly messageType: 'edoc' | 'status';
  /** The deduplication key (`edoc:<sender>:<DocumentId>` or `status:<sender>:<sha256>`). */
  readonly key: string;
  readonly documentId: string;
  readonly meta: DocumentMeta;
  readonly routing: readonly RoutingOutcome[];
  /** The deliveries to make: the recipient, and the code the sender addressed when rerouted. */
  readonly targets: readonly { code: string; requestedCode: string | undefined }[];
  readonly verified: VerifiedSubmission;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  /** Applied after the pending record exists and before the commit point (idempotent). */
  readonly beforeCommit?: () => Promise<void>;
}

export class SubmissionService {
  readonly #d: SubmissionDeps;
  readonly #status: StatusService;
  readonly #business: BusinessFlows;
  readonly #originals: Originals;
  readonly #clock: () => Date;

  constructor(deps: SubmissionDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? (() => new Date());
    this.#originals = new Originals({ documents: deps.stores.documents, agencies: deps.stores.agencies });
    this.#status = new StatusService({ deliveries: deps.stores.deliveries, originals: this.#originals });
    this.#business = new BusinessFlows({
      deliveries: deps.stores.deliveries,
      documents: deps.stores.documents,
      originals: this.#originals,
    });
  }

  async submit(caller: SystemCredential, bytes: Uint8Array): Promise<SubmissionResult> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    try {
      return await timeStages(this.#d.metrics.submissionStages, () => this.#submit(caller, bytes, sha256));
    } catch (err) {
      if (err instanceof HubError) {
        this.#d.metrics.documentsRefused.inc({ code: err.code });
        // A refusal leaves nothing but an audit record.
        await this.#d.stores.audit
          .append({
            actor: caller.systemId,
            action: 'submission.refused',
            subject: sha256,
            data: { code: err.code, reason: err.message, size: bytes.byteLength },
          })
          .catch((e: unknown) => this.#d.log.warn({ err: (e as Error).message }, 'audit append failed'));
      }
      throw err;
    }
  }

  async #submit(caller: SystemCredential, bytes: Uint8Array, sha256: string): Promise<SubmissionResult> {
    const verified = await this.#d.verifier.verify(bytes);
    stage('verify');
    const msg = verified.message;

    // Through the directory cache when accepted; any refusal it would cause is decided on the store.
    const cache = this.#d.directory;
    let sender = await this.#sender(caller, msg.from.organId, verified, cache ?? this.#d.stores.agencies);
    if (sender instanceof HubError && cache)
      sender = await this.#sender(caller, msg.from.organId, verified, {
        findByCode: (c) => cache.refresh(c),
      });
    if (sender instanceof HubError) throw sender;

    return msg.kind === 'edoc'
      ? this.#submitDocument(caller, sender, msg, verified, bytes, sha256)
      : this.#submitStatus(caller, sender, msg, verified, bytes, sha256);
  }

  /**
   * The sending agency, if it may send this message: registered, active, acting through the caller,
   * and the signing certificate pinned to it and not revoked (or a peer's unit signed under that
   * peer's roots), as `directory` has it. A refusal is returned, not thrown: decided on the cache, the
   * caller reads the store again before refusing (docs/security.md, "Directory lookups on the hot path").
   */
  async #sender(
    caller: SystemCredential,
    code: string,
    verified: VerifiedSubmission,
    directory: { findByCode(code: string): Promise<Agency | null> },
  ): Promise<Agency | HubError> {
    const sender = await directory.findByCode(code);
    if (!sender) return new HubError('SENDER_MISMATCH', `sending agency ${code} is not in the directory`);
    if (sender.status !== 'active')
      return new HubError('SENDER_MISMATCH', `sending agency ${sender.code} is closed`);
    if (!caller.agencyCodes.includes(sender.code))
      return new HubError('CALLER_MISMATCH', `system ${caller.systemId} does not act for ${sender.code}`);
    const fp = verified.signer.fingerprintSha256;
    const cert = sender.certificates.find((c) => c.fingerprintSha256 === fp && !c.revokedAt);
    if (cert) return sender;
    try {
      if (this.#d.federation?.remoteSenderTrusted(caller, sender, verified.signer)) return sender;
    } catch (err) {
      if (err instanceof HubError) return err;
      throw err;
    }
    return new HubError(
      'SENDER_MISMATCH',
      `the signing certificate (SHA-256 ${fp.slice(0, 16)}…) is not registered to ${sender.code}`,
    );
  }

  async #submitDocument(
    caller: SystemCredential,
    sender: Agency,
    msg: EdocMessage,
    verified: VerifiedSubmission,
    bytes: Uint8Array,
    sha256: string,
  ): Promise<SubmissionResult> {
    // Before the replay check: a DocumentId carrying another agency's code is refused whatever is stored.
    await this.#originals.checkDocumentId(sender, msg.documentId);
    const key = edocKey(sender.code, msg.documentId);
    // No read before the insert: a replay is found by the insert itself (#persist). A refusal on the
    // way there is first checked against a replay, which answers with its original receipt (or its
    // conflict) whatever the directory or the deliveries say now.
    return this.#orReplay(key, sha256, async () => {
      const to = msg.to.map((t) => t.organId);
      let routing = await routeRecipients(this.#d.directory ?? this.#d.stores.agencies, to);
      // Never refused on cached data: a recipient refused (unknown, closed, split…) is read again.
      if (this.#d.directory && routing.some((r) => r.outcome === 'refused'))
        routing = await routeRecipients(this.#d.stores.agencies, to);
      // Federation: a message that came from a peer is never relayed to a peer again.
      if (this.#d.federation) routing = await this.#d.federation.withoutRelay(caller, routing);
      const deliverable = routing.filter((r) => r.outcome !== 'refused');
      await this.#checkSecrecy(sender, msg, deliverable);
      if (deliverable.length === 0) {
        throw new HubError('UNKNOWN_RECIPIENT', routing.map((r) => `${r.code}: ${r.reason}`).join('; '), {
          recipients: routing,
        });
      }
      const plan = await this.#business.plan(sender, msg);
      const meta: DocumentMeta = {
        subject: msg.subject,
        // Folded copy for diacritic-insensitive search (web UI lists).
        subjectFolded: msg.subject ? foldVietnamese(msg.subject) : undefined,
        numberKey: numberKey(msg.code?.codeNumber, msg.code?.codeNotation),
        codeNumber: msg.code?.codeNumber,
        codeNotation: msg.code?.codeNotation,
        promulgationDate: msg.promulgationInfo?.promulgationDate,
        priority: msg.otherInfo?.priority,
        dueDate: msg.dueDate,
        businessType: msg.business?.docType ?? 0,
        refDocumentId: msg.business?.documentId,
        year: /^(\d{4})/.exec(msg.promulgationInfo?.promulgationDate ?? '')?.[1],
      };
      const docId = docIdFor(key);
      return {
        caller,
        sender,
        messageType: 'edoc',
        key,
        documentId: msg.documentId,
        meta,
        routing,
        targets: deliverable.map((r) => ({
          code: r.deliveredTo!,
          requestedCode: r.outcome === 'rerouted' ? r.code : undefined,
        })),
        verified,
        bytes,
        sha256,
        ...(plan ? { beforeCommit: () => plan.apply(docId, sender.code) } : {}),
      };
    });
  }

  async #submitStatus(
    caller: SystemCredential,
    sender: Agency,
    msg: StatusMessage,
    verified: VerifiedSubmission,
    bytes: Uint8Array,
    sha256: string,
  ): Promise<SubmissionResult> {
    const key = `status:${sender.code}:${sha256}`;
    return this.#orReplay(key, sha256, async () => {
      const target = await this.#status.resolve(sender.code, msg);
      // Federation: a status that came from a peer is never relayed to a peer either (the document
      // rule makes it rare: a unit that moved to a peer after its delivery was recorded).
      const [route] = this.#d.federation
        ? await this.#d.federation.withoutRelay(caller, [
            { code: target.counterpart, outcome: 'accepted', deliveredTo: target.counterpart },
          ])
        : [];
      if (route?.outcome === 'refused')
        throw new HubError('PEER_NOT_RELAYED', route.reason?.replace(/^PEER_NOT_RELAYED: /, ''));
      const docId = docIdFor(key);
      return {
        caller,
        sender,
        messageType: 'status',
        key,
        documentId: msg.responseFor.documentId,
        meta: {
          statusCode: msg.statusCode,
          responseForDocumentId: msg.responseFor.documentId,
          responseForOrganId: msg.responseFor.organId,
          description: msg.description,
        },
        routing: [{ code: target.counterpart, outcome: 'accepted', deliveredTo: target.counterpart }],
        targets: [{ code: target.counterpart, requestedCode: undefined }],
        verified,
        bytes,
        sha256,
        // The transition is applied after the pending record exists and before the commit; it is
        // idempotent per status document, so a replay after a crash does not apply it twice.
        beforeCommit: () => this.#status.apply(target, msg, docId, sender.code),
      };
    });
  }

  /**
   * Decree 30 / docs/domain.md §4 (assumption): state-secret documents must not travel over ordinary
   * channels. A document marked MẬT or above is accepted only when the sender and every recipient
   * are on cipher-protected routes (directory: delivery.cipherProtected).
   */
  async #checkSecrecy(
    sender: Agency,
    msg: EdocMessage,
    deliverable: readonly RoutingOutcome[],
  ): Promise<void> {
    const level = secrecyLevel(msg.otherInfo.securityLevel);
    if (!level) return;
    const ordinary: string[] = [];
    // The sender may come from the directory cache: its own route is read again before a refusal.
    const route = sender.delivery.cipherProtected
      ? sender
      : await this.#d.stores.agencies.findByCode(sender.code);
    if (!route?.delivery.cipherProtected) ordinary.push(sender.code);
    for (const r of deliverable) {
      const a = await this.#d.stores.agencies.findByCode(r.deliveredTo!);
      if (!a?.delivery.cipherProtected) ordinary.push(r.deliveredTo!);
    }
    if (ordinary.length) {
      throw new HubError(
        'SECRET_ROUTE_REQUIRED',
        `document marked ${level}; not cipher-protected: ${ordinary.join(', ')}`,
        { level, agencies: ordinary },
      );
    }
  }

  /**
   * Prepares the submission (routing, checks: reads only) and persists it. A refusal while preparing
   * is answered by the replay check first: a replay gets its original receipt (or its conflict).
   */
  async #orReplay(
    key: string,
    sha256: string,
    prepare: () => Promise<Submission>,
  ): Promise<SubmissionResult> {
    let s: Submission;
    try {
      s = await prepare();
    } catch (err) {
      const replay = await this.#replayOrConflict(key, sha256);
      if (replay) return replay;
      throw err;
    }
    return this.#persist(s);
  }

  /** Dedup: same key and bytes → the original receipt; same key, other bytes → DUPLICATE_CONFLICT. */
  async #replayOrConflict(key: string, sha256: string): Promise<SubmissionResult | null> {
    const prior = await this.#d.stores.documents.findByKey(key);
    return prior ? replayOf(prior, sha256) : null;
  }

  /**
   * The write model (docs/architecture.md, "Write model"): the receipt is signed before anything is
   * written; the deliveries and their outbox tasks are written first (nothing is relayed for a
   * document that is not there); the document is inserted ONCE, already accepted with its receipt:
   * that insert is the deduplication claim and the commit point together. A replay or a conflict
   * found by it removes what this attempt wrote and the document does not own.
   */
  async #persist(s: Submission): Promise<SubmissionResult> {
    const { caller, sender, messageType, key, documentId, meta, routing, verified, bytes, sha256 } = s;
    stage('checks');
    const { stores } = this.#d;
    const docId = docIdFor(key);
    // A business flow changes another document before the commit point: never for a replay or a
    // conflict, so these read first (status transitions are idempotent per status document).
    if (s.beforeCommit && messageType === 'edoc') {
      const replay = await this.#replayOrConflict(key, sha256);
      if (replay) return replay;
    }
    const receivedAt = this.#clock();
    const receipt = this.#d.receipts.sign({
      receiptId: docId,
      documentId,
      senderCode: sender.code,
      sha256,
      receivedAt: receivedAt.toISOString(),
      recipients: routing.map((r) => stripUndefined({ ...r })),
    });
    const doc: DocumentRecord = {
      id: docId,
      key,
      messageType,
      senderCode: sender.code,
      documentId,
      sha256,
      size: bytes.byteLength,
      state: 'accepted',
      receivedAt,
      acceptedAt: receivedAt,
      receipt,
      meta: stripUndefined(meta),
      signer: { fingerprintSha256: verified.signer.fingerprintSha256, subject: verified.signer.subject },
      recipients: routing,
      submittedBy: caller.systemId,
      // Federation: the path of a message that came from a peer (docs/federation.md ### Paths).
      ...(caller.peer ? { via: [{ peer: caller.peer, systemId: caller.systemId, at: receivedAt }] } : {}),
    };
    const outbox = this.#deliveriesOf(s, doc);
    let inserted = false;
    let created: readonly string[];
    try {
      // Decree 30: flag (not refuse) the same issuer + number + notation + year under another
      // DocumentId, looked up while the deliveries and tasks are written.
      const [dup, , freshTasks] = await settleAll([
        messageType === 'edoc' ? stores.documents.findProbableDuplicate(doc) : Promise.resolve(null),
        stores.deliveries.insertMany(outbox.deliveries),
        stores.outbox.insertMany(outbox.tasks),
      ] as const);
      created = freshTasks;
      if (s.beforeCommit) await s.beforeCommit();
      const record = dup ? { ...doc, probableDuplicateOf: dup.id } : doc;
      inserted = await stores.documents.insert(record, bytes);
      if (inserted) return await this.#accepted(s, record, outbox.tasks);
    } catch (err) {
      // Nothing half-written stays behind a refusal; the client got no receipt and may retry.
      if (!inserted) await stores.documents.discardUncommitted(docId).catch(() => undefined);
      throw err;
    }
    // The key was there: a replay (the original receipt), a conflict (other bytes), or the same
    // bytes left pending by a hub that stopped before its commit point (committed now).
    const found = await stores.documents.findByKey(key);
    if (!found) throw new HubError('INTERNAL', `document ${docId} vanished while being written`);
    if (found.state === 'pending' && found.sha256 === sha256) {
      await stores.documents.commit(docId, receipt, receivedAt, {});
      return this.#accepted(s, { ...found, state: 'accepted', receipt }, outbox.tasks);
    }
    // What this attempt wrote and the stored document does not own (a conflict's other recipients)
    // goes; a replay's deliveries and tasks are the document's own (same ids): nothing to remove.
    const own = ownedRecipients(found.recipients);
    if (s.targets.some((t) => !own.includes(t.code)))
      await stores.documents.discardUncommitted(docId).catch(() => undefined);
    // Tasks this attempt created anew are ones the stored document already published and removed
    // (same ids): they go again, so that a replay or a conflict leaves nothing to do (a relay that
    // took one meanwhile publishes a delivery the worker already made: a no-op).
    if (created.length) await stores.outbox.remove(created).catch(() => undefined);
    const replay = replayOf(found, sha256);
    if (replay) return replay;
    throw new HubError('INTERNAL', `document ${docId} is in state ${found.state}`);
  }

  /** The deliveries to make and their tasks (deterministic ids: a replayed write lands on them). */
  #deliveriesOf(
    s: Submission,
    record: DocumentRecord,
  ): { deliveries: DeliveryRecord[]; tasks: OutboxEntry[] } {
    const { sender, targets, meta } = s;
    const { id: docId, documentId, messageType } = record;
    const deadline =
      messageType === 'edoc' ? acceptanceDeadline(meta.dueDate, meta.priority, record.receivedAt) : null;
    const deliveries: DeliveryRecord[] = targets.map((t) => ({
      id: deliveryIdFor(docId, t.code),
      docId,
      documentId,
      messageType,
      senderCode: sender.code,
      recipientCode: t.code,
      ...(t.requestedCode ? { requestedCode: t.requestedCode } : {}),
      transport: 'queued',
      attempts: 0,
      queuedAt: record.receivedAt,
      business: INITIAL_BUSINESS_STATE,
      timeline: [],
      version: 0,
      ...(deadline ? { deadline } : {}),
    }));
    const tasks: OutboxEntry[] = deliveries.map((d) => ({
      id: d.id,
      docId,
      deliveryId: d.id,
      recipientCode: d.recipientCode,
      createdAt: record.receivedAt,
    }));
    return { deliveries, tasks };
  }

  /** After the commit point: audited, counted, published (the outbox relay repairs what is not). */
  async #accepted(
    s: Submission,
    record: DocumentRecord,
    tasks: readonly OutboxEntry[],
  ): Promise<SubmissionResult> {
    const { caller, sender, routing, meta } = s;
    const { id: docId, documentId, messageType, sha256 } = record;
    // Audited once accepted (a replay or a conflict is no acceptance); group-committed.
    await this.#d.stores.audit
      .append({
        actor: caller.systemId,
        action: messageType === 'edoc' ? 'document.accepted' : 'status.accepted',
        subject: docId,
        data: stripUndefined({
          documentId,
          sender: sender.code,
          sha256,
          recipients: routing.map((r) => `${r.code}:${r.outcome}`),
          statusCode: meta.statusCode,
        }),
      })
      .catch((e: unknown) => this.#d.log.warn({ err: (e as Error).message, docId }, 'audit append failed'));
    stage('store');
    this.#d.metrics.documentsAccepted.inc({ type: messageType });
    if (messageType === 'status' && meta.statusCode)
      this.#d.metrics.statusesRelayed.inc({ code: meta.statusCode });
    await this.#d.publisher.publishOutbox(tasks);
    stage('outbox');
    return { ...resultOf({ ...record, recipients: routing }, record.receipt!), duplicate: false };
  }
}

/**
 * A submission whose key is already stored: the same bytes accepted are a replay (answered with the
 * original receipt), other bytes a DUPLICATE_CONFLICT; null for the same bytes still pending (an
 * interrupted write, redone idempotently).
 */
function replayOf(prior: DocumentRecord, sha256: string): SubmissionResult | null {
  if (prior.sha256 !== sha256)
    throw new HubError(
      'DUPLICATE_CONFLICT',
      `${prior.documentId} was received at ${prior.receivedAt.toISOString()} with other content`,
      { documentId: prior.documentId, acceptedSha256: prior.sha256 },
    );
  if (prior.state === 'accepted' && prior.receipt)
    return { ...resultOf(prior, prior.receipt), duplicate: true };
  return null;
}

/** Like Promise.all, but throws (the first error) only once every promise has settled. */
async function settleAll<T extends readonly unknown[]>(
  ps: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(ps);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/** Normalizes a secrecy marking: MẬT / TỐI MẬT / TUYỆT MẬT (with or without diacritics), or 1/2/3. */
export function secrecyLevel(mark: string | undefined): 'MẬT' | 'TỐI MẬT' | 'TUYỆT MẬT' | null {
  if (!mark) return null;
  const f = foldVietnamese(mark).toUpperCase();
  if (f === 'TUYET MAT' || f === '3') return 'TUYỆT MẬT';
  if (f === 'TOI MAT' || f === '2') return 'TỐI MẬT';
  if (f === 'MAT' || f === '1') return 'MẬT';
  return null;
}

function resultOf(doc: DocumentRecord, receipt: string): Omit<SubmissionResult, 'duplicate'> {
  return {
    docId: doc.id,
    documentId: doc.documentId,
    messageType: doc.messageType,
    sha256: doc.sha256,
    receivedAt: doc.receivedAt,
    recipients: doc.recipients,
    receipt,
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
