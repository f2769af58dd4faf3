/**
 * The remote units of a peer, from its agency list (getAgenciesList), refreshed periodically and on
 * demand (`hubctl peers sync`). Rules (docs/federation.md, Directory):
 *
 * - a code not in the directory becomes a remote unit owned by the peer (delivery mode `peer`);
 * - a remote unit of the same peer follows the list (name, legacy code; closed when it leaves it);
 * - a code held by this hub (a local unit) or by another peer is a **conflict**: reported (log,
 *   gauge `hub_federation_code_conflicts`, the peer's state, the peers page), never overwritten;
 *   the unit stays with its holder and the peer does not act for it here.
 *
 * Writes go through the directory store as its only writer, with change-feed versions, so remote
 * units appear in getSynchronizeUnit feeds and searches like any other change.
 */
import { isLegacyCode, legacyToCurrent, normalizeCode, validateAgencyCode } from '../domain/codes.ts';
import type { DirectoryStore } from '../domain/ports.ts';
import type { Agency } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { PeerAgency } from './client.ts';
import type { Peer } from './peers.ts';
import type { CodeConflict, PeerStateStore } from './ports.ts';
import { remotePeerOf } from './remote.ts';

export interface SyncResult {
  readonly peer: string;
  readonly listed: number;
  readonly created: number;
  readonly updated: number;
  readonly closed: number;
  readonly conflicts: readonly CodeConflict[];
}

interface Wanted {
  readonly code: string;
  readonly legacyCode?: string;
  readonly name: string;
  readonly pid?: string;
  readonly mail?: string;
}

/** The peer's item in this hub's code form: QCVN 102 codes, legacy 13-character ones as alias. */
function wantedOf(a: PeerAgency): Wanted | null {
  let code = normalizeCode(a.code);
  let legacyCode = a.oldCode ? normalizeCode(a.oldCode) : undefined;
  if (isLegacyCode(code)) {
    const current = legacyToCurrent(code);
    if (!current) return null;
    legacyCode = code;
    code = current;
  }
  if (!validateAgencyCode(code).ok) return null;
  if (legacyCode && !isLegacyCode(legacyCode)) legacyCode = undefined;
  const pid = a.pid && a.pid !== '0' ? normalizeCode(a.pid) : undefined;
  return {
    code,
    name: a.name,
    ...(legacyCode ? { legacyCode } : {}),
    ...(pid ? { pid: isLegacyCode(pid) ? (legacyToCurrent(pid) ?? pid) : pid } : {}),
    ...(a.mail ? { mail: a.mail } : {}),
  };
}

export class RemoteDirectory {
  readonly #store: DirectoryStore;
  readonly #state: PeerStateStore;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #onConflicts: (peer: string, n: number) => void;

  constructor(deps: {
    store: DirectoryStore;
    state: PeerStateStore;
    log: Logger;
    now?: () => Date;
    onConflicts?: (peer: string, n: number) => void;
  }) {
    this.#store = deps.store;
    this.#state = deps.state;
    this.#log = deps.log;
    this.#now = deps.now ?? (() => new Date());
    this.#onConflicts = deps.onConflicts ?? (() => undefined);
  }

  /** Fetches the peer's agency list and applies it. Errors are recorded on the peer and rethrown. */
  async sync(peer: Peer): Promise<SyncResult> {
    let list: PeerAgency[];
    try {
      list = await peer.client.getAgenciesList();
    } catch (err) {
      await this.#state.recordError(peer.id, 'getAgenciesList', (err as Error).message, this.#now());
      throw err;
    }
    return this.apply(peer.id, list);
  }

  /**
   * A sync only if the peer's units are behind: never synced, or its last agency list could not be
   * fetched after its last sync. Run every `federation.syncRetryMs` (app.ts), so that a hub started
   * before its peer, or a peer down at the periodic sync, gets its remote units as soon as the peer
   * answers instead of a sync interval (an hour) later; a peer in step costs one read of its state.
   */
  async syncIfBehind(peer: Peer): Promise<SyncResult | null> {
    const s = await this.#state.get(peer.id);
    const failedAt = s?.lastError?.op === 'getAgenciesList' ? s.lastError.at : null;
    if (s?.lastSyncAt && !(failedAt && failedAt > s.lastSyncAt)) return null;
    return this.sync(peer);
  }

  /**
   * Applies an agency list of `peerId` (exposed for tests and imports of a list file), as a diff
   * against the directory: an unchanged list writes nothing there (no writer lock, no version: only
   * the time of the sync on the peer's state), a changed unit writes only itself, a unit the peer
   * stops listing is closed, and a code claimed by two sources stays reported.
   */
  async apply(peerId: string, list: readonly PeerAgency[]): Promise<SyncResult> {
    const now = this.#now();
    const wanted = new Map<string, Wanted>();
    let skipped = 0;
    for (const a of list) {
      const w = a.deleted ? null : wantedOf(a);
      if (w) wanted.set(w.code, w);
      else if (!a.deleted) skipped++;
    }
    if (skipped) this.#log.warn({ peer: peerId, skipped }, 'federation: agencies with invalid codes ignored');
    const state = await this.#state.get(peerId);
    const before = state?.agencies ?? [];
    // Read first, outside the directory's writer lock: most periods find nothing to change.
    const first = await this.#plan(peerId, wanted, before, now);
    if (!first.create.length && !first.update.length && !first.close.length) {
      const conflicts = keepFirstSeen(state?.conflicts ?? [], first.conflicts);
      if (sameCodes(before, first.owned) && sameConflicts(state?.conflicts ?? [], conflicts))
        await this.#state.recordSync(peerId, now);
      else await this.#state.saveAgencies(peerId, first.owned, conflicts, now);
      return this.#report(peerId, list.length, { ...first, conflicts, created: 0, updated: 0, closed: 0 });
    }
    const result = await this.#store.withWriter(`federation sync ${peerId}`, async (w) => {
      // Again under the lock: another process may have applied the same list meanwhile.
      const plan = await this.#plan(peerId, wanted, before, now);
      const conflicts = [...plan.conflicts];
      const owned = [...plan.owned];
      let updated = 0;
      let closed = 0;
      for (const { agency: a, set } of plan.update)
        if (await this.#store.update(a.code, a.version, await w.versions(1), { set })) updated++;
      // Codes issued meanwhile (a local unit, a reservation) are conflicts too.
      const { create } = plan;
      const reservations = create.flatMap((c) => [
        { code: c.code, canonical: c.code, kind: 'canonical' as const, given: true },
        ...(c.legacyCode
          ? [{ code: c.legacyCode, canonical: c.code, kind: 'legacy' as const, given: true }]
          : []),
      ]);
      const taken = create.length
        ? await this.#store.reserveCodes(reservations, `peer:${peerId}`)
        : new Set();
      const fresh = create.filter((c) => !taken.has(c.code));
      for (const c of create)
        if (taken.has(c.code))
          conflicts.push({ code: c.code, heldBy: 'reserved', claimedBy: peerId, seenAt: now });
      if (fresh.length) {
        const firstVersion = await w.versions(fresh.length);
        const codesHere = new Set([...owned, ...fresh.map((c) => c.code)]);
        await this.#store.insertAgencies(
          fresh.map((c, i): Agency => ({
            code: c.code,
            ...(c.legacyCode && !taken.has(c.legacyCode) ? { legacyCode: c.legacyCode } : {}),
            name: c.name,
            block: 'other',
            kind: 'remote',
            parentCode: c.pid && codesHere.has(c.pid) ? c.pid : null,
            status: 'active',
            successors: [],
            contact: c.mail ? { email: c.mail } : {},
            delivery: { mode: 'peer', peer: peerId },
            certificates: [],
            version: firstVersion + i,
            updatedAt: now,
          })),
        );
        owned.push(...fresh.map((c) => c.code));
      }
      // Units the peer no longer lists: closed (codes are never reused), still owned by the peer.
      for (const a of plan.close) {
        const set: Partial<Agency> = { status: 'closed', closedAt: now };
        if (await this.#store.update(a.code, a.version, await w.versions(1), { set })) closed++;
      }
      return {
        owned,
        conflicts: keepFirstSeen(state?.conflicts ?? [], conflicts),
        created: fresh.length,
        updated,
        closed,
      };
    });
    await this.#state.saveAgencies(peerId, result.owned, result.conflicts, now);
    return this.#report(peerId, list.length, result);
  }

  /**
   * What the list changes in the directory (reads only): units to create (codes never issued here),
   * to update (a field the peer changed), to close (no longer listed), the units the peer keeps,
   * and the codes another source holds (conflicts).
   */
  async #plan(
    peerId: string,
    wanted: ReadonlyMap<string, Wanted>,
    before: readonly string[],
    now: Date,
  ): Promise<SyncPlan> {
    const items = [...wanted.values()];
    const found = await this.#store.findMany([
      ...new Set([...items.flatMap((i) => (i.legacyCode ? [i.code, i.legacyCode] : [i.code])), ...before]),
    ]);
    const lookup = (i: Wanted) => found.get(i.code) ?? (i.legacyCode ? found.get(i.legacyCode) : undefined);
    const missing = items.filter((i) => !lookup(i));
    const issued = missing.length
      ? await this.#store.issued(missing.flatMap((i) => (i.legacyCode ? [i.code, i.legacyCode] : [i.code])))
      : new Set<string>();
    const plan: SyncPlan = { create: [], update: [], close: [], owned: [], conflicts: [] };
    for (const item of items) {
      const a = lookup(item);
      if (!a) {
        if (issued.has(item.code))
          plan.conflicts.push({ code: item.code, heldBy: 'reserved', claimedBy: peerId, seenAt: now });
        else plan.create.push(item);
        continue;
      }
      const holder = remotePeerOf(a);
      if (holder !== peerId) {
        plan.conflicts.push({ code: item.code, heldBy: holder ?? 'local', claimedBy: peerId, seenAt: now });
        continue;
      }
      plan.owned.push(a.code);
      if (a.name !== item.name || a.status !== 'active' || (a.contact.email ?? undefined) !== item.mail)
        plan.update.push({
          agency: a,
          set: {
            name: item.name,
            status: 'active',
            closedAt: undefined,
            contact: item.mail ? { email: item.mail } : {},
          },
        });
    }
    for (const code of before) {
      if (wanted.has(code)) continue;
      const a = found.get(code);
      if (a && remotePeerOf(a) === peerId && a.status === 'active') plan.close.push(a);
    }
    return plan;
  }

  #report(
    peerId: string,
    listed: number,
    r: {
      conflicts: readonly CodeConflict[];
      created: number;
      updated: number;
      closed: number;
    },
  ): SyncResult {
    this.#onConflicts(peerId, r.conflicts.length);
    for (const c of r.conflicts)
      this.#log.warn(
        { peer: peerId, code: c.code, heldBy: c.heldBy },
        'federation: agency code claimed by two sources; kept with its holder',
      );
    this.#log.info(
      { peer: peerId, listed, created: r.created, updated: r.updated, closed: r.closed },
      'federation: peer agencies synchronised',
    );
    return {
      peer: peerId,
      listed,
      created: r.created,
      updated: r.updated,
      closed: r.closed,
      conflicts: r.conflicts,
    };
  }
}

interface SyncPlan {
  readonly create: Wanted[];
  readonly update: { readonly agency: Agency; readonly set: Partial<Agency> }[];
  readonly close: Agency[];
  readonly owned: string[];
  readonly conflicts: CodeConflict[];
}

const conflictKey = (c: CodeConflict) => `${c.code}\u0000${c.heldBy}\u0000${c.claimedBy}`;

/** The conflicts found now, each with the time it was first seen (kept from the stored ones). */
function keepFirstSeen(stored: readonly CodeConflict[], now: readonly CodeConflict[]): CodeConflict[] {
  const seen = new Map(stored.map((c) => [conflictKey(c), c.seenAt]));
  return now.map((c) => ({ ...c, seenAt: seen.get(conflictKey(c)) ?? c.seenAt }));
}

function sameConflicts(a: readonly CodeConflict[], b: readonly CodeConflict[]): boolean {
  return sameCodes(a.map(conflictKey), b.map(conflictKey));
}

function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  return x.size === new Set(b).size && b.every((c) => x.has(c));
}
