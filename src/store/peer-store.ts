/**
 * Federation peer state (src/federation/ports.ts): one document per peer in `federation_peers`, and
 * the backlog counted on `deliveries`. Plain collection access: these records are the federation's.
 */
import type { Connection, mongo } from 'mongoose';
import type { CodeConflict, PeerState, PeerStateStore } from '../federation/ports.ts';

interface PeerDoc {
  _id: string;
  agencies?: string[];
  conflicts?: CodeConflict[];
  lastContactAt?: Date;
  lastSyncAt?: Date;
  lastError?: { at: Date; op: string; message: string };
  received?: number;
  relayed?: number;
}

export const PEER_COLLECTION = 'federation_peers';

function toState(d: PeerDoc): PeerState {
  return {
    peerId: d._id,
    agencies: d.agencies ?? [],
    conflicts: d.conflicts ?? [],
    ...(d.lastContactAt ? { lastContactAt: d.lastContactAt } : {}),
    ...(d.lastSyncAt ? { lastSyncAt: d.lastSyncAt } : {}),
    ...(d.lastError ? { lastError: d.lastError } : {}),
    received: d.received ?? 0,
    relayed: d.relayed ?? 0,
  };
}

export class MongoPeerStateStore implements PeerStateStore {
  readonly #peers: mongo.Collection<PeerDoc>;
  readonly #deliveries: mongo.Collection<{ _id: string; recipientCode: string; transport: string }>;

  constructor(conn: Connection) {
    this.#peers = conn.db!.collection<PeerDoc>(PEER_COLLECTION);
    this.#deliveries = conn.db!.collection('deliveries');
  }

  async get(peerId: string): Promise<PeerState | null> {
    const d = await this.#peers.findOne({ _id: peerId });
    return d ? toState(d) : null;
  }

  async list(): Promise<PeerState[]> {
    return (await this.#peers.find({}).sort({ _id: 1 }).toArray()).map(toState);
  }

  /**
   * An upsert by `_id`; two processes (or jobs) creating the same peer's record at once make one
   * of the upserts fail as a duplicate: the record then exists and the update is simply redone.
   */
  async #upsert(peerId: string, update: mongo.UpdateFilter<PeerDoc>): Promise<void> {
    try {
      await this.#peers.updateOne({ _id: peerId }, update, { upsert: true });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      await this.#peers.updateOne({ _id: peerId }, update);
    }
  }

  async recordContact(peerId: string, at: Date, counter?: 'received' | 'relayed'): Promise<void> {
    await this.#upsert(peerId, {
      $set: { lastContactAt: at },
      ...(counter ? { $inc: { [counter]: 1 } } : {}),
    });
  }

  async recordError(peerId: string, op: string, message: string, at: Date): Promise<void> {
    await this.#upsert(peerId, { $set: { lastError: { at, op, message: message.slice(0, 1000) } } });
  }

  async recordSync(peerId: string, at: Date): Promise<void> {
    await this.#upsert(peerId, { $set: { lastSyncAt: at, lastContactAt: at } });
  }

  async saveAgencies(
    peerId: string,
    codes: readonly string[],
    conflicts: readonly CodeConflict[],
    at: Date,
  ): Promise<void> {
    await this.#upsert(peerId, {
      $set: { agencies: [...codes], conflicts: [...conflicts], lastSyncAt: at, lastContactAt: at },
    });
  }

  async backlog(codes: readonly string[]): Promise<number> {
    if (codes.length === 0) return 0;
    return this.#deliveries.countDocuments({ recipientCode: { $in: [...codes] }, transport: 'queued' });
  }
}
