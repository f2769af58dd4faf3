/** A federation peer as administrators define it (src/federation/ports.ts StoredPeer), for tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import type { StoredPeer } from '../../src/federation/ports.ts';

export const DEV_ROOT_PEM = readFileSync(path.join(PROJECT_ROOT, 'certs-dev/root-ca.pem'), 'utf8');

export const storedPeer = (id: string, o: Partial<StoredPeer> = {}): StoredPeer => ({
  id,
  baseUrl: `https://${id}.example/vdxp`,
  systemId: 'hub-here',
  secret: 's'.repeat(24),
  inbound: { systemId: `in-${id}`, secret: 'i'.repeat(24) },
  trustedRootsPem: DEV_ROOT_PEM,
  agenciesPrefix: [],
  outbound: 'push',
  pollIntervalMs: 0,
  syncIntervalMs: 3_600_000,
  timeoutMs: 1000,
  enabled: true,
  version: 1,
  updatedAt: new Date(0),
  ...o,
});
