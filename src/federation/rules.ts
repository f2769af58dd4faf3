/**
 * The two rules federation adds to a submission (called from src/documents/submission.ts):
 *
 * - **Sender trust**: a peer's unit has no certificate registered here; its message is accepted only
 *   from that peer (the caller acts for exactly the peer's units) and only when the signer's chain —
 *   validated like any other (trusted root, validity, key usage, revocation) — ends at a root CA
 *   configured as trusted for that peer (`trustedRoots`). Otherwise `PEER_SIGNER_UNTRUSTED`.
 * - **No loops**: a message received from a peer is never relayed to a peer: its recipients that are
 *   remote units are refused (`PEER_NOT_RELAYED`) and only this hub's own units receive it.
 */
import { HubError } from '../domain/errors.ts';
import type { AgencyStore } from '../domain/ports.ts';
import type { Agency, RoutingOutcome, SystemCredential } from '../domain/types.ts';
import type { ValidatedChain } from '../crypto/trust.ts';
import { signerTrustedForPeer, type PeerRegistry } from './peers.ts';
import { remotePeerOf } from './remote.ts';

export interface FederationRules {
  /**
   * False for a local unit (the registered-certificate rule applies); true for a peer's unit whose
   * signer is trusted for that peer; throws otherwise.
   */
  remoteSenderTrusted(caller: SystemCredential, sender: Agency, signer: ValidatedChain): boolean;
  /** The routing of a message, with remote recipients refused when the caller is a peer. */
  withoutRelay(caller: SystemCredential, routing: readonly RoutingOutcome[]): Promise<RoutingOutcome[]>;
}

export function federationRules(
  peers: () => PeerRegistry,
  agencies: Pick<AgencyStore, 'findByCode'>,
): FederationRules {
  return {
    remoteSenderTrusted(caller, sender, signer) {
      const owner = remotePeerOf(sender);
      if (!owner) return false;
      const peer = peers().get(owner);
      if (!peer || !peer.enabled || caller.peer !== owner)
        throw new HubError(
          'CALLER_MISMATCH',
          `${sender.code} is served by peer ${owner}; only that peer sends for it`,
        );
      if (!signerTrustedForPeer(peer, signer))
        throw new HubError(
          'PEER_SIGNER_UNTRUSTED',
          `the signer of ${sender.code} (${signer.subject}) does not chain to a root trusted for peer ${owner}`,
        );
      return true;
    },
    async withoutRelay(caller, routing) {
      if (!caller.peer) return [...routing];
      return Promise.all(
        routing.map(async (r): Promise<RoutingOutcome> => {
          if (r.outcome === 'refused' || !r.deliveredTo) return r;
          const a = await agencies.findByCode(r.deliveredTo);
          const owner = a ? remotePeerOf(a) : undefined;
          if (!owner) return r;
          return {
            code: r.code,
            outcome: 'refused',
            reason: `PEER_NOT_RELAYED: ${r.deliveredTo} is served by peer ${owner}; a message from peer ${caller.peer} is not relayed to a peer`,
          };
        }),
      );
    },
  };
}
