/**
 * The configured federation peers (src/federation/config.ts), with their secrets read from files or
 * the environment at start, their TLS CA, the root CAs trusted for their agencies, and a client each.
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

export interface Peer {
  readonly id: string;
  readonly name: string;
  readonly config: PeerConfig;
  readonly client: PeerClient;
  /** SHA-256 fingerprints of the root CAs trusted for this peer's agencies. */
  readonly trustedRoots: ReadonlySet<string>;
  readonly inbound?: { readonly systemId: string; readonly secret: string };
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

function rootFingerprints(files: readonly string[], label: string): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    let pem: string;
    try {
      pem = readFileSync(abs(f), 'utf8');
    } catch (err) {
      throw new HubError('START_REFUSED', `${label}: cannot read ${f}: ${(err as Error).message}`);
    }
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
      out.add(certificateFingerprint(new x509.X509Certificate(block)));
  }
  if (out.size === 0) throw new HubError('START_REFUSED', `${label}: no certificate in trustedRoots`);
  return out;
}

export class PeerRegistry {
  readonly #peers: Map<string, Peer>;
  readonly #byInbound: Map<string, Peer>;

  constructor(peers: readonly Peer[]) {
    this.#peers = new Map(peers.map((p) => [p.id, p]));
    this.#byInbound = new Map(peers.flatMap((p) => (p.inbound ? [[p.inbound.systemId, p] as const] : [])));
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

  list(): Peer[] {
    return [...this.#peers.values()];
  }

  get(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  require(id: string): Peer {
    const p = this.#peers.get(id);
    if (!p) throw new HubError('NOT_FOUND', `no federation peer ${id} in the configuration`);
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
  peers: PeerRegistry,
  callerFor: (peer: Peer) => Promise<SystemCredential>,
): { find(systemId: string): Promise<SystemCredential | null> } {
  return {
    find(systemId) {
      const peer = peers.byInboundSystem(systemId);
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
