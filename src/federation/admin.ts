/**
 * Peers managed by administrators (issue 22; `hubctl peers add|update|disable|enable|remove|
 * rotate-secret`, the UI's disable/enable; docs/federation.md ## Peers managed by administrators).
 *
 * - Stored in the store (src/store/peer-store.ts), the secrets sealed at rest with the credentials
 *   key; never printed, logged or audited (audit data names the fields changed, never a secret).
 * - Validated here, in one place: id, https:// base URL (http:// on loopback only with
 *   federation.allowInsecureLoopback, the rule of configured peers), a CA and trusted roots that are
 *   certificates, an inbound system id no other peer or agency system holds. Refusals are HubErrors
 *   with stable codes (PEER_INVALID, PEER_EXISTS, PEER_FROM_CONFIG, PEER_INBOUND_TAKEN, PEER_BACKLOG).
 * - Configured peers (federation.peers[]) are read-only here (PEER_FROM_CONFIG): the configuration wins.
 * - Every change is audited (hash-chained audit log, the operator as actor), then the peer cache of
 *   this process is refreshed; other processes pick the change up within federation.refreshMs.
 * - A refused change leaves nothing: validation and checks come before the one write.
 */
import { z } from 'zod';
import { HubError } from '../domain/errors.ts';
import type { AuditLog } from '../domain/ports.ts';
import { baseUrlProblem, PeerConfigSchema } from './config.ts';
import { pemFingerprints, type PeerRegistry } from './peers.ts';
import type { PeerDefinitionStore, PeerStateStore, StoredPeer, WaitingDelivery } from './ports.ts';

/**
 * What an administrator gives for a new peer (the secrets themselves, read by hubctl from a file or
 * stdin): a stored peer's fields, the bookkeeping left out and the settings with defaults optional.
 */
export type PeerInput = Omit<
  StoredPeer,
  | 'enabled'
  | 'version'
  | 'updatedAt'
  | 'agenciesPrefix'
  | 'outbound'
  | 'pollIntervalMs'
  | 'syncIntervalMs'
  | 'timeoutMs'
> &
  Partial<
    Pick<StoredPeer, 'agenciesPrefix' | 'outbound' | 'pollIntervalMs' | 'syncIntervalMs' | 'timeoutMs'>
  >;

/** What `update` may change (secrets: rotateSecret; enabled: setEnabled). */
export type PeerPatch = Partial<
  Pick<
    PeerInput,
    | 'name'
    | 'baseUrl'
    | 'systemId'
    | 'caPem'
    | 'trustedRootsPem'
    | 'agenciesPrefix'
    | 'outbound'
    | 'pollIntervalMs'
    | 'syncIntervalMs'
    | 'timeoutMs'
  >
> & { readonly inboundSystemId?: string };

/** The minimum length of a peer secret given by an administrator. */
export const MIN_PEER_SECRET = 16;

const shape = PeerConfigSchema.shape;
const Settings = z.strictObject({
  id: shape.id,
  name: z.string().min(1).max(200).optional(),
  baseUrl: z.string().url(),
  systemId: z.string().min(1).max(100),
  outbound: shape.outbound,
  pollIntervalMs: shape.pollIntervalMs,
  syncIntervalMs: shape.syncIntervalMs,
  timeoutMs: shape.timeoutMs,
  agenciesPrefix: z.array(z.string().regex(/^[A-Z0-9][A-Z0-9.]{0,31}$/, 'an agency code prefix')).max(100),
});

function invalid(id: string, problems: string[]): never {
  throw new HubError('PEER_INVALID', `peer ${id}: ${problems.join('; ')}`, { problems });
}

/** The one validation of a stored peer's definition (add and update). */
export function validatePeer(p: StoredPeer, allowInsecureLoopback: boolean): void {
  const problems: string[] = [];
  const r = Settings.safeParse({
    id: p.id,
    name: p.name,
    baseUrl: p.baseUrl,
    systemId: p.systemId,
    outbound: p.outbound,
    pollIntervalMs: p.pollIntervalMs,
    syncIntervalMs: p.syncIntervalMs,
    timeoutMs: p.timeoutMs,
    agenciesPrefix: [...p.agenciesPrefix],
  });
  if (!r.success) for (const i of r.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
  else {
    const url = baseUrlProblem(p.baseUrl, allowInsecureLoopback);
    if (url) problems.push(`baseUrl: ${url}`);
  }
  if (p.secret.length < MIN_PEER_SECRET) problems.push(`secret: at least ${MIN_PEER_SECRET} characters`);
  if (p.inbound) {
    if (!p.inbound.systemId) problems.push('inbound system id: empty');
    if (p.inbound.secret.length < MIN_PEER_SECRET)
      problems.push(`inbound secret: at least ${MIN_PEER_SECRET} characters`);
    if (p.inbound.systemId === p.systemId && p.inbound.secret === p.secret)
      problems.push('inbound: use a secret of its own for each direction');
  }
  const certs = (label: string, pem: string | undefined, required: boolean) => {
    if (pem === undefined) {
      if (required) problems.push(`${label}: required`);
      return;
    }
    try {
      if (pemFingerprints(pem).size === 0) problems.push(`${label}: no PEM certificate`);
    } catch (err) {
      problems.push(`${label}: unreadable certificate (${(err as Error).message})`);
    }
  };
  certs('trustedRoots', p.trustedRootsPem, true);
  certs('caFile', p.caPem, false);
  if (problems.length) invalid(p.id, problems);
}

/** The non-secret description of a peer's settings, for the audit log. */
function auditView(p: StoredPeer): Record<string, unknown> {
  return {
    name: p.name ?? null,
    baseUrl: p.baseUrl,
    systemId: p.systemId,
    inboundSystemId: p.inbound?.systemId ?? null,
    outbound: p.outbound,
    pollIntervalMs: p.pollIntervalMs,
    syncIntervalMs: p.syncIntervalMs,
    timeoutMs: p.timeoutMs,
    agenciesPrefix: [...p.agenciesPrefix],
    trustedRoots: [...pemFingerprints(p.trustedRootsPem)],
    ca: p.caPem ? [...pemFingerprints(p.caPem)] : null,
    enabled: p.enabled,
  };
}

export interface PeerAdminDeps {
  readonly store: PeerDefinitionStore;
  readonly state: Pick<PeerStateStore, 'get' | 'waiting'>;
  readonly audit: Pick<AuditLog, 'append'>;
  /** The current peers (configured and stored), refreshed after each change. */
  readonly peers: () => PeerRegistry;
  readonly refresh: () => Promise<unknown>;
  /** Agency systems registered here: an inbound system id must not be one of them. */
  readonly systems: { find(systemId: string): Promise<unknown> };
  /** Moves a waiting delivery to the dead letters with the reason (remove --force). */
  readonly deadLetter: (d: WaitingDelivery, reason: string) => Promise<void>;
  readonly allowInsecureLoopback: boolean;
  readonly now?: () => Date;
}

export class PeerAdmin {
  readonly #d: PeerAdminDeps;
  readonly #now: () => Date;

  constructor(deps: PeerAdminDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** The stored definition of a peer administrators may change; configured peers are refused. */
  async #editable(id: string): Promise<StoredPeer> {
    const current = this.#d.peers().get(id);
    if (current?.source === 'config')
      throw new HubError('PEER_FROM_CONFIG', `peer ${id} is defined in federation.peers; change it there`);
    const stored = await this.#d.store.definition(id);
    if (!stored) throw new HubError('NOT_FOUND', `no federation peer ${id} defined with hubctl`);
    return stored;
  }

  async #checkInbound(id: string, inboundSystemId: string | undefined): Promise<void> {
    if (!inboundSystemId) return;
    const other = this.#d.peers().byInboundSystem(inboundSystemId);
    const stored = (await this.#d.store.definitions()).find(
      (s) => s.id !== id && s.inbound?.systemId === inboundSystemId,
    );
    const holder = (other && other.id !== id ? other.id : undefined) ?? stored?.id;
    if (holder)
      throw new HubError(
        'PEER_INBOUND_TAKEN',
        `inbound system id ${inboundSystemId} is used by peer ${holder}`,
      );
    if (await this.#d.systems.find(inboundSystemId))
      throw new HubError(
        'PEER_INBOUND_TAKEN',
        `inbound system id ${inboundSystemId} is a registered agency system (hubctl systems)`,
      );
  }

  async #audit(actor: string, action: string, id: string, data: Record<string, unknown>) {
    await this.#d.audit.append({ actor, action: `federation.peer.${action}`, subject: id, data });
  }

  async add(actor: string, input: PeerInput): Promise<StoredPeer> {
    if (this.#d.peers().get(input.id)?.source === 'config')
      throw new HubError('PEER_FROM_CONFIG', `peer ${input.id} is already defined in federation.peers`);
    const peer: StoredPeer = {
      id: input.id,
      ...(input.name ? { name: input.name } : {}),
      baseUrl: input.baseUrl,
      systemId: input.systemId,
      secret: input.secret,
      ...(input.inbound ? { inbound: input.inbound } : {}),
      ...(input.caPem ? { caPem: input.caPem } : {}),
      trustedRootsPem: input.trustedRootsPem,
      agenciesPrefix: [...(input.agenciesPrefix ?? [])],
      outbound: input.outbound ?? 'push',
      pollIntervalMs: input.pollIntervalMs ?? 30_000,
      syncIntervalMs: input.syncIntervalMs ?? 3_600_000,
      timeoutMs: input.timeoutMs ?? 30_000,
      enabled: true,
      version: 1,
      updatedAt: this.#now(),
    };
    validatePeer(peer, this.#d.allowInsecureLoopback);
    await this.#checkInbound(peer.id, peer.inbound?.systemId);
    await this.#d.store.create(peer);
    await this.#audit(actor, 'add', peer.id, auditView(peer));
    await this.#d.refresh();
    return peer;
  }

  async update(actor: string, id: string, patch: PeerPatch): Promise<StoredPeer> {
    const before = await this.#editable(id);
    const { inboundSystemId, ...rest } = patch;
    if (inboundSystemId !== undefined && !before.inbound)
      invalid(id, [
        'inbound system id: the peer has no inbound credential; give one with rotate-secret --inbound',
      ]);
    const after: StoredPeer = {
      ...before,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      ...(before.inbound && inboundSystemId !== undefined
        ? { inbound: { ...before.inbound, systemId: inboundSystemId } }
        : {}),
      version: before.version + 1,
      updatedAt: this.#now(),
    };
    validatePeer(after, this.#d.allowInsecureLoopback);
    if (inboundSystemId !== undefined) await this.#checkInbound(id, inboundSystemId);
    await this.#d.store.replace(after, before.version);
    const was = auditView(before);
    const now = auditView(after);
    const changed = Object.keys(now).filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]));
    await this.#audit(actor, 'update', id, {
      changed,
      ...Object.fromEntries(changed.map((k) => [k, now[k]])),
    });
    await this.#d.refresh();
    return after;
  }

  async setEnabled(actor: string, id: string, enabled: boolean): Promise<StoredPeer> {
    const before = await this.#editable(id);
    if (before.enabled === enabled) return before;
    const after = { ...before, enabled, version: before.version + 1, updatedAt: this.#now() };
    await this.#d.store.replace(after, before.version);
    await this.#audit(actor, enabled ? 'enable' : 'disable', id, {});
    await this.#d.refresh();
    return after;
  }

  /** New secrets (the outbound one, the inbound one, or both); the audit says which, never the value. */
  async rotateSecret(
    actor: string,
    id: string,
    secrets: { readonly secret?: string; readonly inbound?: { systemId?: string; secret: string } },
  ): Promise<void> {
    const before = await this.#editable(id);
    if (secrets.secret === undefined && secrets.inbound === undefined)
      invalid(id, ['give a new secret (outbound) or an inbound one']);
    const inboundSystemId = secrets.inbound?.systemId ?? before.inbound?.systemId;
    if (secrets.inbound && !inboundSystemId)
      invalid(id, ['inbound system id: required for a first inbound credential']);
    const after: StoredPeer = {
      ...before,
      ...(secrets.secret !== undefined ? { secret: secrets.secret } : {}),
      ...(secrets.inbound ? { inbound: { systemId: inboundSystemId!, secret: secrets.inbound.secret } } : {}),
      version: before.version + 1,
      updatedAt: this.#now(),
    };
    validatePeer(after, this.#d.allowInsecureLoopback);
    if (secrets.inbound && inboundSystemId !== before.inbound?.systemId)
      await this.#checkInbound(id, inboundSystemId);
    await this.#d.store.replace(after, before.version);
    await this.#audit(actor, 'rotate-secret', id, {
      outbound: secrets.secret !== undefined,
      inbound: secrets.inbound !== undefined,
      ...(secrets.inbound ? { inboundSystemId } : {}),
    });
    await this.#d.refresh();
  }

  /**
   * Removes a stored peer. Refused while deliveries to its units wait (PEER_BACKLOG) unless `force`:
   * then each waiting delivery is moved to the dead letters with the reason (visible in `hubctl
   * deadletters list`, replayable once the units are served again). Its remote units stay.
   */
  async remove(actor: string, id: string, o: { force?: boolean } = {}): Promise<{ deadLettered: number }> {
    const before = await this.#editable(id);
    const units = (await this.#d.state.get(id))?.agencies ?? [];
    const waiting = await this.#d.state.waiting(units);
    if (waiting.length > 0 && !o.force)
      throw new HubError(
        'PEER_BACKLOG',
        `${waiting.length} deliveries still wait for peer ${id}; remove it with --force to dead-letter them`,
        { backlog: waiting.length },
      );
    // The definition first: from here on no process relays to the peer (within the refresh bound,
    // a relay still running fails as a poison task and is dead-lettered the same way).
    if (!(await this.#d.store.remove(id))) throw new HubError('NOT_FOUND', `no federation peer ${id}`);
    for (const w of waiting) await this.#d.deadLetter(w, `federation peer ${id} removed by ${actor}`);
    await this.#audit(actor, 'remove', id, {
      baseUrl: before.baseUrl,
      force: o.force === true,
      deadLettered: waiting.length,
    });
    await this.#d.refresh();
    return { deadLettered: waiting.length };
  }
}
