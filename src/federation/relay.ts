/**
 * Outbound relay: the worker's delivery mode `peer` (one branch in src/delivery/worker.ts calls
 * `relay`). The exact bytes the sender signed go to the owning peer with sendEdoc — never re-signed,
 * never re-encoded — so the recipient verifies the original signature. The peer's acceptance is the
 * delivery's transport state (`pushed`); the peer's answers come back as status messages.
 *
 * Failures follow the push rules (src/delivery/push.ts): connection trouble, timeouts, 5xx and the
 * peer's own temporary refusals (ErrorCode 408, 429, 5xx) are `TransientDeliveryError` — retried with
 * backoff through the delay queues and counted by the per-peer circuit breaker — and a FAIL envelope
 * is the peer refusing the document: `RefusedByEndpointError`, the delivery ends failed with the
 * peer's reason. A unit whose peer is no longer configured is a poison task (dead letter, replayable).
 *
 * Idempotent across crashes: the peer deduplicates on sender + DocumentId and answers a resend with
 * its original acceptance, so a relay repeated after a crash (accepted by the peer, not yet recorded
 * here) is delivered once.
 */
import type { Agency, DeliveryRecord } from '../domain/types.ts';
import { RefusedByEndpointError, TransientDeliveryError } from '../delivery/push.ts';
import type { CircuitBreakers } from '../delivery/circuit-breaker.ts';
import { PoisonTaskError } from '../delivery/worker.ts';
import type { Logger } from '../observability/logger.ts';
import { PeerRefusal } from './client.ts';
import type { PeerRegistry } from './peers.ts';
import type { PeerStateStore } from './ports.ts';
import { remotePeerOf } from './remote.ts';

/** 'pushed': the peer accepted it; 'hold': kept in the pull inbox for a peer that polls this hub. */
export type RelayOutcome = 'pushed' | 'hold';

/** The peer's own temporary refusals (its ErrorCode): retried, not the end of the delivery. */
const TRANSIENT_CODES = /^(408|429|5\d\d)$/;

export class PeerRelay {
  readonly #peers: () => PeerRegistry;
  readonly #breakers: CircuitBreakers;
  readonly #state: Pick<PeerStateStore, 'recordContact' | 'recordError'>;
  readonly #log: Logger;

  constructor(deps: {
    /** The current peers (read at each relay: a change applies without a restart). */
    peers: () => PeerRegistry;
    breakers: CircuitBreakers;
    state: Pick<PeerStateStore, 'recordContact' | 'recordError'>;
    log: Logger;
  }) {
    this.#peers = deps.peers;
    this.#breakers = deps.breakers;
    this.#state = deps.state;
    this.#log = deps.log;
  }

  async relay(d: DeliveryRecord, agency: Agency, payload: () => Promise<Buffer>): Promise<RelayOutcome> {
    const peerId = remotePeerOf(agency);
    const peer = peerId ? this.#peers().get(peerId) : undefined;
    if (!peer)
      throw new PoisonTaskError(
        `agency ${d.recipientCode} is served by federation peer ${peerId ?? '?'}, which is not configured`,
      );
    // Disabled by an administrator: retried with backoff (then dead-lettered, replayable).
    if (!peer.enabled) throw new TransientDeliveryError(`federation peer ${peer.id} is disabled`);
    if (peer.config.outbound === 'hold') return 'hold';
    const key = `peer:${peer.id}`;
    if (!this.#breakers.allow(key)) throw new TransientDeliveryError(`circuit open for peer ${peer.id}`);
    try {
      const peerDocId = await peer.client.sendEdoc(await payload(), d.senderCode);
      this.#breakers.success(key);
      await this.#state.recordContact(peer.id, new Date(), 'relayed').catch(() => undefined);
      this.#log.info({ deliveryId: d.id, peer: peer.id, peerDocId }, 'federation: relayed to peer');
      return 'pushed';
    } catch (err) {
      await this.#state
        .recordError(peer.id, 'sendEdoc', (err as Error).message, new Date())
        .catch(() => undefined);
      if (err instanceof PeerRefusal && !TRANSIENT_CODES.test(err.errorCode)) {
        this.#breakers.success(key); // an answer: the peer is alive
        throw new RefusedByEndpointError(422, err.message);
      }
      this.#breakers.failure(key);
      if (err instanceof PeerRefusal) throw new TransientDeliveryError(err.message);
      throw err;
    }
  }
}
