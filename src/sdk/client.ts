/**
 * Client of the hub's agency API for document-management systems.
 *
 *  - every request is signed with the system's HMAC credentials (HUB1-HMAC-SHA256, fresh timestamp
 *    and nonce per attempt, the body's hash in X-Hub-Content-SHA256);
 *  - transient failures (connection refused/reset, request timeout, 5xx such as 503 UNAVAILABLE, 408,
 *    429) are retried with exponential backoff and jitter; other 4xx never are. Every call it makes is
 *    idempotent: resending the same signed bytes is answered with the original receipt (200,
 *    duplicate: true), acknowledgements return the first one;
 *  - refusals become HubApiError with the hub's stable code; transport failures after the last
 *    attempt become SdkError HUB_UNREACHABLE or TIMEOUT;
 *  - with a trust store, hub receipts are verified (signed by a pinned hub signing certificate — hubPins
 *    — chaining to a trusted root, src/crypto/hub-signed.ts; the receipt's DocumentId and SHA-256 equal
 *    to what was sent), and received messages can be verified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CONTENT_SHA256_HEADER, sha256Hex, signRequest } from '../http/hmac-auth.ts';
import { buildEdxml, parseEdxml, type EdocMessage, type EdxmlMessage } from '../domain/edxml/index.ts';
import { signEdxml, verifyEdxml, type SigningKey, type VerifiedMessage } from '../crypto/signature.ts';
import { decryptEdxml, encryptEdxml, isEncrypted, type RecipientKey } from '../crypto/encryption.ts';
import { verifyReceipt, type ReceiptData } from '../crypto/receipt.ts';
import type { TrustStore } from '../crypto/trust.ts';
import { SdkError } from './errors.ts';
import {
  docIdOf,
  originalOf,
  replaceDocument,
  revokeDocument,
  statusFor,
  updateDocument,
  type OriginalRef,
  type StatusInput,
} from './messages.ts';

export class HubApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly messageVi: string | undefined;
  readonly details: unknown;
  readonly errorId: string | undefined;

  constructor(
    status: number,
    body: { code?: string; message?: string; messageVi?: string; details?: unknown; id?: string },
  ) {
    super(body.message ?? `HTTP ${status}`);
    this.name = 'HubApiError';
    this.status = status;
    this.code = body.code ?? `HTTP_${status}`;
    this.messageVi = body.messageVi;
    this.details = body.details;
    this.errorId = body.id;
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included (1 = no retry). Default 5. */
  readonly attempts?: number;
  /** Backoff before retry n (1-based) is in [d/2, d] with d = min(maxDelayMs, baseDelayMs·2^(n-1)). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export interface RetryEvent {
  readonly method: string;
  readonly path: string;
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly delayMs: number;
  /** `HTTP 503 UNAVAILABLE`, `ECONNREFUSED`, `timeout` … */
  readonly reason: string;
}

export interface HubClientOptions {
  readonly baseUrl: string;
  readonly systemId: string;
  readonly secret: string;
  readonly fetch?: typeof fetch;
  /** Per attempt, until the whole answer is read. Default 30 s. */
  readonly timeoutMs?: number;
  /** Retry policy, or false for a single attempt. */
  readonly retry?: RetryOptions | false;
  /** Trust anchors: receipts are then verified on every submission, and receive() verifies messages. */
  readonly trust?: TrustStore;
  /**
   * SHA-256 fingerprints of the hub signing certificates whose receipts count (several during a key
   * rotation; GET /v1/hub/certificates lists them, but take them from the hub operator out of band).
   * Required with `trust` to submit: a receipt is never accepted on its chain alone.
   */
  readonly hubPins?: readonly string[];
  /** The hub-signing extended key usage OID (default HUB_SIGNING_EKU). */
  readonly hubSigningEku?: string;
  readonly onRetry?: (e: RetryEvent) => void;
}

export interface InboxItem {
  readonly id: string;
  readonly docId: string;
  readonly documentId: string;
  readonly messageType: 'edoc' | 'status';
  readonly from: string;
  readonly to: string;
  readonly addressedTo?: string;
  readonly availableAt: string;
}

export interface SubmitResponse {
  readonly docId: string;
  readonly documentId: string;
  readonly messageType: 'edoc' | 'status';
  readonly sha256: string;
  readonly receivedAt: string;
  readonly recipients: { code: string; outcome: string; deliveredTo?: string; reason?: string }[];
  readonly duplicate: boolean;
  readonly receipt: string;
  readonly httpStatus: number;
  /** Present when the client has a trust store: the receipt's signed content, checked against what was sent. */
  readonly verifiedReceipt?: ReceiptData & { signer: VerifiedMessage['signer'] };
}

export interface SendResult extends SubmitResponse {
  /** The exact signed bytes sent: resend them (submit) after a timeout, never rebuild. */
  readonly signedXml: string;
  readonly message: EdxmlMessage;
  readonly encryptedFor: readonly string[];
}

export interface Received {
  readonly item: string;
  /** The exact bytes the hub delivered (what the sender signed). */
  readonly bytes: Buffer;
  /** The signer's validated chain, when the client has a trust store. */
  readonly signer?: VerifiedMessage['signer'];
  readonly encrypted: boolean;
  /** The message, decrypted when it was encrypted and a key was given. */
  readonly xml: string;
  /** Parsed; null when still encrypted (no key given). */
  readonly message: EdxmlMessage | null;
}

export interface DeliveryView {
  readonly id: string;
  readonly recipient: string;
  readonly requestedCode?: string;
  readonly rerouted?: boolean;
  readonly transport: string;
  readonly attempts?: number;
  readonly availableAt?: string;
  readonly ackedAt?: string;
  readonly ack?: { result: string; reason?: string };
  readonly status: string | null;
  readonly deadline?: string;
  readonly overdue?: boolean;
  readonly pendingRequest?: 'recall' | 'update' | null;
  readonly timeline: { code: string; at: string; by: string; description?: string }[];
}

export interface DocumentView {
  readonly id: string;
  readonly documentId: string;
  readonly messageType: 'edoc' | 'status';
  readonly sender: string;
  readonly sha256: string;
  readonly receivedAt?: string;
  readonly meta?: Record<string, unknown>;
  readonly routing: { code: string; outcome: string; deliveredTo?: string; reason?: string }[];
  readonly receipt: string;
  readonly chain?: { docId: string; documentId: string; type: 'revoke' | 'update' | 'replace'; at: string }[];
  readonly probableDuplicateOf?: string;
  /** Federation: the hops the message came through to the hub (the peer that delivered it). */
  readonly via?: { peer: string; systemId: string; at: string }[];
  readonly deliveries: DeliveryView[];
}

export interface RoutingView {
  readonly code: string;
  readonly outcome: 'accepted' | 'rerouted' | 'refused';
  readonly deliveredTo?: string;
  readonly reason?: string;
}

export interface AgencyView {
  readonly code: string;
  readonly legacyCode?: string;
  readonly name: string;
  readonly shortName?: string;
  readonly block: 'party' | 'state' | 'front' | 'other';
  readonly kind: string;
  readonly parentCode: string | null;
  readonly province?: string;
  readonly status: 'active' | 'closed';
  readonly successors: string[];
  readonly delivery: { mode: string };
  readonly certificates: { fingerprintSha256: string; notAfter?: string }[];
  readonly version: number;
  readonly routing?: RoutingView;
}

export interface AgencyCertificates {
  readonly code: string;
  readonly status: 'active' | 'closed';
  readonly routing: RoutingView;
  readonly certificates: { fingerprintSha256: string; subject?: string; notAfter?: string; pem: string }[];
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** 408, 429 and 5xx are worth another attempt; every other status is the hub's answer. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function networkReason(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return 'timeout';
  return e.cause?.code ?? e.code ?? (err as Error).message;
}

export class HubClient {
  readonly #o: HubClientOptions;
  readonly #fetch: typeof fetch;
  readonly #attempts: number;
  readonly #base: number;
  readonly #max: number;
  readonly #timeout: number;

  constructor(o: HubClientOptions) {
    this.#o = o;
    this.#fetch = o.fetch ?? fetch;
    this.#attempts = o.retry === false ? 1 : Math.max(1, o.retry?.attempts ?? 5);
    this.#base = o.retry === false ? 0 : (o.retry?.baseDelayMs ?? 250);
    this.#max = o.retry === false ? 0 : (o.retry?.maxDelayMs ?? 8_000);
    this.#timeout = o.timeoutMs ?? 30_000;
  }

  get baseUrl(): string {
    return this.#o.baseUrl;
  }

  /** One signed request, one attempt, the raw Response (no retry, no timeout). */
  async request(
    method: string,
    pathWithQuery: string,
    body?: Uint8Array | string,
    contentType?: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? new Uint8Array(0));
    const timestamp = Math.floor(Date.now() / 1000);
    // The body's hash in a header lets the hub authenticate before reading the body; a fresh nonce
    // makes every attempt a new signature (the hub accepts each signature once).
    const bodySha256 = sha256Hex(bytes);
    const headers: Record<string, string> = {
      authorization: signRequest(this.#o.systemId, this.#o.secret, {
        method,
        pathWithQuery,
        timestamp,
        nonce: randomBytes(16).toString('base64url'),
        bodySha256,
      }),
      [CONTENT_SHA256_HEADER]: bodySha256,
      accept: 'application/json',
    };
    if (contentType) headers['content-type'] = contentType;
    return this.#fetch(new URL(pathWithQuery, this.#o.baseUrl), {
      method,
      headers,
      ...(signal ? { signal } : {}),
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: bytes as Uint8Array<ArrayBuffer> }),
    });
  }

  #delay(attempt: number, retryAfter: string | null): number {
    const d = Math.min(this.#max, this.#base * 2 ** (attempt - 1));
    const jittered = d / 2 + Math.random() * (d / 2);
    const ra = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0;
    return Math.round(Math.min(this.#max, Math.max(jittered, ra)));
  }

  /**
   * A signed request with timeout and retries; the whole answer is read. Throws HubApiError for a
   * refusal (and for a transient status still failing after the last attempt), SdkError for transport.
   */
  async call(
    method: string,
    pathWithQuery: string,
    body?: Uint8Array | string,
    contentType?: string,
    o: { signal?: AbortSignal } = {},
  ): Promise<Answer> {
    for (let attempt = 1; ; attempt++) {
      const signal = o.signal
        ? AbortSignal.any([o.signal, AbortSignal.timeout(this.#timeout)])
        : AbortSignal.timeout(this.#timeout);
      let reason: string;
      let retryAfter: string | null = null;
      try {
        const res = await this.request(method, pathWithQuery, body, contentType, signal);
        const answer = {
          status: res.status,
          headers: res.headers,
          body: Buffer.from(await res.arrayBuffer()),
        };
        if (answer.status < 400) return answer;
        const err = new HubApiError(answer.status, parseJson(answer.body));
        if (!isTransientStatus(answer.status) || attempt >= this.#attempts) throw err;
        reason = `HTTP ${answer.status} ${err.code}`;
        retryAfter = res.headers.get('retry-after');
      } catch (err) {
        if (err instanceof HubApiError) throw err;
        if (o.signal?.aborted) throw o.signal.reason as Error;
        reason = networkReason(err);
        if (attempt >= this.#attempts)
          throw reason === 'timeout'
            ? new SdkError(
                'TIMEOUT',
                `${method} ${pathWithQuery}: no answer within ${this.#timeout} ms (${attempt} attempt${attempt > 1 ? 's' : ''})`,
                { attempts: attempt },
                err,
              )
            : new SdkError(
                'HUB_UNREACHABLE',
                `${method} ${new URL(pathWithQuery, this.#o.baseUrl).href}: ${reason} (${attempt} attempt${attempt > 1 ? 's' : ''})`,
                { attempts: attempt, reason },
                err,
              );
      }
      const delayMs = this.#delay(attempt, retryAfter);
      this.#o.onRetry?.({ method, path: pathWithQuery, attempt, delayMs, reason });
      await sleep(delayMs, o.signal);
    }
  }

  async #json<T>(method: string, p: string, body?: string, ct?: string): Promise<T> {
    return parseJson((await this.call(method, p, body, ct)).body) as T;
  }

  // ---------------------------------------------------------------- submission

  /**
   * Submits signed edXML bytes (document or status). Resending the same bytes is safe: the hub answers
   * with the original receipt (duplicate: true). With a trust store the receipt is verified.
   */
  async submit(xml: string | Uint8Array): Promise<SubmitResponse> {
    const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : Buffer.from(xml);
    // Refuse before sending: a receipt that cannot be checked must not look like a verified one.
    if (this.#o.trust && !this.#o.hubPins?.length)
      throw new SdkError(
        'USAGE',
        'receipts cannot be verified without hubPins (SHA-256 of the hub signing certificates)',
      );
    const a = await this.call('POST', '/v1/documents', bytes, 'application/xml');
    const r = {
      ...(parseJson(a.body) as unknown as Omit<SubmitResponse, 'httpStatus'>),
      httpStatus: a.status,
    };
    if (!this.#o.trust) return r;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let receipt: SubmitResponse['verifiedReceipt'];
    try {
      receipt = await verifyReceipt(r.receipt, {
        trust: this.#o.trust,
        pins: this.#o.hubPins ?? [],
        ...(this.#o.hubSigningEku ? { eku: this.#o.hubSigningEku } : {}),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new SdkError(
        'RECEIPT_INVALID',
        `the hub receipt does not verify (${(err as Error).message}); the hub may still have accepted the document: docId ${r.docId}, DocumentId ${r.documentId}`,
        { docId: r.docId, ...(code ? { code } : {}) },
        err,
      );
    }
    if (receipt.sha256 !== sha256 || receipt.documentId !== r.documentId || r.sha256 !== sha256)
      throw new SdkError(
        'RECEIPT_MISMATCH',
        `the receipt covers ${receipt.documentId} / ${receipt.sha256}, not what was sent (${r.documentId} / ${sha256})`,
        { docId: r.docId },
      );
    return { ...r, verifiedReceipt: receipt };
  }

  /**
   * Builds, (for documents, optionally) encrypts, signs and submits a message. `encrypt: true` encrypts
   * for every recipient's certificates in force, fetched from the directory (successors for closed units);
   * or give the recipient keys. Returns the (verified) receipt and the exact bytes sent.
   */
  async send(
    message: EdxmlMessage,
    key: SigningKey,
    o: { encrypt?: boolean | readonly RecipientKey[] } = {},
  ): Promise<SendResult> {
    let xml = buildEdxml(message);
    let encryptedFor: string[] = [];
    if (o.encrypt && message.kind === 'edoc') {
      const keys =
        o.encrypt === true ? await this.recipientKeys(message.to.map((t) => t.organId)) : o.encrypt;
      xml = encryptEdxml(xml, keys);
      encryptedFor = [...new Set(keys.map((k) => k.code))];
    }
    const signedXml = signEdxml(xml, key);
    const r = await this.submit(signedXml);
    return { ...r, signedXml, message, encryptedFor };
  }

  /** Sends a signed status about a document (01…06, 02, 15, 16 by a recipient; 13 by the sender). */
  async sendStatus(input: StatusInput, key: SigningKey): Promise<SendResult> {
    return this.send(statusFor(input), key);
  }

  /** Revokes a document sent earlier (recipients answer the pending recall with 15 or 16). */
  async revoke(
    original: EdocMessage | OriginalRef,
    key: SigningKey,
    o: Parameters<typeof revokeDocument>[1],
  ) {
    return this.send(revokeDocument(asOriginal(original), o), key);
  }

  /** Updates a document sent earlier (metadata and/or recipients). */
  async update(
    original: EdocMessage | OriginalRef,
    key: SigningKey,
    o: Parameters<typeof updateDocument>[1],
  ) {
    return this.send(updateDocument(asOriginal(original), o), key);
  }

  /** Replaces a document sent earlier by a new one. */
  async replace(
    original: EdocMessage | OriginalRef,
    key: SigningKey,
    o: Parameters<typeof replaceDocument>[1],
    encrypt?: boolean,
  ) {
    return this.send(replaceDocument(asOriginal(original), o), key, encrypt ? { encrypt } : {});
  }

  // ---------------------------------------------------------------- receiving

  async inbox(
    q: { type?: 'edoc' | 'status'; limit?: number; after?: string; agency?: string } = {},
  ): Promise<{ items: InboxItem[]; next?: string }> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
    const qs = p.toString();
    return this.#json('GET', `/v1/inbox${qs ? `?${qs}` : ''}`);
  }

  /** Every unacknowledged item, page after page (oldest first). */
  async *inboxAll(
    q: { type?: 'edoc' | 'status'; agency?: string; pageSize?: number } = {},
  ): AsyncGenerator<InboxItem> {
    const limit = q.pageSize ?? 100;
    let after: string | undefined;
    for (;;) {
      const page = await this.inbox({
        ...(q.type ? { type: q.type } : {}),
        ...(q.agency ? { agency: q.agency } : {}),
        limit,
        ...(after ? { after } : {}),
      });
      yield* page.items;
      if (page.items.length < limit || !page.next) return;
      after = page.next;
    }
  }

  /**
   * Polls the inbox every intervalMs and yields each new item once, until the signal aborts (or
   * idleStopMs passes without anything new, when given).
   */
  async *poll(
    o: { type?: 'edoc' | 'status'; intervalMs?: number; signal?: AbortSignal; idleStopMs?: number } = {},
  ): AsyncGenerator<InboxItem> {
    const seen = new Set<string>();
    let lastNew = Date.now();
    while (!o.signal?.aborted) {
      const current = new Set<string>();
      for await (const item of this.inboxAll(o.type ? { type: o.type } : {})) {
        current.add(item.id);
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        lastNew = Date.now();
        yield item;
      }
      for (const id of seen) if (!current.has(id)) seen.delete(id); // acknowledged: forget
      if (o.idleStopMs !== undefined && Date.now() - lastNew > o.idleStopMs) return;
      try {
        await sleep(o.intervalMs ?? 2_000, o.signal);
      } catch {
        return;
      }
    }
  }

  /** The exact bytes of an inbox item. */
  async download(id: string): Promise<Buffer> {
    return (await this.call('GET', `/v1/inbox/${encodeURIComponent(id)}`)).body;
  }

  /**
   * Downloads an inbox item, verifies its signature (with the client's trust store, unless verify is
   * false), decrypts it with the given key when encrypted, and parses it.
   */
  async receive(id: string, o: { key?: SigningKey; verify?: boolean } = {}): Promise<Received> {
    const bytes = await this.download(id);
    let signer: VerifiedMessage['signer'] | undefined;
    if (o.verify !== false && this.#o.trust) signer = (await verifyEdxml(bytes, this.#o.trust)).signer;
    else if (o.verify === true)
      throw new SdkError('USAGE', 'verification needs a trust store (HubClientOptions.trust)');
    let xml = bytes.toString('utf8');
    const encrypted = isEncrypted(xml);
    if (encrypted && o.key) {
      try {
        xml = decryptEdxml(xml, o.key);
      } catch (err) {
        // A local failure (this key, not the hub): never reported as a refusal.
        throw new SdkError(
          'DECRYPTION_FAILED',
          `${id}: cannot decrypt with this key (${(err as Error).message})`,
          { item: id },
          err,
        );
      }
    }
    const message = isEncrypted(xml) ? null : parseEdxml(xml);
    return { item: id, bytes, ...(signer ? { signer } : {}), encrypted, xml, message };
  }

  /** Transport acknowledgement (idempotent). */
  async ack(
    id: string,
    result: 'done' | 'fail' = 'done',
    reason?: string,
  ): Promise<{ id: string; transport: string }> {
    return this.#json(
      'POST',
      `/v1/inbox/${encodeURIComponent(id)}/ack`,
      JSON.stringify({ result, reason }),
      'application/json',
    );
  }

  // ---------------------------------------------------------------- tracking

  /** A document (by the hub's docId) with each recipient's transport state and status timeline. */
  async document(docId: string): Promise<DocumentView> {
    return this.#json('GET', `/v1/documents/${encodeURIComponent(docId)}`);
  }

  /** The same, by sender and DocumentId. */
  async documentByDocumentId(senderCode: string, documentId: string): Promise<DocumentView> {
    return this.document(docIdOf(senderCode, documentId));
  }

  /** Per-recipient status of a document: recipient → { transport, status, overdue, pending, timeline }. */
  async statuses(docId: string): Promise<DeliveryView[]> {
    return (await this.document(docId)).deliveries;
  }

  /** The evidence bundle (zip) of a document. */
  async evidence(docId: string): Promise<Buffer> {
    return (await this.call('GET', `/v1/documents/${encodeURIComponent(docId)}/evidence`)).body;
  }

  // ---------------------------------------------------------------- directory

  async agency(code: string): Promise<AgencyView> {
    return this.#json('GET', `/v1/agencies/${encodeURIComponent(code)}`);
  }

  async searchAgencies(
    q: {
      q?: string;
      code?: string;
      block?: string;
      province?: string;
      status?: 'active' | 'closed';
      parent?: string;
      limit?: number;
      cursor?: string;
    } = {},
  ): Promise<{ items: AgencyView[]; next?: string }> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
    const qs = p.toString();
    return this.#json('GET', `/v1/agencies${qs ? `?${qs}` : ''}`);
  }

  /**
   * The hub signing certificates the hub publishes (current first, then retired ones): to check the pins
   * one was given, or to show an operator what to pin. Not a substitute for pins obtained out of band.
   */
  async hubCertificates(): Promise<{
    signingEku: string;
    certificates: {
      fingerprintSha256: string;
      subject: string;
      notBefore: string;
      notAfter: string;
      pem: string;
    }[];
  }> {
    return this.#json('GET', '/v1/hub/certificates');
  }

  async agencyCertificates(code: string): Promise<AgencyCertificates> {
    return this.#json('GET', `/v1/agencies/${encodeURIComponent(code)}/certificates`);
  }

  /**
   * Encryption keys for these recipients: the certificates in force of the agency each one is
   * delivered to (the successor of a closed unit). SdkError RECIPIENT_CERT_MISSING when one has none.
   */
  async recipientKeys(codes: readonly string[]): Promise<RecipientKey[]> {
    const out: RecipientKey[] = [];
    for (const code of codes) {
      const c = await this.agencyCertificates(code);
      const target =
        c.routing.deliveredTo && c.routing.deliveredTo !== c.code
          ? await this.agencyCertificates(c.routing.deliveredTo)
          : c;
      if (target.certificates.length === 0)
        throw new SdkError(
          'RECIPIENT_CERT_MISSING',
          `${target.code} has no certificate in force in the directory`,
          {
            code: target.code,
          },
        );
      for (const cert of target.certificates)
        if (!out.some((k) => k.code === target.code && k.certificatePem === cert.pem))
          out.push({ code: target.code, certificatePem: cert.pem });
    }
    return out;
  }
}

function asOriginal(o: EdocMessage | OriginalRef): OriginalRef {
  return 'kind' in o ? originalOf(o) : o;
}

function parseJson(b: Buffer): Record<string, string> {
  if (b.length === 0) return {};
  try {
    return JSON.parse(b.toString('utf8')) as Record<string, string>;
  } catch {
    return { message: b.toString('utf8').slice(0, 200) };
  }
}

/** An original for revoke/update/replace from the hub's view of a document the caller sent. */
export function originalFromView(v: DocumentView): OriginalRef {
  return {
    documentId: v.documentId,
    recipients: v.deliveries.map((d) => d.requestedCode ?? d.recipient),
    ...(typeof v.meta?.subject === 'string' ? { subject: v.meta.subject } : {}),
  };
}
