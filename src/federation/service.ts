/**
 * Federation, composed (src/app.ts wires it; docs/federation.md): the configured peers, their state,
 * remote units (sync), the outbound relay (worker mode `peer`), the inbound poller, the submission
 * rules, the credentials of peers calling /vdxp, and the read model of `hubctl peers` and the UI.
 */
import { Gauge } from 'prom-client';
import type { DirectoryStore } from '../domain/ports.ts';
import type { SystemCredential } from '../domain/types.ts';
import type { SubmissionService } from '../documents/submission.ts';
import type { CircuitBreakers } from '../delivery/circuit-breaker.ts';
import type { Logger } from '../observability/logger.ts';
import type { FederationConfig } from './config.ts';
import { peerAwareCredentials, PeerRegistry, type Peer } from './peers.ts';
import { PeerPoller, type PollResult } from './poller.ts';
import type { PeerState, PeerStateStore } from './ports.ts';
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
}

export class FederationService {
  readonly peers: PeerRegistry;
  readonly state: PeerStateStore;
  readonly rules: FederationRules;
  readonly directory: RemoteDirectory;
  readonly #log: Logger;

  constructor(deps: {
    config: FederationConfig;
    state: PeerStateStore;
    agencies: DirectoryStore;
    log: Logger;
    registry?: Registry;
    env?: NodeJS.ProcessEnv;
  }) {
    this.peers = PeerRegistry.load(deps.config, deps.env);
    this.state = deps.state;
    this.#log = deps.log;
    this.rules = federationRules(this.peers, deps.agencies);
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

  get enabled(): boolean {
    return this.peers.list().length > 0;
  }

  /** Credentials of callers of /vdxp and /v1: a peer's inbound system acts for its units only. */
  credentials(base: { find(systemId: string): Promise<SystemCredential | null> }) {
    return peerAwareCredentials(base, this.peers, (p) => this.callerFor(p));
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
    return new PeerRelay({ peers: this.peers, breakers, state: this.state, log: this.#log });
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
    };
  }

  async list(): Promise<PeerView[]> {
    return Promise.all(this.peers.list().map((p) => this.view(p.id)));
  }
}

export type { PollResult, SyncResult };
