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
}
