/**
 * Inbound: what a peer holds for this hub's agencies (the national axis keeps messages until the
 * addressee collects them). Per peer, once per period across the cluster (a period lease, run by the
 * worker role): getReceivedEdocList → getEdoc → SubmissionService.submit as the peer → updateStatus.
 *
 * - Each message is verified exactly as a direct submission (the same service: guard, signature
 *   profile, PKI, the peer's trusted roots for its units, routing to this hub's own units only).
 * - Accepted (or a replay of an accepted message: the hub answers with the original receipt, so a
 *   message fetched twice is delivered once): `updateStatus done`.
 * - Refused by a check (a HubError: tampered, untrusted signer, unknown recipient, ...): refused back
 *   to the peer with the reason, `updateStatus fail` — never delivered.
 * - Anything else (the store or the broker in trouble): left at the peer, taken again next period.
 */
import { isHubError } from '../domain/errors.ts';
import type { SystemCredential } from '../domain/types.ts';
import type { SubmissionService } from '../documents/submission.ts';
import type { Logger } from '../observability/logger.ts';
import type { Peer } from './peers.ts';
import type { PeerStateStore } from './ports.ts';

export interface PollResult {
  readonly listed: number;
  readonly accepted: number;
  readonly refused: number;
  readonly failed: number;
}

export class PeerPoller {
  readonly #submissions: Pick<SubmissionService, 'submit'>;
  readonly #state: Pick<PeerStateStore, 'recordContact' | 'recordError'>;
  readonly #caller: (peer: Peer) => Promise<SystemCredential>;
  readonly #log: Logger;

  constructor(deps: {
    submissions: Pick<SubmissionService, 'submit'>;
    state: Pick<PeerStateStore, 'recordContact' | 'recordError'>;
    caller: (peer: Peer) => Promise<SystemCredential>;
    log: Logger;
  }) {
    this.#submissions = deps.submissions;
    this.#state = deps.state;
    this.#caller = deps.caller;
    this.#log = deps.log;
  }

  async poll(peer: Peer, limit = 500): Promise<PollResult> {
    let items;
    try {
      items = await peer.client.getReceivedEdocList();
    } catch (err) {
      await this.#state.recordError(peer.id, 'getReceivedEdocList', (err as Error).message, new Date());
      throw err;
    }
    await this.#state.recordContact(peer.id, new Date());
    const caller = await this.#caller(peer);
    let accepted = 0;
    let refused = 0;
    let failed = 0;
    for (const item of items.slice(0, limit)) {
      try {
        const bytes = await peer.client.getEdoc(item.docId);
        try {
          const r = await this.#submissions.submit(caller, bytes);
          await peer.client.updateStatus(item.docId, 'done');
          await this.#state.recordContact(peer.id, new Date(), 'received');
          this.#log.info(
            { peer: peer.id, peerDocId: item.docId, docId: r.docId, duplicate: r.duplicate },
            'federation: message taken from peer',
          );
          accepted++;
        } catch (err) {
          if (!isHubError(err)) throw err;
          // Refused back with the stable code and the reason; never delivered here.
          await peer.client.updateStatus(item.docId, 'fail', `${err.code}: ${err.message}`);
          this.#log.warn(
            { peer: peer.id, peerDocId: item.docId, code: err.code, reason: err.message },
            'federation: message from peer refused',
          );
          refused++;
        }
      } catch (err) {
        failed++;
        await this.#state
          .recordError(peer.id, 'poll', `${item.docId}: ${(err as Error).message}`, new Date())
          .catch(() => undefined);
        this.#log.warn(
          { peer: peer.id, peerDocId: item.docId, err: (err as Error).message },
          'federation: poll item failed',
        );
      }
    }
    return { listed: items.length, accepted, refused, failed };
  }
}
