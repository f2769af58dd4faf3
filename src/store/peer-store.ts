/**
 * Federation peers (src/federation/ports.ts), three documents per peer, one per kind of writer:
 *
 *   federation_peers       the definition administrators made (hubctl peers add…): rare writes
 *   federation_peer_units  the units it serves and their conflicts: written by agency syncs
 *   federation_peer_state  last contact, last sync, last error, counters: written by every poll
 *                          and relay
 *
 * and the backlog counted on `deliveries`. Apart because FerretDB 1.24 applies an update by
 * reading the document, changing it and writing it back, without isolation: two processes updating
 * different fields of one document lose one update (a poll's `lastContactAt` written back over a
 * sync's units left a peer acting for no unit, and its documents refused). Writers of different
 * kinds never share a document here; within a kind, a lost write is a stale time or counter.
 * Plain collection access: these records are the federation's.
 */
import type { Connection, mongo } from 'mongoose';
import { HubError } from '../domain/errors.ts';
import type {
  CodeConflict,
  PeerDefinitionStore,
  PeerState,
  PeerStateStore,
  StoredPeer,
  WaitingDelivery,
} from '../federation/ports.ts';
import { isDuplicateKey } from './errors.ts';
import { resealed, SecretBox, type CredentialKeys } from './secret-box.ts';

/** A peer defined by administrators, as stored: the secrets sealed (secret-box.ts), never in clear. */
interface PeerDefDoc extends Omit<StoredPeer, 'id' | 'secret' | 'inbound' | 'agenciesPrefix'> {
  secretEnc: string;
  inbound?: { systemId: string; secretEnc: string };
  agenciesPrefix: string[];
}

interface PeerDoc {
  _id: string;
  /** Set for a peer defined by administrators (hubctl peers add); absent for configured peers. */
  def?: PeerDefDoc;
}

interface UnitsDoc {
  _id: string;
  agencies?: string[];
  conflicts?: CodeConflict[];
}

interface StateDoc {
  _id: string;
  lastContactAt?: Date;
  lastSyncAt?: Date;
  lastError?: { at: Date; op: string; message: string };
  received?: number;
  relayed?: number;
}

export const PEER_COLLECTION = 'federation_peers';
export const PEER_UNITS_COLLECTION = 'federation_peer_units';
export const PEER_STATE_COLLECTION = 'federation_peer_state';

function toState(peerId: string, u: UnitsDoc | null, d: StateDoc | null): PeerState {
  return {
    peerId,
    agencies: u?.agencies ?? [],
    conflicts: u?.conflicts ?? [],
    ...(d?.lastContactAt ? { lastContactAt: d.lastContactAt } : {}),
    ...(d?.lastSyncAt ? { lastSyncAt: d.lastSyncAt } : {}),
    ...(d?.lastError ? { lastError: d.lastError } : {}),
    received: d?.received ?? 0,
    relayed: d?.relayed ?? 0,
  };
}

export class MongoPeerStateStore implements PeerStateStore {
  readonly #units: mongo.Collection<UnitsDoc>;
  readonly #state: mongo.Collection<StateDoc>;
  readonly #deliveries: mongo.Collection<{ _id: string; recipientCode: string; transport: string }>;

  constructor(conn: Connection) {
    this.#units = conn.db!.collection<UnitsDoc>(PEER_UNITS_COLLECTION);
    this.#state = conn.db!.collection<StateDoc>(PEER_STATE_COLLECTION);
    this.#deliveries = conn.db!.collection('deliveries');
  }

  async get(peerId: string): Promise<PeerState | null> {
    const [u, d] = await Promise.all([
      this.#units.findOne({ _id: peerId }),
      this.#state.findOne({ _id: peerId }),
    ]);
    return u || d ? toState(peerId, u, d) : null;
  }

  async list(): Promise<PeerState[]> {
    const [units, states] = await Promise.all([
      this.#units.find({}).toArray(),
      this.#state.find({}).toArray(),
    ]);
    const u = new Map(units.map((x) => [x._id, x]));
    const d = new Map(states.map((x) => [x._id, x]));
    return [...new Set([...u.keys(), ...d.keys()])]
      .sort()
      .map((id) => toState(id, u.get(id) ?? null, d.get(id) ?? null));
  }

  /**
   * An upsert by `_id`; two processes (or jobs) creating the same peer's record at once make one
   * of the upserts fail as a duplicate: the record then exists and the update is simply redone.
   */
  async #upsert<T extends { _id: string }>(
    col: mongo.Collection<T>,
    peerId: string,
    update: mongo.UpdateFilter<T>,
  ): Promise<void> {
    const filter = { _id: peerId } as mongo.Filter<T>;
    try {
      await col.updateOne(filter, update, { upsert: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await col.updateOne(filter, update);
    }
  }

  async recordContact(peerId: string, at: Date, counter?: 'received' | 'relayed'): Promise<void> {
    await this.#upsert(this.#state, peerId, {
      $set: { lastContactAt: at },
      ...(counter ? { $inc: { [counter]: 1 } } : {}),
    });
  }

  async recordError(peerId: string, op: string, message: string, at: Date): Promise<void> {
    await this.#upsert(this.#state, peerId, {
      $set: { lastError: { at, op, message: message.slice(0, 1000) } },
    });
  }

  async recordSync(peerId: string, at: Date): Promise<void> {
    await this.#upsert(this.#state, peerId, { $set: { lastSyncAt: at, lastContactAt: at } });
  }

  async saveAgencies(
    peerId: string,
    codes: readonly string[],
    conflicts: readonly CodeConflict[],
    at: Date,
  ): Promise<void> {
    await this.#upsert(this.#units, peerId, { $set: { agencies: [...codes], conflicts: [...conflicts] } });
    await this.recordSync(peerId, at);
  }

  async backlog(codes: readonly string[]): Promise<number> {
    if (codes.length === 0) return 0;
    return this.#deliveries.countDocuments({ recipientCode: { $in: [...codes] }, transport: 'queued' });
  }

  async waiting(codes: readonly string[]): Promise<WaitingDelivery[]> {
    if (codes.length === 0) return [];
    const rows = await this.#deliveries
      .find(
        { recipientCode: { $in: [...codes] }, transport: 'queued' },
        { projection: { _id: 1, docId: 1, recipientCode: 1 } },
      )
      .toArray();
    return rows.map((r) => ({
      id: r._id,
      docId: (r as unknown as { docId: string }).docId,
      recipientCode: r.recipientCode,
    }));
  }
}

/**
 * Peers defined by administrators (src/federation/ports.ts PeerDefinitionStore): the `def` field of
 * the peer's document in `federation_peers`, its secrets sealed with the credentials key like the
 * secrets of agency systems (src/store/system-store.ts).
 */
export class MongoPeerDefinitionStore implements PeerDefinitionStore {
  readonly #peers: mongo.Collection<PeerDoc>;
  readonly #box: SecretBox;

  constructor(conn: Connection, credentialsKey: CredentialKeys) {
    this.#peers = conn.db!.collection<PeerDoc>(PEER_COLLECTION);
    this.#box = new SecretBox(credentialsKey);
  }

  #toPeer(id: string, d: PeerDefDoc): StoredPeer {
    const { secretEnc, inbound, ...rest } = d;
    return {
      ...rest,
      id,
      secret: this.#box.open(secretEnc),
      ...(inbound
        ? { inbound: { systemId: inbound.systemId, secret: this.#box.open(inbound.secretEnc) } }
        : {}),
    };
  }

  #toDoc(p: StoredPeer): PeerDefDoc {
    const { id: _id, secret, inbound, agenciesPrefix, ...rest } = p;
    return {
      ...rest,
      agenciesPrefix: [...agenciesPrefix],
      secretEnc: this.#box.seal(secret),
      ...(inbound
        ? { inbound: { systemId: inbound.systemId, secretEnc: this.#box.seal(inbound.secret) } }
        : {}),
    };
  }

  async definitions(): Promise<StoredPeer[]> {
    const rows = await this.#peers
      .find({ def: { $exists: true } })
      .sort({ _id: 1 })
      .toArray();
    return rows.map((r) => this.#toPeer(r._id, r.def!));
  }

  async definition(id: string): Promise<StoredPeer | null> {
    const r = await this.#peers.findOne({ _id: id, def: { $exists: true } });
    return r ? this.#toPeer(r._id, r.def!) : null;
  }

  /**
   * An upsert on a document without a definition: when the peer's document already has one, the
   * filter misses it and the insert collides on `_id` — the one duplicate-key check says so.
   */
  async create(peer: StoredPeer): Promise<void> {
    try {
      await this.#peers.updateOne(
        { _id: peer.id, def: { $exists: false } },
        { $set: { def: this.#toDoc(peer) } },
        { upsert: true },
      );
    } catch (err) {
      if (isDuplicateKey(err)) throw new HubError('PEER_EXISTS', `peer ${peer.id} is already defined`);
      throw err;
    }
  }

  async replace(peer: StoredPeer, expectedVersion: number): Promise<void> {
    const r = await this.#peers.updateOne(
      { _id: peer.id, 'def.version': expectedVersion },
      { $set: { def: this.#toDoc(peer) } },
    );
    if (r.matchedCount === 0)
      throw new HubError('CONFLICT', `peer ${peer.id} was changed or removed meanwhile; try again`);
  }

  async remove(id: string): Promise<boolean> {
    const r = await this.#peers.updateOne({ _id: id, def: { $exists: true } }, { $unset: { def: '' } });
    return r.modifiedCount > 0;
  }
}

/**
 * Key rotation for the sealed secrets of stored peers (`hubctl credentials reseal`, with the
 * systems' secrets): every secret is opened first — one that opens with neither key is
 * CREDENTIALS_KEY_MISMATCH before anything is written — then `apply` writes each definition on the
 * condition that it did not change meanwhile (a change bumps its version).
 */
export async function planPeerReseal(
  conn: Connection,
  from: string,
  to: string,
): Promise<{ alreadyCurrent: number; apply(): Promise<{ resealed: number; changedMeanwhile: number }> }> {
  const c = conn.db!.collection<PeerDoc>(PEER_COLLECTION);
  const oldBox = new SecretBox(from);
  const newBox = new SecretBox(to);
  const plan: { id: string; version: number; set: Record<string, string> }[] = [];
  let alreadyCurrent = 0;
  for await (const d of c.find({ def: { $exists: true } })) {
    const def = d.def!;
    const set: Record<string, string> = {};
    const fields: [string, string][] = [
      ['def.secretEnc', def.secretEnc],
      ...(def.inbound ? ([['def.inbound.secretEnc', def.inbound.secretEnc]] as [string, string][]) : []),
    ];
    for (const [field, sealed] of fields) {
      let next: string | null;
      try {
        next = resealed(sealed, oldBox, newBox);
      } catch {
        throw new HubError('CREDENTIALS_KEY_MISMATCH', `a secret of peer ${d._id} opens with neither key`);
      }
      if (next === null) alreadyCurrent++;
      else set[field] = next;
    }
    if (Object.keys(set).length) plan.push({ id: d._id, version: def.version, set });
  }
  return {
    alreadyCurrent,
    async apply() {
      let resealedCount = 0;
      let changedMeanwhile = 0;
      for (const p of plan) {
        const r = await c.updateOne({ _id: p.id, 'def.version': p.version }, { $set: p.set });
        if (r.modifiedCount === 1) resealedCount += Object.keys(p.set).length;
        else changedMeanwhile += Object.keys(p.set).length;
      }
      return { resealed: resealedCount, changedMeanwhile };
    },
  };
}

/**
 * Migration `federation-peer-records-1`: a peer's units and state written by a hub before they had
 * documents of their own (federation_peers held them with the definition) are moved to
 * federation_peer_units and federation_peer_state. Idempotent: what the new documents already have
 * is kept (it is newer), the old fields are removed once copied.
 */
export async function splitPeerRecords(db: mongo.Db): Promise<number> {
  const peers = db.collection<Record<string, unknown> & { _id: string }>(PEER_COLLECTION);
  const unitFields = ['agencies', 'conflicts'];
  const stateFields = ['lastContactAt', 'lastSyncAt', 'lastError', 'received', 'relayed'];
  const old = await peers
    .find({ $or: [...unitFields, ...stateFields].map((f) => ({ [f]: { $exists: true } })) })
    .toArray();
  for (const d of old) {
    const pick = (fields: string[]) =>
      Object.fromEntries(fields.filter((f) => d[f] !== undefined).map((f) => [f, d[f]]));
    for (const [name, fields] of [
      [PEER_UNITS_COLLECTION, unitFields],
      [PEER_STATE_COLLECTION, stateFields],
    ] as const) {
      const values = pick([...fields]);
      if (Object.keys(values).length === 0) continue;
      const col = db.collection<{ _id: string }>(name);
      if (!(await col.findOne({ _id: d._id })))
        await col.insertOne({ _id: d._id, ...values }).catch((err: unknown) => {
          if (!isDuplicateKey(err)) throw err;
        });
    }
    await peers.updateOne(
      { _id: d._id },
      { $unset: Object.fromEntries([...unitFields, ...stateFields].map((f) => [f, ''])) },
    );
  }
  return old.length;
}
