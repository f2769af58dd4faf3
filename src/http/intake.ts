/**
 * Intake of /v1 requests (issue 18 §4, §5; docs/security.md §9): the caller is authenticated from the
 * headers before any large read, each signed request is accepted once, and bodies are bounded.
 *
 *  1. per client address, a token bucket (`RATE_LIMITED`, 429, Retry-After);
 *  2. Authorization parsed, timestamp within the clock skew, credential known and active;
 *  3. with `X-Hub-Content-SHA256`: the HMAC is checked over the declared hash (headers alone); then the
 *     per-credential bucket and the one-use signature ledger (a submission, an acknowledgement:
 *     `spendOnRefusal` below);
 *     then the body is read up to
 *     `http.maxMessageBytes`, hashed as it arrives, and refused (`BODY_HASH_MISMATCH`) unless it is the
 *     declared one — nothing downstream ever sees those bytes;
 *     without it: the body is read only up to `http.unsignedBodyMaxBytes` (`BODY_HASH_REQUIRED` above),
 *     then the HMAC over its hash, the bucket and the ledger as above;
 *  4. a body over `http.largeBodyBytes` takes one of `http.maxConcurrentLargeBodies` slots until its
 *     response is finished (`INTAKE_BUSY`, 503, Retry-After when none is free).
 *
 * A refusal before the whole body arrived answers with `Connection: close`: the unread bytes are
 * dropped with the connection, never buffered.
 */
import { createHash } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { HubError } from '../domain/errors.ts';
import type { CredentialStore, SignatureLedger } from '../domain/ports.ts';
import type { SystemCredential } from '../domain/types.ts';
import { withCredentials } from '../systems/credential-cache.ts';
import { CONTENT_SHA256_HEADER, parseAuthorization, verifySignature } from './hmac-auth.ts';

export interface IntakeLimits {
  readonly maxMessageBytes: number;
  readonly clockSkewSeconds: number;
  /** Largest body accepted without X-Hub-Content-SHA256 (read before the signature is checked). */
  readonly unsignedBodyMaxBytes: number;
  /** A body over this many bytes is "large" and needs a slot. */
  readonly largeBodyBytes: number;
  readonly maxConcurrentLargeBodies: number;
  readonly rateLimit: {
    readonly perAddress: { readonly burst: number; readonly perSecond: number };
    readonly perCredential: { readonly burst: number; readonly perSecond: number };
  };
}

export interface IntakeDeps {
  readonly credentials: Pick<CredentialStore, 'find'>;
  readonly signatures: SignatureLedger;
  readonly limits: IntakeLimits;
  /** Told the number of large bodies held after every change (a gauge). */
  readonly largeBodies?: { set(n: number): void };
  readonly now?: () => number;
}

/** An acknowledgement's path, without a query (one with a query keeps its ledger entry). */
const ACK_PATH = /^\/v1\/inbox\/[^/?#]+\/ack$/;

/**
 * Requests whose replay is harmless without a ledger entry (docs/threat-model.md T3): a submission and
 * an acknowledgement. The HMAC binds method, path, timestamp and the body's hash, so a replay carries
 * the same bytes. A submission is idempotent per (sender, DocumentId): same bytes answer the original
 * receipt and write nothing (src/documents/submission.ts `replayOf`), other bytes cannot come with
 * this signature. An acknowledgement is idempotent per delivery: a repeat answers with the first
 * acknowledgement (acknowledged is final) and writes nothing, not even an audit entry
 * (src/documents/queries.ts). What is left is spent only when the request is refused
 * (`spendOnRefusal`), so a refused one (an item not delivered yet) cannot succeed by its replay later;
 * and each api process keeps the signatures it admitted in memory (`SeenSignatures`), so a replay to
 * the same process is refused before its body is read.
 */
export function ledgerOnRefusalOnly(method: string, pathWithQuery: string): boolean {
  return method === 'POST' && (pathWithQuery === '/v1/documents' || ACK_PATH.test(pathWithQuery));
}

/** Signatures admitted without a ledger entry, until their window closes: at most `max`, oldest out first. */
export class SeenSignatures {
  readonly #until = new Map<string, number>();
  readonly #max: number;
  constructor(max = 200_000) {
    this.#max = max;
  }
  /** True the first time `key` is seen before `untilMs` (and then remembers it). */
  firstUse(key: string, untilMs: number, nowMs: number): boolean {
    const seen = this.#until.get(key);
    if (seen !== undefined && seen > nowMs) return false;
    // Oldest first: drop the expired ones at the head, then whatever exceeds the bound.
    for (const [k, u] of this.#until) {
      if (u > nowMs && this.#until.size < this.#max) break;
      this.#until.delete(k);
    }
    this.#until.set(key, untilMs);
    return true;
  }
  get size(): number {
    return this.#until.size;
  }
}

/** Where intake leaves the deferred ledger entry of a request admitted by `ledgerOnRefusalOnly`. */
const DEFERRED = Symbol('deferred ledger entry');
type Deferred = { [DEFERRED]?: () => Promise<boolean> };

/**
 * Mounted after the /v1 routes: a request admitted without its ledger entry (`ledgerOnRefusalOnly`)
 * and refused gets its entry now, before the refusal is answered; when the entry was already there
 * (the same request refused before, by any api process) the answer is REQUEST_REPLAYED, as for any
 * other replay. An accepted one never gets an entry: its document key answers the replay.
 */
export function spendOnRefusal(): ErrorRequestHandler {
  return (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const spend = (res.locals as Deferred)[DEFERRED];
    if (!spend) return next(err);
    delete (res.locals as Deferred)[DEFERRED];
    spend().then(
      (first) => next(first ? err : new HubError('REQUEST_REPLAYED', 'a signed request is accepted once')),
      () => next(err),
    );
  };
}

/** Buckets kept per limiter before full (idle) ones are dropped. */
const MAX_BUCKETS = 100_000;

/**
 * Token buckets per key, in this process's memory: with N api processes a key gets up to N times the
 * rate (documented in docs/api.md). `take` answers 0 when a token was taken, else seconds to wait.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #burst: number;
  readonly #perSecond: number;
  readonly #now: () => number;

  constructor(o: { burst: number; perSecond: number }, now: () => number = Date.now) {
    this.#burst = o.burst;
    this.#perSecond = o.perSecond;
    this.#now = now;
  }

  take(key: string): number {
    const t = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#dropFull(t);
      b = { tokens: this.#burst, at: t };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(this.#burst, b.tokens + ((t - b.at) / 1000) * this.#perSecond);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#perSecond));
  }

  #dropFull(t: number): void {
    for (const [k, b] of this.#buckets)
      if (b.tokens + ((t - b.at) / 1000) * this.#perSecond >= this.#burst) this.#buckets.delete(k);
  }
}

/** At most `max` large bodies held at once in this process. */
export class LargeBodySlots {
  #inUse = 0;
  readonly #max: number;
  readonly #onChange: (inUse: number) => void;
  constructor(max: number, onChange: (inUse: number) => void = () => undefined) {
    this.#max = max;
    this.#onChange = onChange;
  }
  get inUse(): number {
    return this.#inUse;
  }
  /** A release function, or null when every slot is taken. */
  tryAcquire(): (() => void) | null {
    if (this.#inUse >= this.#max) return null;
    this.#onChange(++this.#inUse);
    let released = false;
    return () => {
      if (!released) this.#onChange(--this.#inUse);
      released = true;
    };
  }
}

const BUSY_RETRY_AFTER_SECONDS = 2;

function contentLength(req: Request): number | null {
  const v = req.header('content-length');
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/**
 * Reads the body, at most `max` bytes (`tooLarge` above), hashing it as it arrives. `onLarge` runs
 * once when the bytes first pass `largeAt` and may throw to stop the reading. With a Content-Length
 * the bytes are copied into one buffer of that size as they come (one copy of the body in memory,
 * not the chunks and then their concatenation).
 */
function readBody(
  req: Request,
  o: { max: number; tooLarge: () => HubError; largeAt: number; onLarge: () => void },
): Promise<{ body: Buffer; sha256: string }> {
  const expected = contentLength(req);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let whole: Buffer | undefined;
    const hash = createHash('sha256');
    let size = 0;
    const stop = (err: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      chunks.length = 0;
      whole = undefined;
      reject(err);
    };
    const onData = (c: Buffer) => {
      const before = size;
      size += c.length;
      if (size > o.max) return stop(o.tooLarge());
      if (before <= o.largeAt && size > o.largeAt) {
        try {
          o.onLarge();
        } catch (err) {
          return stop(err as Error);
        }
      }
      hash.update(c);
      if (expected !== null && expected <= o.max) {
        whole ??= Buffer.allocUnsafe(expected);
        c.copy(whole, before);
      } else chunks.push(c);
    };
    const onEnd = () => {
      req.off('data', onData);
      req.off('error', onError);
      req.off('aborted', onAborted);
      // Node's parser ends a body with a Content-Length only once that many bytes arrived.
      const body = whole ? whole.subarray(0, size) : Buffer.concat(chunks, size);
      resolve({ body, sha256: hash.digest('hex') });
    };
    const onError = (err: Error) => stop(err);
    const onAborted = () => stop(new HubError('VALIDATION_FAILED', 'the request body ended early'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}

export function v1Intake(deps: IntakeDeps): RequestHandler {
  const now = deps.now ?? Date.now;
  const l = deps.limits;
  const byAddress = new RateLimiter(l.rateLimit.perAddress, now);
  const byCredential = new RateLimiter(l.rateLimit.perCredential, now);
  const slots = new LargeBodySlots(l.maxConcurrentLargeBodies, (n) => deps.largeBodies?.set(n));
  const seen = new SeenSignatures();
  const unauthenticated = (reason: string) => new HubError('UNAUTHENTICATED', reason);

  const rateLimited = (res: Response, waitSeconds: number, what: string) => {
    res.setHeader('Retry-After', String(waitSeconds));
    return new HubError('RATE_LIMITED', `too many requests from this ${what}`, { retryAfter: waitSeconds });
  };

  const takeSlot = (res: Response) => {
    const release = slots.tryAcquire();
    if (!release) {
      res.setHeader('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
      throw new HubError(
        'INTAKE_BUSY',
        `${l.maxConcurrentLargeBodies} bodies over ${l.largeBodyBytes} bytes are being received`,
      );
    }
    res.once('close', release);
  };

  async function admit(req: Request, res: Response): Promise<void> {
    // req.ip: the socket's address (the load balancer's, unless Express's `trust proxy` is set), as
    // the web UI's login throttle uses.
    const wait = byAddress.take(req.ip ?? req.socket.remoteAddress ?? '');
    if (wait) throw rateLimited(res, wait, 'address');
    const auth = parseAuthorization(req.header('authorization'));
    if (!auth) throw unauthenticated('missing or malformed Authorization header (HUB1-HMAC-SHA256)');
    if (Math.abs(now() / 1000 - auth.timestamp) > l.clockSkewSeconds)
      throw unauthenticated(`timestamp outside the allowed clock skew of ${l.clockSkewSeconds}s`);
    const declared = req.header(CONTENT_SHA256_HEADER);
    if (declared !== undefined && !/^[0-9a-f]{64}$/i.test(declared))
      throw new HubError('VALIDATION_FAILED', 'X-Hub-Content-SHA256 must be 64 hexadecimal digits');
    // One answer for unknown system, disabled system and bad signature: no oracle.
    const invalid = () => unauthenticated('unknown system or invalid signature');
    const signed = { method: req.method, pathWithQuery: req.originalUrl, timestamp: auth.timestamp };
    // The credential that signed this: a cached one that does not is read again (credential-cache.ts).
    const verified = (proof: { bodySha256: string } | { body: Buffer }) =>
      withCredentials(deps.credentials, async (lookup) => {
        const c = await lookup(auth.systemId);
        if (!c || !c.active || !verifySignature(c.secret, auth, { ...signed, ...proof })) throw invalid();
        return c;
      });
    const length = contentLength(req);

    // Accepted once: the signature is spent before the handler runs, whatever happens next.
    const spend = async (cred: SystemCredential) => {
      const w = byCredential.take(cred.systemId);
      if (w) throw rateLimited(res, w, 'system');
      const expiresAt = new Date((auth.timestamp + l.clockSkewSeconds + 1) * 1000);
      const key = `${cred.systemId}:${auth.signature}`;
      const replayed = () => new HubError('REQUEST_REPLAYED', 'a signed request is accepted once');
      if (ledgerOnRefusalOnly(req.method, req.originalUrl)) {
        if (!seen.firstUse(key, expiresAt.getTime(), now())) throw replayed();
        (res.locals as Deferred)[DEFERRED] = () => deps.signatures.firstUse(key, expiresAt);
        return;
      }
      if (!(await deps.signatures.firstUse(key, expiresAt))) throw replayed();
    };

    let body: Buffer;
    let cred: SystemCredential;
    if (declared !== undefined) {
      cred = await verified({ bodySha256: declared });
      await spend(cred);
      const tooLarge = () => new HubError('PAYLOAD_TOO_LARGE', `limit is ${l.maxMessageBytes} bytes`);
      if (length !== null && length > l.maxMessageBytes) throw tooLarge();
      if (length !== null && length > l.largeBodyBytes) takeSlot(res);
      const read = await readBody(req, {
        max: l.maxMessageBytes,
        tooLarge,
        largeAt: length === null ? l.largeBodyBytes : Infinity,
        onLarge: () => takeSlot(res),
      });
      if (read.sha256 !== declared.toLowerCase())
        throw new HubError('BODY_HASH_MISMATCH', `received bytes hash to ${read.sha256}`);
      body = read.body;
    } else {
      // Known and active before the body is read.
      const known = await withCredentials(deps.credentials, async (lookup) => {
        const c = await lookup(auth.systemId);
        if (!c || !c.active) throw invalid();
        return c;
      });
      const tooLarge = () =>
        new HubError(
          'BODY_HASH_REQUIRED',
          `bodies over ${l.unsignedBodyMaxBytes} bytes need the X-Hub-Content-SHA256 header`,
        );
      if (length !== null && length > l.unsignedBodyMaxBytes) throw tooLarge();
      body = (await readBody(req, { max: l.unsignedBodyMaxBytes, tooLarge, largeAt: Infinity, onLarge() {} }))
        .body;
      cred = verifySignature(known.secret, auth, { ...signed, body }) ? known : await verified({ body });
      await spend(cred);
    }
    req.caller = cred;
    req.rawBody = body;
  }

  return (req: Request, res: Response, next: NextFunction) => {
    admit(req, res).then(
      () => next(),
      (err: unknown) => {
        // The rest of the body is not read: close the connection after the answer.
        if (!req.complete) res.setHeader('Connection', 'close');
        next(err);
      },
    );
  };
}
