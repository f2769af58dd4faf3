/**
 * Evidence bundles (docs/architecture-design.md §5): everything needed to prove, offline, what the hub accepted
 * and when — the exact signed bytes, the hub receipt, the status messages about the document, the
 * signers' certificate chains and the CRLs used — in one zip with a manifest of SHA-256 hashes.
 *
 *   manifest.json            { docId, documentId, sender, receivedAt, files: { name: sha256 } , deliveries }
 *   message.edxml            the bytes the sender signed
 *   receipt.xml              the hub-signed receipt
 *   statuses/<n>.edxml       signed status messages about the document
 *   certs/<n>-<CN>.pem       certificates of every signer (leaf … root) and of the hub
 *   crl/<CN>-<hash>.crl      CRLs of the issuers: the issuer's CN to read, and the first 16 hex digits
 *                            of the SHA-256 of its DER-encoded name, so two CAs never share a file
 *                            (issue 23: named by the first RDN, every `C=VN, …` CA was `C_VN.crl`)
 *
 * A bundle is complete when offline verification has all it needs at the acceptance time: the chain
 * of the message's signer and of the hub, and for every certificate on them (root excepted) its
 * issuer's CRL, usable at the acceptance time. Otherwise the export refuses (EVIDENCE_INCOMPLETE,
 * naming what is missing) unless asked to `allowIncomplete`, which lists it in the manifest's
 * `incomplete`, and offline verification then fails on it.
 */
import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { HubError } from '../domain/errors.ts';
import type { Stores } from '../domain/ports.ts';
import type { DocumentRecord } from '../domain/types.ts';
import { verifyEdxml } from '../crypto/signature.ts';
import { receiptTime, verifyReceipt } from '../crypto/receipt.ts';
import { TrustStore, type Certificate, type RevocationMode } from '../crypto/trust.ts';
import { parseEdxml } from '../domain/edxml/parse.ts';
import { x509 } from '../crypto/x509.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

/**
 * The evidence query (issue 20) goes through the document and delivery ports only (`get`,
 * `getPayload`, `forDocument`), never their collections; the CRLs come from the trust store, which
 * the revocation service loads from the revocation data port.
 */
export interface EvidenceDeps {
  readonly stores: Pick<Stores, 'documents' | 'deliveries'>;
  readonly trust: TrustStore;
  readonly hubCertPem: string;
}

/** The CN of a name (else its first RDN), to read; the hash of its DER makes it unique. */
function nameLabel(name: InstanceType<typeof x509.Name>, fallback: string): string {
  return safe(name.getField('CN')[0] ?? name.toString().split(',')[0] ?? fallback);
}

/** `crl/<CN>-<16 hex of SHA-256 of the issuer's DER name>.crl` */
export function crlFileName(issuer: Certificate): string {
  const id = sha256(new Uint8Array(issuer.subjectName.toArrayBuffer())).slice(0, 16);
  return `crl/${nameLabel(issuer.subjectName, 'ca')}-${id}.crl`;
}

export interface EvidenceExportOptions {
  /** Write the bundle even when it is incomplete, listing what is missing in the manifest. */
  readonly allowIncomplete?: boolean;
}

export async function exportEvidence(
  docId: string,
  d: EvidenceDeps,
  o: EvidenceExportOptions = {},
): Promise<Buffer> {
  const doc = await d.stores.documents.get(docId);
  if (!doc || doc.state !== 'accepted' || !doc.receipt)
    throw new HubError('NOT_FOUND', `no accepted document ${docId}`);
  const bytes = await d.stores.documents.getPayload(docId);
  if (!bytes) throw new HubError('INTERNAL', `payload of ${docId} is missing`);
  const files: Record<string, Uint8Array> = { 'message.edxml': bytes, 'receipt.xml': strToU8(doc.receipt) };
  const signed: Uint8Array[] = [bytes];
  const docDeliveries = await d.stores.deliveries.forDocument(docId);
  if (doc.messageType === 'edoc') {
    // The statuses applied to this document's own deliveries, by the hub's ids (issue 18 §2): never
    // a search by DocumentId, which another agency's document may carry too.
    const statusIds = new Set(docDeliveries.flatMap((x) => x.timeline.flatMap((e) => e.statusDocId ?? [])));
    const found = await Promise.all([...statusIds].map((id) => d.stores.documents.get(id)));
    const statuses = found
      .filter((s): s is DocumentRecord => s?.messageType === 'status' && s.state === 'accepted')
      .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
    let n = 0;
    for (const s of statuses) {
      const b = await d.stores.documents.getPayload(s.id);
      if (b) {
        files[`statuses/${String(++n).padStart(3, '0')}.edxml`] = b;
        signed.push(b);
      }
    }
  }
  // Certificates: every signer's chain at the acceptance time, as offline verification will build it.
  // Revocation is judged at that time too, and relaxed to 'prefer' here so that a chain is still
  // built when a CRL is missing: what is missing is listed below, never silently left out.
  const at = doc.receivedAt;
  const asOf = d.trust.withOptions({ now: () => at, revocation: 'prefer' });
  const certs = new Map<string, Certificate>();
  const hub = new x509.X509Certificate(d.hubCertPem);
  const chains: Certificate[][] = [];
  const missing: string[] = [];
  for (const [i, b] of signed.entries()) {
    try {
      const v = await verifyEdxml(b, asOf, { at });
      chains.push([...v.signer.chain]);
    } catch (err) {
      // a status whose certificate has since expired still goes in; its own check will say so
      if (i === 0) missing.push(`the signer's certificate chain: ${(err as Error).message}`);
    }
  }
  // The hub's chain at the acceptance time (else now: a certificate renewed since then).
  const hubChain = await asOf
    .validate(hub, [], at)
    .catch(() => asOf.validate(hub, [], new Date()))
    .catch((err: unknown) => {
      missing.push(`the hub certificate's chain: ${(err as Error).message}`);
      return { chain: [hub] };
    });
  chains.push([...hubChain.chain]);
  for (const c of chains.flat()) certs.set(sha256(new Uint8Array(c.rawData)), c);
  let i = 0;
  for (const c of certs.values())
    files[`certs/${String(++i).padStart(2, '0')}-${nameLabel(c.subjectName, 'cert')}.pem`] = strToU8(
      c.toString('pem'),
    );
  for (const c of certs.values()) {
    const crl = d.trust.crlFor(c);
    if (crl) files[crlFileName(c)] = new Uint8Array(crl.rawData);
  }
  if (d.trust.revocation !== 'off') {
    const needed = new Map<string, Certificate>(); // issuers of every non-root certificate on the chains
    for (const chain of chains)
      for (const issuer of chain.slice(1)) needed.set(sha256(new Uint8Array(issuer.rawData)), issuer);
    for (const issuer of needed.values()) {
      const crl = d.trust.crlFor(issuer);
      if (!crl) missing.push(`no CRL of ${issuer.subject}`);
      else {
        const f = asOf.crlFreshness(crl, at);
        if (f.stale)
          missing.push(`the CRL of ${issuer.subject} is not usable at ${at.toISOString()}: ${f.reason}`);
      }
    }
  }
  if (missing.length && !o.allowIncomplete)
    throw new HubError('EVIDENCE_INCOMPLETE', missing.join('; '), { missing });
  const deliveries = docDeliveries.map((x) => ({
    recipient: x.recipientCode,
    requestedCode: x.requestedCode,
    transport: x.transport,
    status: x.business.code,
    timeline: x.timeline,
  }));
  const manifest = {
    format: 'vn-dochub-evidence/1',
    docId,
    documentId: doc.documentId,
    sender: doc.senderCode,
    receivedAt: doc.receivedAt.toISOString(),
    ...(doc.via ? { via: doc.via.map((h) => ({ ...h, at: h.at.toISOString() })) } : {}),
    exportedAt: new Date().toISOString(),
    files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha256(v)])),
    deliveries,
    ...(missing.length ? { incomplete: missing } : {}),
  };
  files['manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
  return Buffer.from(zipSync(files, { level: 6 }));
}

/** What an exported bundle's manifest says is missing (empty when complete). */
export function evidenceIncompleteness(zip: Uint8Array): string[] {
  const m = unzipSync(zip, { filter: (f) => f.name === 'manifest.json' })['manifest.json'];
  const incomplete = m ? (JSON.parse(strFromU8(m)) as { incomplete?: unknown }).incomplete : undefined;
  return Array.isArray(incomplete) ? incomplete.map(String) : [];
}

export interface EvidenceCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
  /** The stable code of a failed check (src/domain/errors.ts), when it has one. */
  readonly code?: string;
}

export interface EvidenceReport {
  readonly ok: boolean;
  readonly documentId?: string;
  /** The acceptance time the bundle was verified at: the hub-signed receipt's ReceivedAt. */
  readonly verifiedAt?: string;
  /** The code of the first failed check that has one. */
  readonly code?: string;
  readonly checks: readonly EvidenceCheck[];
}

export interface EvidenceVerifyOptions {
  /** Trust anchors (self-signed CA certificates, PEM). */
  readonly roots: readonly string[];
  /** Pinned hub signing certificates (SHA-256): the receipt must be signed by one (src/crypto/hub-signed.ts). */
  readonly pins: readonly string[];
  readonly eku?: string;
  /** Default 'require': a signer whose CRL is not in the bundle fails the check. */
  readonly revocation?: RevocationMode;
}

const codeOf = (err: unknown) => (err instanceof HubError ? { code: err.code } : {});

/**
 * Verifies a bundle offline: manifest hashes; the receipt as a hub-signed artefact (pinned hub
 * certificate, valid at the receipt's ReceivedAt); the message and status signatures at that time,
 * with the bundled CRLs; and that the receipt, the manifest and the message agree (DocumentId, SHA-256,
 * sender, time: EVIDENCE_INCONSISTENT). The time is only ever the hub-signed ReceivedAt: the manifest
 * is not signed, so nothing in it is trusted unless the receipt says the same.
 */
export async function verifyEvidence(zip: Uint8Array, o: EvidenceVerifyOptions): Promise<EvidenceReport> {
  const checks: EvidenceCheck[] = [];
  const fail = (name: string, detail: string, code?: string): EvidenceReport => ({
    ok: false,
    ...(code ? { code } : {}),
    checks: [{ name, ok: false, detail, ...(code ? { code } : {}) }],
  });
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (err) {
    return fail('zip', (err as Error).message);
  }
  const manifestRaw = files['manifest.json'];
  const message = files['message.edxml'];
  const receipt = files['receipt.xml'];
  if (!manifestRaw || !message || !receipt)
    return fail('bundle contents', 'manifest.json, message.edxml and receipt.xml are all required');
  let manifest: { documentId?: unknown; sender?: unknown; receivedAt?: unknown; files?: unknown };
  try {
    manifest = JSON.parse(strFromU8(manifestRaw)) as typeof manifest;
  } catch (err) {
    return fail('manifest', (err as Error).message);
  }
  const incomplete = evidenceIncompleteness(zip);
  if (incomplete.length)
    checks.push({
      name: 'bundle complete',
      ok: false,
      detail: `exported incomplete: ${incomplete.join('; ')}`,
      code: 'EVIDENCE_INCOMPLETE',
    });
  const listed = (manifest.files ?? {}) as Record<string, unknown>;
  for (const [name, hash] of Object.entries(listed)) {
    const f = files[name];
    checks.push({ name: `hash ${name}`, ok: !!f && sha256(f) === hash, ...(f ? {} : { detail: 'missing' }) });
  }
  const intermediates = Object.entries(files)
    .filter(([k]) => k.startsWith('certs/'))
    .map(([, v]) => strFromU8(v));
  const crls = Object.entries(files)
    .filter(([k]) => k.startsWith('crl/'))
    .map(([, v]) => v);
  // CRL freshness is judged at the acceptance time, which only the verified receipt gives: the store
  // reads it through `at`, set before anything is validated at it.
  let at = new Date(NaN);
  const trust = TrustStore.create({
    roots: [...o.roots],
    intermediates,
    crls,
    revocation: o.revocation ?? 'require',
    now: () => at,
  });
  let r: Awaited<ReturnType<typeof verifyReceipt>>;
  try {
    at = receiptTime(receipt);
    r = await verifyReceipt(receipt, { trust, pins: o.pins, ...(o.eku ? { eku: o.eku } : {}) });
    if (new Date(r.receivedAt).getTime() !== at.getTime())
      throw new HubError('SIGNATURE_INVALID', 'the receipt time read is not the signed one');
    checks.push({ name: 'receipt signature', ok: true, detail: r.signer.leaf.subject });
  } catch (err) {
    checks.push({ name: 'receipt signature', ok: false, detail: (err as Error).message, ...codeOf(err) });
    return report(checks, typeof manifest.documentId === 'string' ? manifest.documentId : undefined);
  }
  let signed: { documentId: string; sender: string } | undefined;
  try {
    const v = await verifyEdxml(message, trust, { at });
    const m = parseEdxml(v.signedXml, { attachmentContent: false });
    signed = {
      documentId: m.kind === 'edoc' ? m.documentId : m.responseFor.documentId,
      sender: m.from.organId,
    };
    checks.push({ name: 'message signature', ok: true, detail: v.signer.leaf.subject });
  } catch (err) {
    checks.push({ name: 'message signature', ok: false, detail: (err as Error).message, ...codeOf(err) });
  }
  // Receipt, manifest and message must tell the same story: the receipt (hub-signed) is the reference.
  const disagreements = [
    r.sha256 !== sha256(message) &&
      `the receipt covers SHA-256 ${r.sha256}, the message is ${sha256(message)}`,
    manifest.documentId !== r.documentId &&
      `the manifest names ${String(manifest.documentId)}, the receipt ${r.documentId}`,
    !sameCode(manifest.sender, r.senderCode) &&
      `the manifest names sender ${String(manifest.sender)}, the receipt ${r.senderCode}`,
    new Date(String(manifest.receivedAt)).getTime() !== at.getTime() &&
      `the manifest says received at ${String(manifest.receivedAt)}, the receipt ${r.receivedAt}`,
    signed &&
      signed.documentId !== r.documentId &&
      `the message is ${signed.documentId}, the receipt ${r.documentId}`,
    signed &&
      !sameCode(signed.sender, r.senderCode) &&
      `the message is from ${signed.sender}, the receipt ${r.senderCode}`,
  ].filter((x): x is string => typeof x === 'string');
  checks.push({
    name: 'receipt covers the message',
    ok: disagreements.length === 0,
    ...(disagreements.length ? { detail: disagreements.join('; '), code: 'EVIDENCE_INCONSISTENT' } : {}),
  });
  for (const [name, b] of Object.entries(files).filter(([k]) => k.startsWith('statuses/'))) {
    try {
      await verifyEdxml(b, trust, { at });
      checks.push({ name: `${name} signature`, ok: true });
    } catch (err) {
      checks.push({ name: `${name} signature`, ok: false, detail: (err as Error).message, ...codeOf(err) });
    }
  }
  return report(checks, r.documentId, at);
}

const sameCode = (a: unknown, b: string) => typeof a === 'string' && a.toUpperCase() === b.toUpperCase();

function report(checks: EvidenceCheck[], documentId?: string, at?: Date): EvidenceReport {
  const code = checks.find((c) => !c.ok && c.code)?.code;
  return {
    ok: checks.length > 0 && checks.every((c) => c.ok),
    ...(documentId ? { documentId } : {}),
    ...(at ? { verifiedAt: at.toISOString() } : {}),
    ...(code ? { code } : {}),
    checks,
  };
}
