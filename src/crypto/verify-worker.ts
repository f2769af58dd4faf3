/** Worker thread of the verifier pool: the strict signature profile, off the main event loop. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { HubError } from '../domain/errors.ts';
import { verifySubmission } from './verifier.ts';
import { TrustStore, type RevocationMode } from './trust.ts';
import type { XmlLimits } from './xml-guard.ts';

interface Init {
  trustDir: string;
  revocation: RevocationMode;
  maxCrlAgeSeconds: number;
  maxAgeWithoutNextUpdateSeconds?: number;
  ocsp: boolean;
  limits: XmlLimits;
  crls: Uint8Array[];
  /** Pinned verification time (ms since epoch; tests), else now. */
  atMs?: number;
}

const init = workerData as Init;
const trust = await TrustStore.fromDirectory(init.trustDir, {
  revocation: init.revocation,
  maxCrlAgeSeconds: init.maxCrlAgeSeconds,
  ...(init.maxAgeWithoutNextUpdateSeconds !== undefined
    ? { maxAgeWithoutNextUpdateSeconds: init.maxAgeWithoutNextUpdateSeconds }
    : {}),
  ocsp: init.ocsp,
  ...(init.atMs !== undefined ? { now: () => new Date(init.atMs!) } : {}),
});
for (const c of init.crls) trust.addCrl(c);
// OCSP outcomes go to the main thread, which reports each responder's freshness (src/ops/revocation-freshness.ts).
trust.onOcsp((ocsp) => parentPort!.postMessage({ ocsp }));

type Msg = { type: 'verify'; id: number; bytes: Uint8Array } | { type: 'crl'; der: Uint8Array };

/**
 * A full collection after each large message. Verifying a 5 MB message allocates some 50 MB
 * (the decoded text, canonical form, digest input); left to its own heuristics V8 lets a worker's
 * heap grow to several times that before collecting, and with two workers that slack was most of
 * the hub's peak memory with 5 MB messages (docs/benchmarks.md). A collection of what is left costs
 * a few milliseconds against hundreds spent verifying. `--expose-gc` set at run time makes `gc`
 * available to contexts created afterwards; if that ever stops working, nothing is forced.
 */
const GC_AFTER_BYTES = 1024 * 1024;
const gc = ((): (() => void) => {
  try {
    setFlagsFromString('--expose-gc');
    const f: unknown = runInNewContext('gc');
    if (typeof f === 'function') return f as () => void;
  } catch {
    // not available: rely on V8's own schedule
  }
  return () => undefined;
})();

parentPort!.on('message', (m: Msg) => {
  if (m.type === 'crl') {
    trust.addCrl(m.der);
    return;
  }
  const large = m.bytes.byteLength >= GC_AFTER_BYTES;
  verifySubmission(m.bytes, trust, init.limits, init.atMs !== undefined ? new Date(init.atMs) : undefined)
    .then((v) =>
      parentPort!.postMessage({
        id: m.id,
        ok: true,
        parsed: v.message,
        signatureAlgorithm: v.signatureAlgorithm,
        digestAlgorithm: v.digestAlgorithm,
        chainPem: v.signer.chain.map((c) => c.toString('pem')),
        fingerprintSha256: v.signer.fingerprintSha256,
        subject: v.signer.subject,
        revocation: v.signer.revocation,
      }),
    )
    .catch((err: unknown) =>
      parentPort!.postMessage({
        id: m.id,
        ok: false,
        code: err instanceof HubError ? err.code : 'INTERNAL',
        reason: err instanceof HubError ? err.reason : undefined,
        message: (err as Error).message,
        details: err instanceof HubError ? err.details : undefined,
      }),
    )
    .finally(() => {
      if (large) gc();
    });
});
parentPort!.postMessage({ ready: true });
