/**
 * Offline verification of evidence bundles (issue 18 §1): the receipt must be hub-signed (pinned hub
 * certificate), the verification time is the receipt's ReceivedAt — never the unsigned manifest's —
 * and a bundle whose receipt, manifest and message disagree is refused (EVIDENCE_INCONSISTENT).
 * Bundles are assembled here, time pinned at T0.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { createRootCa, issueHubCertificate, type Issued } from '../../../src/crypto/dev-pki.ts';
import { buildSignedReceipt, type ReceiptData } from '../../../src/crypto/receipt.ts';
import { loadSigningKey } from '../../../src/crypto/signature.ts';
import { certificateFingerprint } from '../../../src/crypto/trust.ts';
import { verifyEvidence, type EvidenceReport } from '../../../src/evidence/bundle.ts';
import { documentMessage, signed } from '../../support/messages.ts';
import { CERTS, days, devStateCa, signingKeyOf as keyOf, T0 } from '../../support/pinned-pki.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const read = (rel: string) => readFileSync(path.join(CERTS, rel));

describe('evidence bundles verified offline', function () {
  this.timeout(30_000);
  const roots = [read('root-ca.pem').toString('utf8')];
  const agencyKey = (code: string) =>
    loadSigningKey(path.join(CERTS, `agencies/${code}.pem`), path.join(CERTS, `agencies/${code}.key.pem`));
  const msg = documentMessage('H29.001', ['H41.001']);
  const message = Buffer.from(signed(msg, agencyKey('H29.001')));
  let hub: Issued;
  let pins: string[];

  const data = (over: Partial<ReceiptData> = {}): ReceiptData => ({
    receiptId: 'r-1',
    documentId: msg.documentId,
    senderCode: 'H29.001',
    sha256: sha256(message),
    receivedAt: T0.toISOString(),
    recipients: [{ code: 'H41.001', outcome: 'accepted', deliveredTo: 'H41.001' }],
    ...over,
  });

  function bundle(receipt: string, manifestOver: Record<string, unknown> = {}): Uint8Array {
    const files: Record<string, Uint8Array> = {
      'message.edxml': message,
      'receipt.xml': strToU8(receipt),
      'certs/01-state-ca.pem': read('state-ca.pem'),
      'crl/state-ca.crl': read('crl/state-ca.crl'),
      'crl/root-ca.crl': read('crl/root-ca.crl'),
    };
    const manifest = {
      format: 'vn-dochub-evidence/1',
      docId: 'doc-1',
      documentId: msg.documentId,
      sender: 'H29.001',
      receivedAt: T0.toISOString(),
      files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha256(v)])),
      ...manifestOver,
    };
    return zipSync({ ...files, 'manifest.json': strToU8(JSON.stringify(manifest)) });
  }

  const failed = (r: EvidenceReport) => r.checks.filter((c) => !c.ok).map((c) => c.name);

  before(async () => {
    const stateCa = await devStateCa();
    hub = await issueHubCertificate({ issuer: stateCa, notBefore: days(-30), notAfter: days(365) });
    pins = [certificateFingerprint(hub.cert)];
  });

  it('verifies a consistent bundle at the time its hub-signed receipt states', async () => {
    const r = await verifyEvidence(bundle(buildSignedReceipt(data(), await keyOf(hub))), { roots, pins });
    expect(r.ok, JSON.stringify(r.checks)).to.equal(true);
    expect(r.verifiedAt).to.equal(T0.toISOString());
    expect(r.checks.map((c) => c.name)).to.include.members([
      'receipt signature',
      'message signature',
      'receipt covers the message',
    ]);
  });

  it('refuses a bundle whose receipt was signed with an agency key (HUB_SIGNER_NOT_HUB)', async () => {
    const forged = buildSignedReceipt(data(), agencyKey('H29.001'));
    const r = await verifyEvidence(bundle(forged), { roots, pins });
    expect(r.ok).to.equal(false);
    expect(r.code).to.equal('HUB_SIGNER_NOT_HUB');
    expect(failed(r)).to.deep.equal(['receipt signature']);
  });

  it('refuses a bundle whose receipt was signed by a rogue CA’s "hub" certificate (HUB_SIGNER_NOT_PINNED)', async () => {
    const rogueRoot = await createRootCa('CN=Rogue CA, O=Not the government, C=VN', 20, days(-400));
    const rogue = await issueHubCertificate({ issuer: rogueRoot, notBefore: days(-30), notAfter: days(365) });
    const r = await verifyEvidence(bundle(buildSignedReceipt(data(), await keyOf(rogue))), {
      roots: [...roots, rogueRoot.cert.toString('pem')], // even a verifier that trusts the rogue root
      pins,
    });
    expect(r.code).to.equal('HUB_SIGNER_NOT_PINNED');
  });

  it('refuses a bundle whose receipt was signed by a genuine hub certificate past its validity (HUB_SIGNER_EXPIRED)', async () => {
    const stateCa = await devStateCa();
    const old = await issueHubCertificate({ issuer: stateCa, notBefore: days(-150), notAfter: days(-10) });
    const r = await verifyEvidence(bundle(buildSignedReceipt(data(), await keyOf(old))), {
      roots,
      pins: [...pins, certificateFingerprint(old.cert)],
    });
    expect(r.code).to.equal('HUB_SIGNER_EXPIRED');
  });

  it('refuses a bundle whose manifest states another acceptance time than the receipt (EVIDENCE_INCONSISTENT)', async () => {
    const receipt = buildSignedReceipt(data(), await keyOf(hub));
    const r = await verifyEvidence(bundle(receipt, { receivedAt: days(-1).toISOString() }), { roots, pins });
    expect(r.ok).to.equal(false);
    expect(r.code).to.equal('EVIDENCE_INCONSISTENT');
    expect(r.verifiedAt, 'the time is the receipt’s').to.equal(T0.toISOString());
  });

  it('refuses a bundle whose manifest names another sender or document (EVIDENCE_INCONSISTENT)', async () => {
    const receipt = buildSignedReceipt(data(), await keyOf(hub));
    for (const over of [{ sender: 'H41.001' }, { documentId: 'H29.001,2026/11/22,1/UBND-VP' }]) {
      const r = await verifyEvidence(bundle(receipt, over), { roots, pins });
      expect(r.code, JSON.stringify(over)).to.equal('EVIDENCE_INCONSISTENT');
      expect(failed(r)).to.deep.equal(['receipt covers the message']);
    }
  });

  it('refuses a bundle whose hub-signed receipt is for another sender than the message (EVIDENCE_INCONSISTENT)', async () => {
    const receipt = buildSignedReceipt(data({ senderCode: 'D29.001' }), await keyOf(hub));
    const r = await verifyEvidence(bundle(receipt, { sender: 'D29.001' }), { roots, pins });
    expect(r.code).to.equal('EVIDENCE_INCONSISTENT');
    expect(r.checks.find((c) => !c.ok)?.detail).to.contain('the message is from H29.001');
  });

  it('refuses a bundle without a receipt', async () => {
    const files = { 'message.edxml': message, 'manifest.json': strToU8('{"files":{}}') };
    const r = await verifyEvidence(zipSync(files), { roots, pins });
    expect(r.ok).to.equal(false);
    expect(failed(r)).to.deep.equal(['bundle contents']);
  });

  it('refuses every bundle when no hub certificate is pinned (HUB_PINS_MISSING)', async () => {
    const r = await verifyEvidence(bundle(buildSignedReceipt(data(), await keyOf(hub))), { roots, pins: [] });
    expect(r.code).to.equal('HUB_PINS_MISSING');
  });
});
