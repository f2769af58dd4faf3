/**
 * Evidence bundles (ARCHITECTURE.md §5): everything needed to prove, offline, what the hub accepted
 * and when — the exact signed bytes, the hub receipt, the status messages about the document, the
 * signers' certificate chains and the CRLs used — in one zip with a manifest of SHA-256 hashes.
 *
 *   manifest.json            { docId, documentId, sender, receivedAt, files: { name: sha256 } , deliveries }
 *   message.edxml            the bytes the sender signed
 *   receipt.xml              the hub-signed receipt
 *   statuses/<n>.edxml       signed status messages about the document
 *   certs/<n>.pem            certificates of every signer (leaf … root) and of the hub
 *   crl/<issuer>.crl         CRLs of the issuers
 */
import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { HubError } from '../domain/errors.ts';
import type { Stores } from '../domain/ports.ts';
import type { DocumentRecord } from '../domain/types.ts';
import type { Models } from '../store/models.ts';
import { verifyEdxml } from '../crypto/signature.ts';
import { verifyReceipt } from '../crypto/receipt.ts';
import { TrustStore, type Certificate } from '../crypto/trust.ts';
import { x509 } from '../crypto/x509.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

export interface EvidenceDeps {
  readonly stores: Pick<Stores, 'documents' | 'deliveries'>;
  readonly models: Pick<Models, 'Document' | 'Crl'>;
  readonly trust: TrustStore;
  readonly hubCertPem: string;
}

export async function exportEvidence(docId: string, d: EvidenceDeps): Promise<Buffer> {
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
  // Certificates: every signer's chain (validated now, at its recorded time would need the same data).
  const certs = new Map<string, Certificate>();
  const hub = new x509.X509Certificate(d.hubCertPem);
  const chains: Certificate[][] = [];
  for (const b of signed) {
    try {
      const v = await verifyEdxml(b, d.trust, { at: doc.receivedAt });
      chains.push([...v.signer.chain]);
    } catch {
      // a status whose certificate has since expired still goes in; its own check will say so
    }
  }
  const hubChain = (await d.trust.validate(hub, [], new Date()).catch(() => null))?.chain ?? [hub];
  for (const c of [...chains.flat(), ...hubChain]) certs.set(sha256(new Uint8Array(c.rawData)), c);
  let i = 0;
  for (const c of certs.values())
    files[`certs/${String(++i).padStart(2, '0')}-${safe(c.subject.split(',')[0] ?? 'cert')}.pem`] = strToU8(
      c.toString('pem'),
    );
  for (const c of certs.values()) {
    const crl = d.trust.crlFor(c);
    if (crl) files[`crl/${safe(c.subject.split(',')[0] ?? 'ca')}.crl`] = new Uint8Array(crl.rawData);
  }
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
    exportedAt: new Date().toISOString(),
    files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha256(v)])),
    deliveries,
  };
  files['manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
  return Buffer.from(zipSync(files, { level: 6 }));
}

export interface EvidenceReport {
  readonly ok: boolean;
  readonly documentId?: string;
  readonly checks: { readonly name: string; readonly ok: boolean; readonly detail?: string }[];
}

/**
 * Verifies a bundle offline against the given trust anchors: manifest hashes, the message signature
 * (at the acceptance time, with the bundled CRLs), the receipt signature and that the receipt's hash
 * is the message's, and every status message's signature.
 */
export async function verifyEvidence(zip: Uint8Array, rootsPem: readonly string[]): Promise<EvidenceReport> {
  const checks: { name: string; ok: boolean; detail?: string }[] = [];
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (err) {
    return { ok: false, checks: [{ name: 'zip', ok: false, detail: (err as Error).message }] };
  }
  const manifestRaw = files['manifest.json'];
  if (!manifestRaw)
    return { ok: false, checks: [{ name: 'manifest', ok: false, detail: 'manifest.json missing' }] };
  const manifest = JSON.parse(strFromU8(manifestRaw)) as {
    documentId: string;
    receivedAt: string;
    files: Record<string, string>;
  };
  for (const [name, hash] of Object.entries(manifest.files)) {
    const f = files[name];
    checks.push({ name: `hash ${name}`, ok: !!f && sha256(f) === hash, ...(f ? {} : { detail: 'missing' }) });
  }
  const at = new Date(manifest.receivedAt);
  const intermediates = Object.entries(files)
    .filter(([k]) => k.startsWith('certs/'))
    .map(([, v]) => strFromU8(v));
  const crls = Object.entries(files)
    .filter(([k]) => k.startsWith('crl/'))
    .map(([, v]) => v);
  const trust = TrustStore.create({
    roots: [...rootsPem],
    intermediates,
    crls,
    revocation: 'require',
    now: () => at,
  });
  const message = files['message.edxml'];
  const receipt = files['receipt.xml'];
  if (message) {
    try {
      const v = await verifyEdxml(message, trust, { at });
      checks.push({ name: 'message signature', ok: true, detail: v.signer.leaf.subject });
    } catch (err) {
      checks.push({ name: 'message signature', ok: false, detail: (err as Error).message });
    }
  }
  if (receipt && message) {
    try {
      const r = await verifyReceipt(receipt, trust, at);
      checks.push({ name: 'receipt signature', ok: true });
      checks.push({
        name: 'receipt covers the message',
        ok: r.sha256 === sha256(message) && r.documentId === manifest.documentId,
      });
    } catch (err) {
      checks.push({ name: 'receipt signature', ok: false, detail: (err as Error).message });
    }
  }
  for (const [name, b] of Object.entries(files).filter(([k]) => k.startsWith('statuses/'))) {
    try {
      await verifyEdxml(b, trust, { at });
      checks.push({ name: `${name} signature`, ok: true });
    } catch (err) {
      checks.push({ name: `${name} signature`, ok: false, detail: (err as Error).message });
    }
  }
  return { ok: checks.length > 0 && checks.every((c) => c.ok), documentId: manifest.documentId, checks };
}
