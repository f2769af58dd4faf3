/**
 * Federation, composed (src/app.ts wires it; docs/federation.md): the peers (configured, and defined
 * by administrators in the store), their state, remote units (sync), the outbound relay (worker mode
 * `peer`), the inbound poller, the submission rules, the credentials of peers calling /vdxp, and the
 * read model of `hubctl peers` and the UI.
 *
 * The peers are a small per-process cache, like the credential cache: `refresh()` re-reads the stored
 * definitions (every federation.refreshMs in each process, and at once after a change made here);
 * everything reads `peers` at the time of use, so a change made by another process (hubctl) applies
 * here within federation.refreshMs, without a restart.
 */
import { Gauge } from 'prom-client';
import type { AuditLog, DirectoryStore } from '../domain/ports.ts';
import type { SystemCredential } from '../domain/types.ts';
import type { SubmissionService } from '../documents/submission.ts';
import type { CircuitBreakers } from '../delivery/circuit-breaker.ts';
import type { Logger } from '../observability/logger.ts';
import type { FederationConfig } from './config.ts';
import { peerAwareCredentials, PeerRegistry, type Peer } from './peers.ts';
import { PeerPoller, type PollResult } from './poller.ts';
import type { PeerDefinitionStore, PeerState, PeerStateStore, WaitingDelivery } from './ports.ts';
import { PeerAdmin } from './admin.ts';
import { PeerRelay } from './relay.ts';
import { RemoteDirectory, type SyncResult } from './remote-directory.ts';
import { federationRules, type FederationRules } from './rules.ts';
import type { Registry } from 'prom-client';

/** What administrators see of a peer (hubctl peers list|show, the peers page): config and state. */
export interface PeerView extends Omit<PeerState, 'peerId'> {
  readonly id: string;
  readonly name: string;
  readonly baseUrl: string;
  readonly systemId: string;
  readonly inboundSystemId?: string;
  readonly outbound: 'push' | 'hold';
  readonly pollIntervalMs: number;
  /** Deliveries to the peer's units not yet taken by it. */
  readonly backlog: number;
  /** `config`: federation.peers[], read-only here; `store`: managed with hubctl peers / the UI. */
  readonly source: 'config' | 'store';
  readonly enabled: boolean;
  readonly agenciesPrefix: readonly string[];
}

export class FederationService {
  readonly state: PeerStateStore;
  readonly rules: FederationRules;
  readonly directory: RemoteDirectory;
  readonly config: FederationConfig;
  readonly #log: Logger;
  readonly #configured: PeerRegistry;
  readonly #definitions: PeerDefinitionStore | undefined;
  #current: PeerRegistry;
  #refreshing: Promise<PeerRegistry> | null = null;
  readonly #listeners: ((peers: PeerRegistry) => void)[] = [];
  #reported = new Set<string>();

  constructor(deps: {
    config: FederationConfig;
    state: PeerStateStore;
    /** Peers defined by administrators; absent: configured peers only. */
    definitions?: PeerDefinitionStore;
    agencies: DirectoryStore;
    log: Logger;
    registry?: Registry;
    env?: NodeJS.ProcessEnv;
  }) {
    this.config = deps.config;
    this.#configured = PeerRegistry.load(deps.config, deps.env);
    this.#current = this.#configured;
    this.#definitions = deps.definitions;
    this.state = deps.state;
    this.#log = deps.log;
    this.rules = federationRules(() => this.peers, deps.agencies);
    const conflicts = deps.registry
      ? new Gauge({
          name: 'hub_federation_code_conflicts',
          help: 'Agency codes a federation peer claims that another source holds (reported, not overwritten)',
          labelNames: ['peer'],
          registers: [deps.registry],
        })
      : null;
    this.directory = new RemoteDirectory({
      store: deps.agencies,
      state: deps.state,
      log: deps.log,
      onConflicts: (peer, n) => conflicts?.set({ peer }, n),
    });
  }

  /** The peers as this process last read them (configured ones, then stored ones). */
  get peers(): PeerRegistry {
    return this.#current;
  }

  /** Some peer is enabled now (configured or stored). */
  get enabled(): boolean {
    return this.peers.list().length > 0;
  }

  /** Called with the new peers after each refresh (app.ts starts and stops the per-peer jobs). */
  onChange(fn: (peers: PeerRegistry) => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Re-reads the stored peers. Concurrent calls share one read; a clash with a configured peer is
   * logged once per process (and shown by hubctl peers list and the UI).
   */
  refresh(): Promise<PeerRegistry> {
    if (!this.#definitions) return Promise.resolve(this.#current);
    const defs = this.#definitions;
    this.#refreshing ??= (async () => {
      try {
        const next = this.#configured.withStored(await defs.definitions(), this.#current);
        for (const c of next.clashes)
          if (!this.#reported.has(c.reason)) {
            this.#reported.add(c.reason);
            this.#log.warn({ peer: c.peerId, reason: c.reason }, 'federation: stored peer left out (clash)');
          }
        this.#current = next;
        for (const fn of this.#listeners) fn(next);
        return next;
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  /** Administration of stored peers (hubctl peers add|update|..., the UI's disable/enable). */
  admin(deps: {
    audit: Pick<AuditLog, 'append'>;
    systems: { find(systemId: string): Promise<unknown> };
    deadLetter: (d: WaitingDelivery, reason: string) => Promise<void>;
  }): PeerAdmin {
    if (!this.#definitions) throw new Error('no peer definition store');
    return new PeerAdmin({
      store: this.#definitions,
      state: this.state,
      peers: () => this.peers,
      refresh: () => this.refresh(),
      allowInsecureLoopback: this.config.allowInsecureLoopback,
      ...deps,
    });
  }

  /** Credentials of callers of /vdxp and /v1: a peer's inbound system acts for its units only. */
  credentials(base: { find(systemId: string): Promise<SystemCredential | null> }) {
    return peerAwareCredentials(
      base,
      () => this.peers,
      (p) => this.callerFor(p),
    );
  }

  /** The identity a peer's messages are submitted under (polling, and /vdxp calls by the peer). */
  async callerFor(peer: Peer): Promise<SystemCredential> {
    const s = await this.state.get(peer.id);
    return {
      systemId: peer.inbound?.systemId ?? `peer:${peer.id}`,
      secret: peer.inbound?.secret ?? '',
      agencyCodes: s?.agencies ?? [],
      rights: ['send'],
      active: true,
      peer: peer.id,
    };
  }

  relay(breakers: CircuitBreakers): PeerRelay {
    return new PeerRelay({ peers: () => this.peers, breakers, state: this.state, log: this.#log });
  }

  poller(submissions: Pick<SubmissionService, 'submit'>): PeerPoller {
    return new PeerPoller({
      submissions,
      state: this.state,
      caller: (p) => this.callerFor(p),
      log: this.#log,
    });
  }

  async sync(id: string): Promise<SyncResult> {
    return this.directory.sync(this.peers.require(id));
  }

  async syncAll(): Promise<SyncResult[]> {
    const out: SyncResult[] = [];
    for (const p of this.peers.list()) {
      try {
        out.push(await this.directory.sync(p));
      } catch (err) {
        this.#log.warn({ peer: p.id, err: (err as Error).message }, 'federation: agency sync failed');
      }
    }
    return out;
  }

  async view(id: string): Promise<PeerView> {
    const p = this.peers.require(id);
    const { peerId: _id, ...s } = (await this.state.get(p.id)) ?? {
      peerId: p.id,
      agencies: [],
      conflicts: [],
      received: 0,
      relayed: 0,
    };
    return {
      id: p.id,
      name: p.name,
      baseUrl: p.config.baseUrl,
      systemId: p.config.systemId,
      ...(p.inbound ? { inboundSystemId: p.inbound.systemId } : {}),
      outbound: p.config.outbound,
      pollIntervalMs: p.config.pollIntervalMs,
      ...s,
      backlog: await this.state.backlog(s.agencies),
      source: p.source,
      enabled: p.enabled,
      agenciesPrefix: p.agenciesPrefix,
    };
  }

  /** Every peer, disabled ones included. */
  async list(): Promise<PeerView[]> {
    return Promise.all(this.peers.all().map((p) => this.view(p.id)));
  }
}

export type { PollResult, SyncResult };
