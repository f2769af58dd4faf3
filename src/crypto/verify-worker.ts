/** Worker thread of the verifier pool: the strict signature profile, off the main event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { HubError } from '../domain/errors.ts';
import { verifySubmission } from './verifier.ts';
import { TrustStore, type RevocationMode } from './trust.ts';
import type { XmlLimits } from './xml-guard.ts';

interface Init {
  trustDir: string;
  revocation: RevocationMode;
  maxCrlAgeSeconds: number;
  ocsp: boolean;
  limits: XmlLimits;
  crls: Uint8Array[];
}

const init = workerData as Init;
const trust = await TrustStore.fromDirectory(init.trustDir, {
  revocation: init.revocation,
  maxCrlAgeSeconds: init.maxCrlAgeSeconds,
  ocsp: init.ocsp,
});
for (const c of init.crls) trust.addCrl(c);

type Msg = { type: 'verify'; id: number; bytes: Uint8Array } | { type: 'crl'; der: Uint8Array };

parentPort!.on('message', (m: Msg) => {
  if (m.type === 'crl') {
    trust.addCrl(m.der);
    return;
  }
  verifySubmission(m.bytes, trust, init.limits)
    .then((v) =>
      parentPort!.postMessage({
        id: m.id,
        ok: true,
        parsed: v.message,
        signatureAlgorithm: v.signatureAlgorithm,
        digestAlgorithm: v.digestAlgorithm,
        chainPem: v.signer.chain.map((c) => c.toString('pem')),
        fingerprintSha256: v.signer.fingerprintSha256,
        revocation: v.signer.revocation,
      }),
    )
    .catch((err: unknown) =>
      parentPort!.postMessage({
        id: m.id,
        ok: false,
        code: err instanceof HubError ? err.code : 'INTERNAL',
        reason: err instanceof HubError ? (err.details?.reason as string | undefined) : undefined,
        message: (err as Error).message,
        details: err instanceof HubError ? err.details : undefined,
      }),
    );
});
parentPort!.postMessage({ ready: true });
