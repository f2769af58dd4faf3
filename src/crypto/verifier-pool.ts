/**
 * A pool of worker threads for signature verification, which is CPU-bound (canonicalization and
 * RSA/ECDSA): the event loop stays free for I/O while the cores verify. Same interface as
 * LocalVerifier. CRL updates are broadcast to every worker.
 */
import { Worker } from 'node:worker_threads';
import { HubError, type ErrorCode } from '../domain/errors.ts';
import { x509 } from './x509.ts';
import type { VerifiedSubmission } from './verifier.ts';
import type { EdxmlMessage } from '../domain/edxml/model.ts';
import type { Certificate, OcspEvent, RevocationMode, ValidatedChain } from './trust.ts';
import type { XmlLimits } from './xml-guard.ts';

interface Pending {
  resolve: (v: VerifiedSubmission) => void;
  reject: (e: Error) => void;
}

interface Reply {
  id: number;
  ok: boolean;
  parsed?: EdxmlMessage;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  chainPem?: string[];
  fingerprintSha256?: string;
  subject?: string;
  revocation?: ValidatedChain['revocation'];
  code?: ErrorCode;
  reason?: string;
  message?: string;
  details?: Record<string, unknown>;
}

export interface PoolOptions {
  readonly size: number;
  /**
   * Bytes of messages in the workers at once; further requests wait in order (a lone message larger
   * than this still goes, alone). Verification holds several copies of a message (its text, two DOMs,
   * the canonical form), so this is what bounds the memory of large submissions arriving together.
   */
  readonly maxBytesInFlight?: number;
  readonly trustDir: string;
  readonly revocation: RevocationMode;
  readonly maxCrlAgeSeconds: number;
  readonly maxAgeWithoutNextUpdateSeconds?: number;
  readonly ocsp?: boolean;
  readonly limits: XmlLimits;
  readonly crls?: Uint8Array[];
  /** A pinned verification time (tests; a clock cannot cross into the threads). Default: now. */
  readonly at?: Date;
}

export class VerifierPool {
  readonly #workers: { w: Worker; busy: number }[] = [];
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #closed = false;
  #maxBytes = Infinity;
  #bytesInFlight = 0;
  readonly #waiting: { bytes: number; go: () => void }[] = [];
  readonly #ocspListeners: ((e: OcspEvent) => void)[] = [];

  private constructor() {}

  static async create(o: PoolOptions): Promise<VerifierPool> {
    const pool = new VerifierPool();
    pool.#maxBytes = o.maxBytesInFlight ?? Infinity;
    const url = new URL('./verify-worker.ts', import.meta.url);
    await Promise.all(
      Array.from({ length: Math.max(1, o.size) }, async () => {
        const w = new Worker(url, {
          workerData: {
            trustDir: o.trustDir,
            revocation: o.revocation,
            maxCrlAgeSeconds: o.maxCrlAgeSeconds,
            maxAgeWithoutNextUpdateSeconds: o.maxAgeWithoutNextUpdateSeconds,
            ocsp: o.ocsp ?? false,
            limits: o.limits,
            crls: o.crls ?? [],
            atMs: o.at?.getTime(),
          },
          execArgv: ['--disable-warning=ExperimentalWarning'],
        });
        const slot = { w, busy: 0 };
        await new Promise<void>((resolve, reject) => {
          w.once('error', reject);
          w.once('message', () => resolve());
        });
        w.on('message', (r: Reply | { ocsp: OcspEvent }) => {
          if ('ocsp' in r) for (const l of pool.#ocspListeners) l(r.ocsp);
          else pool.#onReply(slot, r);
        });
        w.on('error', (err: Error) => pool.#failAll(err));
        pool.#workers.push(slot);
      }),
    );
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  #onReply(slot: { busy: number }, r: Reply): void {
    slot.busy--;
    const p = this.#pending.get(r.id);
    if (!p) return;
    this.#pending.delete(r.id);
    if (!r.ok) {
      // The worker's refusal as it was made: code, reason (in both messages, and in /vdxp's
      // ErrorDesc) and details. An unexpected error keeps its message for the log.
      const e = new HubError(r.code ?? 'INTERNAL', r.reason, r.details);
      if (!r.code || r.code === 'INTERNAL')
        Object.defineProperty(e, 'message', { value: r.message ?? e.message });
      p.reject(e);
      return;
    }
    p.resolve({
      message: r.parsed!,
      signatureAlgorithm: r.signatureAlgorithm!,
      digestAlgorithm: r.digestAlgorithm!,
      signer: signerOf(r.chainPem ?? [], {
        fingerprintSha256: r.fingerprintSha256!,
        subject: r.subject!,
        revocation: r.revocation ?? { checked: false },
      }),
    });
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  async verify(bytes: Uint8Array): Promise<VerifiedSubmission> {
    if (this.#closed) throw new HubError('UNAVAILABLE', 'verifier pool closed');
    const size = bytes.byteLength;
    if (this.#waiting.length > 0 || (this.#bytesInFlight > 0 && this.#bytesInFlight + size > this.#maxBytes))
      await new Promise<void>((go) => this.#waiting.push({ bytes: size, go })); // #admit counts it in
    else this.#bytesInFlight += size;
    try {
      return await this.#send(bytes);
    } finally {
      this.#bytesInFlight -= size;
      this.#admit();
    }
  }

  /** Lets waiting requests in, in order, while the budget allows (the first always when idle). */
  #admit(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      if (this.#bytesInFlight > 0 && this.#bytesInFlight + next.bytes > this.#maxBytes) break;
      this.#waiting.shift();
      this.#bytesInFlight += next.bytes;
      next.go();
    }
  }

  /** Requests waiting for the byte budget, and bytes in the workers (tests, diagnostics). */
  get waiting(): number {
    return this.#waiting.length;
  }

  get bytesInFlight(): number {
    return this.#bytesInFlight;
  }

  #send(bytes: Uint8Array): Promise<VerifiedSubmission> {
    if (this.#closed) return Promise.reject(new HubError('UNAVAILABLE', 'verifier pool closed'));
    const slot = this.#workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.#next++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      slot.w.postMessage({ type: 'verify', id, bytes });
    });
  }

  /** Called with the outcome of every question a worker asked an OCSP responder. */
  onOcsp(fn: (e: OcspEvent) => void): void {
    this.#ocspListeners.push(fn);
  }

  broadcastCrl(der: Uint8Array): void {
    for (const { w } of this.#workers) w.postMessage({ type: 'crl', der });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#workers.map(({ w }) => w.terminate()));
  }
}

/**
 * The signer as the worker validated it. The certificates are decoded again on this thread only when
 * asked for (about 1 ms each, on the busiest thread): a submission needs the leaf's fingerprint and
 * subject, which come as text; evidence bundles that need the certificates get them.
 */
function signerOf(
  pems: readonly string[],
  known: Pick<ValidatedChain, 'fingerprintSha256' | 'subject' | 'revocation'>,
): ValidatedChain {
  let leaf: Certificate | undefined;
  let chain: Certificate[] | undefined;
  return {
    get leaf() {
      return (leaf ??= chain?.[0] ?? new x509.X509Certificate(pems[0]!));
    },
    get chain() {
      return (chain ??= pems.map((pem, i) => (i === 0 && leaf) || new x509.X509Certificate(pem)));
    },
    ...known,
  };
}
