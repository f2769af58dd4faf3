/**
 * Receipts count only when the hub could have issued them (issue 18 §1): forged receipts — an agency
 * key, a rogue CA's "hub" certificate, a genuine hub certificate past its validity, the right
 * certificate unpinned — are each refused with the code naming why. Time is pinned: the receipts
 * state T0 and the certificates are issued around it, never around the wall clock.
 */
import { expect } from 'chai';
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';
import {
  createRootCa,
  issueCertificate,
  issueHubCertificate,
  type Issued,
} from '../../../src/crypto/dev-pki.ts';
import { hasExtendedKeyUsage, HUB_SIGNING_EKU } from '../../../src/crypto/hub-signed.ts';
import { buildSignedReceipt, verifyReceipt, type ReceiptData } from '../../../src/crypto/receipt.ts';
import { loadSigningKey } from '../../../src/crypto/signature.ts';
import { certificateFingerprint, TrustStore } from '../../../src/crypto/trust.ts';
import { x509 } from '../../../src/crypto/x509.ts';
import { pushSignatureInput, verifyPushRequest } from '../../../src/delivery/push.ts';
import { CERTS, days, devStateCa, refusal, signingKeyOf as keyOf, T0 } from '../../support/pinned-pki.ts';

const receiptData = (receivedAt: Date, over: Partial<ReceiptData> = {}): ReceiptData => ({
  receiptId: 'r-0001',
  documentId: '000.00.00.D29,2027/00042',
  senderCode: 'D29.001',
  sha256: 'a'.repeat(64),
  receivedAt: receivedAt.toISOString(),
  recipients: [{ code: 'H41.001', outcome: 'accepted', deliveredTo: 'H41.001' }],
  ...over,
});

describe('hub receipts: only a pinned hub signing certificate issues them', function () {
  this.timeout(30_000);
  let trust: TrustStore;
  let stateCa: Issued;
  let hub: Issued; // in force at T0
  let retired: Issued; // the previous hub certificate: expired before T0
  let pins: string[];

  before(async () => {
    trust = await TrustStore.fromDirectory(CERTS, { now: () => T0 });
    stateCa = await devStateCa();
    hub = await issueHubCertificate({ issuer: stateCa, notBefore: days(-30), notAfter: days(365) });
    retired = await issueHubCertificate({ issuer: stateCa, notBefore: days(-150), notAfter: days(-10) });
    pins = [certificateFingerprint(hub.cert), certificateFingerprint(retired.cert)];
  });

  it('accepts a receipt signed by a pinned hub certificate and reads it from the signed bytes', async () => {
    const xml = buildSignedReceipt(receiptData(T0), await keyOf(hub));
    const r = await verifyReceipt(xml, { trust, pins });
    expect(r).to.include({ documentId: '000.00.00.D29,2027/00042', receivedAt: T0.toISOString() });
    expect(r.signer.fingerprintSha256).to.equal(pins[0]);
  });

  it('accepts pins written as colon-separated upper-case hex', async () => {
    const xml = buildSignedReceipt(receiptData(T0), await keyOf(hub));
    const colons = pins[0]!.toUpperCase().match(/../g)!.join(':');
    expect((await verifyReceipt(xml, { trust, pins: [colons] })).receiptId).to.equal('r-0001');
  });

  it('refuses a malformed pin as a usage error (VALIDATION_FAILED), not as an unpinned signer', async () => {
    const xml = buildSignedReceipt(receiptData(T0), await keyOf(hub));
    const err = await refusal(verifyReceipt(xml, { trust, pins: ['efbc'] }));
    expect(err.code).to.equal('VALIDATION_FAILED');
  });

  it('refuses a receipt signed by an agency key for a message the hub never saw (HUB_SIGNER_NOT_HUB)', async () => {
    const agency = loadSigningKey(
      path.join(CERTS, 'agencies/D29.001.pem'),
      path.join(CERTS, 'agencies/D29.001.key.pem'),
    );
    const xml = buildSignedReceipt(receiptData(days(-100)), agency);
    const err = await refusal(verifyReceipt(xml, { trust, pins }));
    expect(err.code).to.equal('HUB_SIGNER_NOT_HUB');
  });

  it('refuses a receipt signed by a rogue CA’s "hub" certificate carrying the hub EKU (HUB_SIGNER_NOT_PINNED)', async () => {
    const rogueRoot = await createRootCa('CN=Rogue CA, O=Not the government, C=VN', 20, days(-400));
    const rogue = await issueHubCertificate({ issuer: rogueRoot, notBefore: days(-30), notAfter: days(365) });
    expect(hasExtendedKeyUsage(rogue.cert, HUB_SIGNING_EKU)).to.equal(true);
    const xml = buildSignedReceipt(receiptData(T0), {
      ...(await keyOf(rogue)),
      chainPem: [rogueRoot.cert.toString('pem')],
    });
    expect((await refusal(verifyReceipt(xml, { trust, pins }))).code).to.equal('HUB_SIGNER_NOT_PINNED');
    // Pinned by mistake, it still does not chain to a trusted root.
    const misPinned = [...pins, certificateFingerprint(rogue.cert)];
    expect((await refusal(verifyReceipt(xml, { trust, pins: misPinned }))).code).to.equal('CERT_UNTRUSTED');
  });

  it('refuses a receipt signed by a genuine hub certificate past its validity at the time the receipt states (HUB_SIGNER_EXPIRED)', async () => {
    const xml = buildSignedReceipt(receiptData(T0), await keyOf(retired));
    const err = await refusal(verifyReceipt(xml, { trust, pins }));
    expect(err.code).to.equal('HUB_SIGNER_EXPIRED');
    expect(err.message).to.contain(T0.toISOString());
  });

  it('refuses a receipt dated before its hub certificate was valid (HUB_SIGNER_EXPIRED)', async () => {
    const xml = buildSignedReceipt(receiptData(days(-60)), await keyOf(hub));
    expect((await refusal(verifyReceipt(xml, { trust, pins }))).code).to.equal('HUB_SIGNER_EXPIRED');
  });

  it('keeps verifying a retired hub certificate’s receipts, at their own time, while it stays pinned', async () => {
    const xml = buildSignedReceipt(receiptData(days(-100)), await keyOf(retired));
    expect((await verifyReceipt(xml, { trust, pins })).receivedAt).to.equal(days(-100).toISOString());
    // Unpinned after the rotation window: refused.
    const err = await refusal(verifyReceipt(xml, { trust, pins: [pins[0]!] }));
    expect(err.code).to.equal('HUB_SIGNER_NOT_PINNED');
  });

  it('refuses a receipt signed by the right certificate when its fingerprint is not pinned (HUB_SIGNER_NOT_PINNED)', async () => {
    const xml = buildSignedReceipt(receiptData(T0), await keyOf(hub));
    const err = await refusal(verifyReceipt(xml, { trust, pins: [pins[1]!] }));
    expect(err.code).to.equal('HUB_SIGNER_NOT_PINNED');
  });

  it('refuses every receipt when no hub certificate is pinned, instead of accepting any chain (HUB_PINS_MISSING)', async () => {
    const xml = buildSignedReceipt(receiptData(T0), await keyOf(hub));
    expect((await refusal(verifyReceipt(xml, { trust, pins: [] }))).code).to.equal('HUB_PINS_MISSING');
  });

  it('refuses a receipt whose stated time was moved after signing (SIGNATURE_INVALID)', async () => {
    const xml = buildSignedReceipt(receiptData(T0), await keyOf(hub)).replace(
      T0.toISOString(),
      days(1).toISOString(),
    );
    expect((await refusal(verifyReceipt(xml, { trust, pins }))).code).to.equal('SIGNATURE_INVALID');
  });

  it('accepts a push request signed by the hub, and refuses one an agency signed (HUB_SIGNER_NOT_HUB) or whose body changed (SIGNATURE_INVALID)', async () => {
    const body = Buffer.from('<edXML/>');
    const ts = Math.floor(T0.getTime() / 1000);
    const sign = (pem: string, b: Uint8Array) =>
      createSign('sha256')
        .update(pushSignatureInput('d-1', ts, b))
        .sign(pem, 'base64');
    const hubKey = await keyOf(hub);
    const headers = { deliveryId: 'd-1', timestamp: String(ts), signature: sign(hubKey.privateKeyPem, body) };
    const chain = await verifyPushRequest(headers, body, hubKey.certificatePem, { trust, pins });
    expect(chain.fingerprintSha256).to.equal(pins[0]);
    const changed = Buffer.from('<edXML>x</edXML>');
    expect(
      (await refusal(verifyPushRequest(headers, changed, hubKey.certificatePem, { trust, pins }))).code,
    ).to.equal('SIGNATURE_INVALID');
    const agency = loadSigningKey(
      path.join(CERTS, 'agencies/D29.001.pem'),
      path.join(CERTS, 'agencies/D29.001.key.pem'),
    );
    const forged = { ...headers, signature: sign(agency.privateKeyPem, body) };
    expect(
      (await refusal(verifyPushRequest(forged, body, agency.certificatePem, { trust, pins }))).code,
    ).to.equal('HUB_SIGNER_NOT_HUB');
  });

  it('finds the hub EKU among other extended key usages, and not in certificates without it', async () => {
    const both = await issueCertificate({
      subject: 'CN=two usages',
      issuer: stateCa,
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.2', HUB_SIGNING_EKU],
    });
    expect(hasExtendedKeyUsage(both.cert, HUB_SIGNING_EKU)).to.equal(true);
    expect(hasExtendedKeyUsage(both.cert, '1.3.6.1.5.5.7.3.2')).to.equal(true);
    expect(hasExtendedKeyUsage(both.cert, '2.25.1')).to.equal(false);
    expect(hasExtendedKeyUsage(stateCa.cert, HUB_SIGNING_EKU)).to.equal(false);
  });

  it('the development hub certificate carries the hub EKU and is pinned in config/default.json', () => {
    const config = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/default.json'), 'utf8')) as {
      pki: { hubPins: string[]; hubSigningEku: string };
    };
    const dev = loadSigningKey(path.join(CERTS, 'hub.pem'), path.join(CERTS, 'hub.key.pem'));
    const cert = new x509.X509Certificate(dev.certificatePem);
    expect(config.pki.hubSigningEku).to.equal(HUB_SIGNING_EKU);
    expect(hasExtendedKeyUsage(cert, HUB_SIGNING_EKU)).to.equal(true);
    expect(config.pki.hubPins).to.include(certificateFingerprint(cert));
  });
});
