/**
 * Push delivery: POST the exact signed bytes to the agency's registered HTTPS endpoint.
 *
 * The request is signed by the hub so the agency can tell it came from the hub:
 *   X-Hub-Delivery-Id   idempotency key (the same on every retry of one delivery)
 *   X-Hub-Timestamp     unix seconds
 *   X-Hub-Signature     base64 RSA-SHA256 (hub key) over "<deliveryId>\n<timestamp>\n<hex sha256(body)>"
 * TLS certificates are verified (Node's fetch); 2xx = delivered; 408, 429, 5xx, timeouts and
 * connection errors are transient (retried with backoff); other 4xx mean the endpoint refused the
 * document, which ends the delivery with that reason.
 */
import { createHash, createSign, type KeyObject } from 'node:crypto';
import { HubError } from '../domain/errors.ts';
import { verifyHubDetached, type HubTrust } from '../crypto/hub-signed.ts';
import type { ValidatedChain } from '../crypto/trust.ts';

export class TransientDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientDeliveryError';
  }
}

export class RefusedByEndpointError extends Error {
  readonly httpStatus: number;
  constructor(httpStatus: number, message: string) {
    super(message);
    this.name = 'RefusedByEndpointError';
    this.httpStatus = httpStatus;
  }
}

export function pushSignatureInput(deliveryId: string, timestamp: number, body: Uint8Array): string {
  return `${deliveryId}\n${timestamp}\n${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * For the receiving agency: checks a push request came from the hub — the X-Hub-Signature by a hub
 * signing certificate (hub-signing EKU, pinned, valid at X-Hub-Timestamp; src/crypto/hub-signed.ts)
 * over the delivery id, the timestamp and the body. `hubCertPem`: the published hub certificate.
 * Rejecting stale timestamps (replays) is the receiver's choice; the delivery id makes retries idempotent.
 */
export function verifyPushRequest(
  headers: { deliveryId: string; timestamp: string; signature: string },
  body: Uint8Array,
  hubCertPem: string,
  hub: HubTrust,
): Promise<ValidatedChain> {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts)) throw new HubError('VALIDATION_FAILED', 'X-Hub-Timestamp must be unix seconds');
  return verifyHubDetached(
    pushSignatureInput(headers.deliveryId, ts, body),
    headers.signature,
    hubCertPem,
    hub,
    new Date(ts * 1000),
  );
}

export interface PushRequest {
  readonly url: string;
  readonly deliveryId: string;
  readonly docId: string;
  readonly messageType: string;
  readonly body: Uint8Array;
}

export class PushClient {
  readonly #key: KeyObject;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(hubKey: KeyObject, timeoutMs: number, fetchImpl: typeof fetch = fetch) {
    this.#key = hubKey;
    this.#timeoutMs = timeoutMs;
    this.#fetch = fetchImpl;
  }

  async push(r: PushRequest): Promise<number> {
    const ts = Math.floor(Date.now() / 1000);
    const sig = createSign('sha256')
      .update(pushSignatureInput(r.deliveryId, ts, r.body))
      .sign(this.#key, 'base64');
    let res: Response;
    try {
      res = await this.#fetch(r.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/xml',
          'x-hub-delivery-id': r.deliveryId,
          'x-hub-doc-id': r.docId,
          'x-hub-message-type': r.messageType,
          'x-hub-timestamp': String(ts),
          'x-hub-signature': sig,
        },
        body: r.body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      throw new TransientDeliveryError(`push to ${r.url} failed: ${(err as Error).message}`);
    }
    if (res.status >= 200 && res.status < 300) return res.status;
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      throw new TransientDeliveryError(`push to ${r.url} answered HTTP ${res.status}`);
    }
    throw new RefusedByEndpointError(res.status, `endpoint refused the document: HTTP ${res.status}`);
  }
}
