/** What federation keeps in the store (adapter: src/store/peer-store.ts). */

/** A code claimed by two sources: this hub and a peer, or two peers. Reported, never overwritten. */
export interface CodeConflict {
  readonly code: string;
  /** Who holds it in the directory: `local` or a peer id. */
  readonly heldBy: string;
  /** The peer that also claims it. */
  readonly claimedBy: string;
  readonly seenAt: Date;
}

export interface PeerState {
  readonly peerId: string;
  /** Codes of the remote units this peer serves (its last agency list, minus conflicts). */
  readonly agencies: readonly string[];
  readonly conflicts: readonly CodeConflict[];
  readonly lastContactAt?: Date;
  readonly lastSyncAt?: Date;
  readonly lastError?: { readonly at: Date; readonly op: string; readonly message: string };
  /** Messages taken from the peer by polling, and relayed to it, since the state was created. */
  readonly received: number;
  readonly relayed: number;
}

export interface PeerStateStore {
  get(peerId: string): Promise<PeerState | null>;
  list(): Promise<PeerState[]>;
  recordContact(peerId: string, at: Date, counter?: 'received' | 'relayed'): Promise<void>;
  recordError(peerId: string, op: string, message: string, at: Date): Promise<void>;
  /** A sync that changed nothing: only its time (lastSyncAt, lastContactAt) is written. */
  recordSync(peerId: string, at: Date): Promise<void>;
  saveAgencies(
    peerId: string,
    codes: readonly string[],
    conflicts: readonly CodeConflict[],
    at: Date,
  ): Promise<void>;
  /** Deliveries to these recipients not yet taken by the peer (transport `queued`). */
  backlog(codes: readonly string[]): Promise<number>;
  /** The deliveries counted by `backlog`. */
  waiting(codes: readonly string[]): Promise<WaitingDelivery[]>;
}

/**
 * A peer defined by administrators (`hubctl peers add`, docs/federation.md ## Peers managed by
 * administrators): what the configuration entry holds, with the secrets and PEMs themselves (the
 * store adapter seals the secrets at rest with the credentials key, as for system secrets).
 */
export interface StoredPeer {
  readonly id: string;
  readonly name?: string;
  readonly baseUrl: string;
  /** The system id this hub holds at the peer, and its secret (sealed at rest). */
  readonly systemId: string;
  readonly secret: string;
  /** How the peer authenticates to this hub's /vdxp (secret sealed at rest). */
  readonly inbound?: { readonly systemId: string; readonly secret: string };
  /** PEM of the CA(s) trusted for the peer's TLS certificate (default: the system's). */
  readonly caPem?: string;
  /** PEM of the root CAs trusted for the signatures of the peer's agencies. */
  readonly trustedRootsPem: string;
  /** Agency code prefixes the peer may claim (empty: any code). */
  readonly agenciesPrefix: readonly string[];
  readonly outbound: 'push' | 'hold';
  readonly pollIntervalMs: number;
  readonly syncIntervalMs: number;
  readonly timeoutMs: number;
  readonly enabled: boolean;
  /** Bumped by every change: the processes' peer caches rebuild a peer whose version moved. */
  readonly version: number;
  readonly updatedAt: Date;
}

export interface PeerDefinitionStore {
  definitions(): Promise<StoredPeer[]>;
  definition(id: string): Promise<StoredPeer | null>;
  /** Refused with PEER_EXISTS when a peer of that id is already defined in the store. */
  create(peer: StoredPeer): Promise<void>;
  /** Replaces the definition if it is still at `expectedVersion`; CONFLICT otherwise. */
  replace(peer: StoredPeer, expectedVersion: number): Promise<void>;
  /** Removes the definition (the peer's state — agencies, counters — stays for the record). */
  remove(id: string): Promise<boolean>;
}

/** A delivery still waiting for a peer (the backlog), as the dead-letter record needs it. */
export interface WaitingDelivery {
  readonly id: string;
  readonly docId: string;
  readonly recipientCode: string;
}
