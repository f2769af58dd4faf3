/**
 * The federation peers: configured ones (src/federation/config.ts), with their secrets read from files
 * or the environment at start, and peers defined by administrators in the store (`hubctl peers add`,
 * secrets sealed at rest); their TLS CA, the root CAs trusted for their agencies, and a client each.
 * The rule between the two sources (docs/federation.md ## Peers managed by administrators): the
 * configuration wins; a stored peer that clashes with a configured one (same id, same inbound system
 * id) is left out and reported as a clash, never silently merged.
 * A peer that calls this hub's /vdxp authenticates as `inbound.systemId`; it acts for the remote
 * units it serves here and nothing else (least privilege: right `send` only).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { certificateFingerprint, type ValidatedChain } from '../crypto/trust.ts';
import { x509 } from '../crypto/x509.ts';
import { HubError } from '../domain/errors.ts';
import type { SystemCredential } from '../domain/types.ts';
import { PeerClient } from './client.ts';
import type { FederationConfig, PeerConfig } from './config.ts';
import type { StoredPeer } from './ports.ts';

/** What the relay, the poller and the jobs read of a peer's settings, whatever its source. */
export type PeerSettings = Pick<
  PeerConfig,
  'baseUrl' | 'systemId' | 'outbound' | 'pollIntervalMs' | 'syncIntervalMs' | 'timeoutMs'
>;

export interface Peer {
  readonly id: string;
  readonly name: string;
  readonly config: PeerSettings;
  readonly client: PeerClient;
  /** SHA-256 fingerprints of the root CAs trusted for this peer's agencies. */
  readonly trustedRoots: ReadonlySet<string>;
  readonly inbound?: { readonly systemId: string; readonly secret: string };
  /** `config`: federation.peers[] (read-only for hubctl and the UI); `store`: hubctl peers add. */
  readonly source: 'config' | 'store';
  /** A disabled peer is neither relayed to, polled nor synchronised, and cannot call /vdxp. */
  readonly enabled: boolean;
  /** The stored definition's version (0 for a configured peer): a changed peer is rebuilt. */
  readonly version: number;
  /** Agency code prefixes the peer may claim (empty: any). */
  readonly agenciesPrefix: readonly string[];
}

/** A stored peer left out because it clashes with a configured one: reported, never merged. */
export interface PeerClash {
  readonly peerId: string;
  readonly reason: string;
}

const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(PROJECT_ROOT, p));

function readSecret(
  where: { secretFile?: string | undefined; secretEnv?: string | undefined },
  env: NodeJS.ProcessEnv,
  label: string,
): string {
  let secret: string | undefined;
  if (where.secretFile) {
    try {
      secret = readFileSync(abs(where.secretFile), 'utf8').trim();
    } catch (err) {
      throw new HubError(
        'START_REFUSED',
        `${label}: cannot read ${where.secretFile}: ${(err as Error).message}`,
      );
    }
  } else if (where.secretEnv) secret = env[where.secretEnv]?.trim();
  if (!secret) throw new HubError('START_REFUSED', `${label}: the secret is empty or not set`);
  return secret;
}

/** The SHA-256 fingerprints of the certificates in a PEM text (throws on an unreadable one). */
export function pemFingerprints(pem: string): Set<string> {
  const out = new Set<string>();
  for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    out.add(certificateFingerprint(new x509.X509Certificate(block)));
  return out;
}

function rootFingerprints(files: readonly string[], label: string): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    let pem: string;
    try {
      pem = readFileSync(abs(f), 'utf8');
    } catch (err) {
      throw new HubError('START_REFUSED', `${label}: cannot read ${f}: ${(err as Error).message}`);
    }
    for (const fp of pemFingerprints(pem)) out.add(fp);
  }
  if (out.size === 0) throw new HubError('START_REFUSED', `${label}: no certificate in trustedRoots`);
  return out;
}

/** A peer defined in the store, built for use (its secrets were opened by the store adapter). */
function storedPeer(s: StoredPeer): Peer {
  return {
    id: s.id,
    name: s.name ?? s.id,
    config: {
      baseUrl: s.baseUrl,
      systemId: s.systemId,
      outbound: s.outbound,
      pollIntervalMs: s.pollIntervalMs,
      syncIntervalMs: s.syncIntervalMs,
      timeoutMs: s.timeoutMs,
    },
    client: new PeerClient({
      baseUrl: s.baseUrl,
      systemId: s.systemId,
      secret: s.secret,
      timeoutMs: s.timeoutMs,
      ...(s.caPem ? { ca: s.caPem } : {}),
    }),
    trustedRoots: pemFingerprints(s.trustedRootsPem),
    ...(s.inbound ? { inbound: { systemId: s.inbound.systemId, secret: s.inbound.secret } } : {}),
    source: 'store',
    enabled: s.enabled,
    version: s.version,
    agenciesPrefix: s.agenciesPrefix,
  };
}

export class PeerRegistry {
  readonly #peers: Map<string, Peer>;
  readonly #byInbound: Map<string, Peer>;
  /** Stored peers left out because they clash with configured ones. */
  readonly clashes: readonly PeerClash[];

  constructor(peers: readonly Peer[], clashes: readonly PeerClash[] = []) {
    this.#peers = new Map(peers.map((p) => [p.id, p]));
    this.#byInbound = new Map(
      peers.flatMap((p) => (p.inbound && p.enabled ? [[p.inbound.systemId, p] as const] : [])),
    );
    this.clashes = clashes;
  }

  /**
   * The configured peers with the stored ones (the configuration wins: a stored peer with the id or
   * the inbound system id of a configured one is left out and reported). A stored peer whose version
   * did not move keeps its built object (client, fingerprints) from `previous`.
   */
  withStored(stored: readonly StoredPeer[], previous?: PeerRegistry): PeerRegistry {
    const configured = [...this.#peers.values()].filter((p) => p.source === 'config');
    const ids = new Set(configured.map((p) => p.id));
    const inbound = new Set(configured.flatMap((p) => (p.inbound ? [p.inbound.systemId] : [])));
    const out = [...configured];
    const clashes: PeerClash[] = [];
    for (const s of stored) {
      if (ids.has(s.id)) {
        clashes.push({
          peerId: s.id,
          reason: `peer ${s.id} is also configured in federation.peers (the configuration wins)`,
        });
        continue;
      }
      if (s.inbound && inbound.has(s.inbound.systemId)) {
        clashes.push({
          peerId: s.id,
          reason: `inbound system id ${s.inbound.systemId} is also a configured peer's (the configuration wins)`,
        });
        continue;
      }
      const kept = previous?.get(s.id);
      try {
        out.push(
          kept && kept.source === 'store' && kept.version === s.version && kept.enabled === s.enabled
            ? kept
            : storedPeer(s),
        );
      } catch (err) {
        clashes.push({ peerId: s.id, reason: `unusable definition: ${(err as Error).message}` });
        continue;
      }
      ids.add(s.id);
      if (s.inbound) inbound.add(s.inbound.systemId);
    }
    return new PeerRegistry(out, clashes);
  }

  static load(cfg: FederationConfig, env: NodeJS.ProcessEnv = process.env): PeerRegistry {
    return new PeerRegistry(
      cfg.peers.map((c) => {
        const label = `federation.peers[${c.id}]`;
        const ca = c.caFile ? readFileSync(abs(c.caFile), 'utf8') : undefined;
        return {
          id: c.id,
          name: c.name ?? c.id,
          config: c,
          client: new PeerClient({
            baseUrl: c.baseUrl,
            systemId: c.systemId,
            secret: readSecret(c, env, label),
            timeoutMs: c.timeoutMs,
            ...(ca ? { ca } : {}),
          }),
          trustedRoots: rootFingerprints(c.trustedRoots, label),
          source: 'config' as const,
          enabled: true,
          version: 0,
          agenciesPrefix: [],
          ...(c.inbound
            ? {
                inbound: {
                  systemId: c.inbound.systemId,
                  secret: readSecret(c.inbound, env, `${label}.inbound`),
                },
              }
            : {}),
        };
      }),
    );
  }

  /** The enabled peers: relayed to, polled and synchronised. */
  list(): Peer[] {
    return [...this.#peers.values()].filter((p) => p.enabled);
  }

  /** Every peer, disabled ones included (what administrators see). */
  all(): Peer[] {
    return [...this.#peers.values()];
  }

  get(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  require(id: string): Peer {
    const p = this.#peers.get(id);
    if (!p) throw new HubError('NOT_FOUND', `no federation peer ${id}`);
    return p;
  }

  byInboundSystem(systemId: string): Peer | undefined {
    return this.#byInbound.get(systemId);
  }
}

/**
 * Credentials of /vdxp and /v1 callers, peers included: a peer's inbound system id answers with the
 * peer's caller identity (`callerFor`: acting for exactly the remote units that peer serves here,
 * read from the store so every process sees the last sync, marked `peer` so that its messages are
 * never relayed on); every other id is looked up in the system store.
 */
export function peerAwareCredentials(
  base: { find(systemId: string): Promise<SystemCredential | null> },
  peers: () => PeerRegistry,
  callerFor: (peer: Peer) => Promise<SystemCredential>,
): { find(systemId: string): Promise<SystemCredential | null> } {
  return {
    find(systemId) {
      const peer = peers().byInboundSystem(systemId);
      return peer?.inbound ? callerFor(peer) : base.find(systemId);
    },
  };
}

/**
 * The trust rule for a peer's agencies (docs/federation.md, Trust): their certificates are not
 * registered here, so the signer's chain (already validated by the verifier against the hub's trust
 * store, validity, key usage and revocation) must end at a root configured as trusted for that peer.
 */
export function signerTrustedForPeer(peer: Peer, signer: ValidatedChain): boolean {
  const root = signer.chain[signer.chain.length - 1];
  return !!root && peer.trustedRoots.has(certificateFingerprint(root));
}
