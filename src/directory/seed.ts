/**
 * Development directory seed (config/seed-directory.json) with the dev certificates' fingerprints
 * (certs-dev/agencies.json). Idempotent: existing agencies and systems are left as they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Stores } from '../domain/ports.ts';
import { x509 } from '../crypto/x509.ts';
import type { Agency, Block, DeliveryMode } from '../domain/types.ts';
import { DEFAULT_DIRECTORY_SETTINGS, type DirectorySettings } from './settings.ts';
import { agencyProblems } from './validation.ts';

interface SeedAgency {
  code: string;
  legacyCode?: string;
  name: string;
  shortName?: string;
  block: Block;
  kind: string;
  parentCode: string | null;
  province?: string;
  status?: 'active' | 'closed';
  validFrom?: string;
  closedAt?: string;
  successors?: string[];
  contact?: Agency['contact'];
  delivery?: { mode: DeliveryMode; url?: string };
}

interface SeedFile {
  agencies: SeedAgency[];
  systems: { systemId: string; secret: string; agencyCodes: string[]; rights: ('send' | 'admin')[] }[];
}

interface CertManifestEntry {
  code: string;
  cert: string;
  fingerprintSha256: string;
}

export async function seedDirectory(
  stores: Pick<Stores, 'agencies' | 'credentials'>,
  files: { directoryFile: string; certsManifest: string },
  settings: DirectorySettings = DEFAULT_DIRECTORY_SETTINGS,
): Promise<{ agencies: number; systems: number }> {
  if (!files.directoryFile || !existsSync(files.directoryFile)) return { agencies: 0, systems: 0 };
  const seed = JSON.parse(readFileSync(files.directoryFile, 'utf8')) as SeedFile;
  const certs = new Map<string, CertManifestEntry[]>();
  if (files.certsManifest && existsSync(files.certsManifest)) {
    const manifest = JSON.parse(readFileSync(files.certsManifest, 'utf8')) as CertManifestEntry[];
    for (const m of manifest) certs.set(m.code, [...(certs.get(m.code) ?? []), m]);
  }
  const now = new Date();
  const agencies = seed.agencies.map((a) => ({
    code: a.code,
    ...(a.legacyCode ? { legacyCode: a.legacyCode } : {}),
    name: a.name,
    ...(a.shortName ? { shortName: a.shortName } : {}),
    block: a.block,
    kind: a.kind,
    parentCode: a.parentCode,
    ...(a.province ? { province: a.province } : {}),
    status: a.status ?? 'active',
    ...(a.validFrom ? { validFrom: new Date(a.validFrom) } : {}),
    ...(a.closedAt ? { closedAt: new Date(a.closedAt) } : {}),
    successors: a.successors ?? [],
    contact: a.contact ?? {},
    delivery: a.delivery ?? { mode: 'pull' as const },
    certificates: (certs.get(a.code) ?? []).map((c) => {
      const pem = readFileSync(path.resolve(path.dirname(files.certsManifest), c.cert), 'utf8');
      const parsed = new x509.X509Certificate(pem);
      return {
        fingerprintSha256: c.fingerprintSha256,
        pem,
        subject: parsed.subject,
        notAfter: parsed.notAfter,
        registeredAt: now,
      };
    }),
  }));
  // The seed goes through the same record validation as every other write.
  const problems = agencies.flatMap((a) =>
    agencyProblems({ ...a, version: 0, updatedAt: now }, settings).map((p) => `${a.code}: ${p}`),
  );
  if (problems.length)
    throw new Error(`invalid directory seed ${files.directoryFile}:\n  ${problems.join('\n  ')}`);
  const created = await stores.agencies.upsertSeed(agencies);
  let systems = 0;
  for (const s of seed.systems) {
    if (await stores.credentials.find(s.systemId)) continue;
    await stores.credentials.upsert({ ...s, active: true });
    systems++;
  }
  return { agencies: created, systems };
}
