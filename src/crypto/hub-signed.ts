/**
 * The one check of every artefact the hub signs (receipts; the evidence bundle through its receipt;
 * push requests' detached signatures).
 * A chain to a trusted root is not enough: any agency certificate chains to the same roots, so an
 * agency could sign a "receipt" for a message the hub never saw (issue 18 §1). A hub-signed artefact
 * counts only if, in this order:
 *
 *  1. the signing certificate carries the hub-signing extended key usage (HUB_SIGNING_EKU, or the
 *     configured OID) — otherwise HUB_SIGNER_NOT_HUB;
 *  2. its SHA-256 fingerprint is in the verifier's pinned set (several, for key rotation: a retired hub
 *     certificate stays pinned so that the receipts it signed keep verifying) — HUB_SIGNER_NOT_PINNED;
 *     a verifier with no pinned set refuses everything (HUB_PINS_MISSING), never falls back to "any chain";
 *  3. it chains to a trusted root and is not revoked (CERT_UNTRUSTED, CERT_REVOKED, …), and it and its
 *     issuers were valid at the time the hub-signed content itself states (never a time the holder of
 *     the artefact chooses) — HUB_SIGNER_EXPIRED;
 *  4. the signature follows the hub profile and verifies (src/crypto/signature.ts).
 */
import { createVerify } from 'node:crypto';
import { HubError } from '../domain/errors.ts';
import { verifyEnveloped, type CertificateValidator, type VerifiedMessage } from './signature.ts';
import { certificateFingerprint, type Certificate, type TrustStore, type ValidatedChain } from './trust.ts';
import { x509 } from './x509.ts';

/**
 * Extended key usage of hub signing certificates: a UUID-derived OID (ITU-T X.667 arc 2.25, which
 * needs no registration), chosen for vn-dochub. Configurable (pki.hubSigningEku) so that a national
 * deployment can use the OID its CA assigns.
 */
export const HUB_SIGNING_EKU = '2.25.293153929474563259743402820130343383883';

export interface HubTrust {
  /** Trust anchors (and CRLs) the hub certificate must chain to. */
  readonly trust: TrustStore;
  /** SHA-256 fingerprints (hex, any case, colons allowed) of the accepted hub signing certificates. */
  readonly pins: readonly string[];
  /** The hub-signing EKU OID; default HUB_SIGNING_EKU. */
  readonly eku?: string;
}

/** A pin as configured ("AB:CD:…" or hex) in the form certificateFingerprint() gives. */
export function normalisePin(pin: string): string {
  const hex = pin.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new HubError('VALIDATION_FAILED', `a hub pin must be a SHA-256 fingerprint, not ${pin}`);
  return hex;
}

/** DER content octets of an OID (arcs as BigInt: 2.25 UUID arcs exceed 2^53). */
function oidContent(oid: string): string {
  const arcs = oid.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const bytes = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) bytes.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...bytes);
  }
  return Buffer.from(out).toString('hex');
}

/**
 * Whether the certificate's extended key usage lists this OID. Compared on the DER: the x509 library
 * cannot print arcs above 2^53 (it shows them as "{hex}"), which every 2.25 UUID OID has.
 */
export function hasExtendedKeyUsage(cert: Certificate, oid: string): boolean {
  const ext = cert.getExtension('2.5.29.37');
  if (!ext) return false;
  const der = Buffer.from(ext.value);
  const len = (at: number): [number, number] => {
    const first = der[at]!;
    if (first < 0x80) return [first, at + 1];
    let n = 0;
    for (let i = 1; i <= (first & 0x7f); i++) n = n * 256 + der[at + i]!;
    return [n, at + 1 + (first & 0x7f)];
  };
  if (der[0] !== 0x30) return false;
  const [seqLen, start] = len(1);
  const want = oidContent(oid);
  for (let at = start; at < start + seqLen && at < der.length;) {
    const tag = der[at]!;
    const [l, body] = len(at + 1);
    if (tag === 0x06 && der.subarray(body, body + l).toString('hex') === want) return true;
    at = body + l;
  }
  return false;
}

/** Why a certificate is not a hub signing certificate for this policy, or null if it is one. */
export function hubSignerProblem(
  cert: Certificate,
  pins: readonly string[],
  eku: string = HUB_SIGNING_EKU,
): HubError | null {
  if (!hasExtendedKeyUsage(cert, eku))
    return new HubError('HUB_SIGNER_NOT_HUB', `${cert.subject} does not carry the hub-signing EKU ${eku}`);
  const fingerprint = certificateFingerprint(cert);
  if (!pins.map(normalisePin).includes(fingerprint))
    return new HubError(
      'HUB_SIGNER_NOT_PINNED',
      `certificate ${fingerprint} (${cert.subject}) is not among the ${pins.length} pinned hub certificates`,
    );
  return null;
}

/** Checks 1–3 of the header: role, pin, then chain and validity at the time the artefact states. */
function hubValidator(hub: HubTrust): CertificateValidator {
  return {
    async validate(leaf, extra, when = new Date()) {
      if (hub.pins.length === 0)
        throw new HubError('HUB_PINS_MISSING', 'configure the SHA-256 fingerprints of the hub certificates');
      const problem = hubSignerProblem(leaf, hub.pins, hub.eku);
      if (problem) throw problem;
      try {
        return await hub.trust.validate(leaf, extra, when);
      } catch (err) {
        const code = (err as HubError).code;
        if (code === 'CERT_EXPIRED' || code === 'CERT_NOT_YET_VALID')
          throw new HubError('HUB_SIGNER_EXPIRED', `at ${when.toISOString()}: ${(err as Error).message}`);
        throw err;
      }
    },
  };
}

/**
 * A detached hub signature (push requests, src/delivery/push.ts): RSA/ECDSA-SHA256 over `data` by the
 * published hub certificate `certPem`, which must pass the same checks as for receipts at `at`, the
 * time the signed data states.
 */
export async function verifyHubDetached(
  data: string | Uint8Array,
  signatureBase64: string,
  certPem: string,
  hub: HubTrust,
  at: Date,
): Promise<ValidatedChain> {
  let cert: Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch {
    throw new HubError('CERT_UNTRUSTED', 'the hub certificate cannot be decoded');
  }
  const chain = await hubValidator(hub).validate(cert, [], at);
  const ok = createVerify('sha256')
    .update(data)
    .verify({ key: cert.toString('pem'), dsaEncoding: 'der' }, signatureBase64, 'base64');
  if (!ok) throw new HubError('SIGNATURE_INVALID', 'the hub signature does not match the signed data');
  return chain;
}

/** Verifies an enveloped hub signature of the hub profile; the time comes from the signed content. */
export async function verifyHubSigned(
  bytes: Uint8Array,
  hub: HubTrust,
  o: {
    readonly rootNs: string;
    readonly rootName: string;
    /** The time the artefact states (e.g. a receipt's ReceivedAt), read from its root element. */
    readonly statedTime: (root: Element) => Date;
  },
): Promise<VerifiedMessage & { readonly at: Date }> {
  let at: Date | undefined;
  const v = await verifyEnveloped(bytes, hubValidator(hub), {
    rootNs: o.rootNs,
    rootName: o.rootName,
    where: o.rootName,
    parentOk: (p, root) => p === root,
    atOf: (root) => {
      at = o.statedTime(root);
      if (Number.isNaN(at.getTime()))
        throw new HubError('SCHEMA_INVALID', `${o.rootName} states no valid time`);
      return at;
    },
  });
  return { ...v, at: at! };
}

/** The hub signing certificates as published at GET /v1/hub/certificates (current first). */
export function describeHubCertificates(
  pems: readonly string[],
): { fingerprintSha256: string; subject: string; notBefore: string; notAfter: string; pem: string }[] {
  return pems.map((pem) => {
    const c = new x509.X509Certificate(pem);
    return {
      fingerprintSha256: certificateFingerprint(c),
      subject: c.subject,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      pem: c.toString('pem'),
    };
  });
}
