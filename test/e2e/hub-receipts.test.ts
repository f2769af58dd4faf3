/**
 * Only the hub issues receipts and evidence (issue 18 §1), end to end: the hub publishes its signing
 * certificates; the SDK, hubctl receipt verify and hubctl evidence verify accept the hub's receipts
 * and refuse ones an agency signed with its own key, each with the code naming why; the CLI verifiers
 * check revocation in `require` mode unless told otherwise (§6).
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { PROJECT_ROOT } from '../../src/config.ts';
import { HUB_SIGNING_EKU } from '../../src/crypto/hub-signed.ts';
import { buildSignedReceipt, verifyReceipt } from '../../src/crypto/receipt.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { HubClient } from '../../src/sdk/client.ts';
import { SdkError } from '../../src/sdk/errors.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { hubctlAsync } from '../support/hubctl.ts';
import { documentMessage, signed } from '../support/messages.ts';

const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('receipts and evidence only the hub can issue', function () {
  this.timeout(120_000);
  let t: TestHub;
  let trust: TrustStore;
  let pins: string[];
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-receipts-'));
  const sdk = (code: string, extra: Partial<ConstructorParameters<typeof HubClient>[0]> = {}) =>
    new HubClient({
      baseUrl: t.url,
      systemId: `dms-${code}`,
      secret: `DEV-ONLY-secret-${code}`,
      trust,
      hubPins: pins,
      ...extra,
    });
  /** A receipt agency D29.001 signs with its own key, for a message the hub never saw, dated in the past. */
  const forgedReceipt = (over: { documentId?: string; sha256?: string; senderCode?: string } = {}) =>
    buildSignedReceipt(
      {
        receiptId: 'forged-1',
        documentId: over.documentId ?? `D29.001,2026/11/23,${randomBytes(3).toString('hex')}/VP`,
        senderCode: over.senderCode ?? 'D29.001',
        sha256: over.sha256 ?? sha256(randomBytes(32)),
        receivedAt: '2026-11-23T01:00:00.000Z',
        recipients: [{ code: 'H41.001', outcome: 'accepted', deliveredTo: 'H41.001' }],
      },
      t.signingKey('D29.001'),
    );

  before(async () => {
    t = await startTestHub('hubreceipts');
    trust = await TrustStore.fromDirectory(CERTS);
    pins = [...t.hub.config.pki.hubPins];
  });
  after(async () => {
    await t?.close();
  });

  it('publishes its signing certificates, without authentication, with the pinned fingerprint and the EKU', async () => {
    const res = await fetch(`${t.url}/v1/hub/certificates`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { signingEku: string; certificates: { fingerprintSha256: string }[] };
    expect(body.signingEku).to.equal(HUB_SIGNING_EKU);
    expect(body.certificates[0]!.fingerprintSha256).to.equal(pins[0]);
    expect((await sdk('H29.001').hubCertificates()).certificates).to.have.length(1);
    const spec = (await (await fetch(`${t.url}/v1/openapi.json`)).json()) as { paths: object };
    expect(spec.paths).to.have.property('/v1/hub/certificates');
  });

  it('the SDK verifies the hub’s receipt against the pinned certificates', async () => {
    const r = await sdk('H29.001').submit(
      signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')),
    );
    expect(r.verifiedReceipt?.signer.fingerprintSha256).to.equal(pins[0]);
  });

  it('the SDK refuses a receipt an agency signed in the hub’s place (RECEIPT_INVALID, HUB_SIGNER_NOT_HUB)', async () => {
    const impostor: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input instanceof Request ? input.url : input).endsWith('/v1/documents')) return res;
      const body = (await res.json()) as { documentId: string; sha256: string };
      const receipt = forgedReceipt({
        documentId: body.documentId,
        sha256: body.sha256,
        senderCode: 'H29.001',
      });
      return new Response(JSON.stringify({ ...body, receipt }), {
        status: res.status,
        headers: { 'content-type': 'application/json' },
      });
    };
    const err = await sdk('H29.001', { fetch: impostor })
      .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')))
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SdkError);
    expect((err as SdkError).code).to.equal('RECEIPT_INVALID');
    expect((err as SdkError).details).to.include({ code: 'HUB_SIGNER_NOT_HUB' });
  });

  it('the SDK with a trust store but no pins refuses to submit, and the hub receives nothing', async () => {
    const before = await t.hub.stores.models.Document.countDocuments();
    const err = await sdk('H29.001', { hubPins: [] })
      .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')))
      .catch((e: unknown) => e);
    expect((err as SdkError).code).to.equal('USAGE');
    expect(await t.hub.stores.models.Document.countDocuments()).to.equal(before);
  });

  it('hubctl receipt verify accepts the hub’s receipt and refuses an agency-signed one (HUB_SIGNER_NOT_HUB)', async () => {
    const msg = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001'));
    const r = await sdk('H29.001').submit(msg);
    const files = {
      msg: path.join(dir, 'msg.edxml'),
      good: path.join(dir, 'good.xml'),
      bad: path.join(dir, 'bad.xml'),
    };
    writeFileSync(files.msg, msg);
    writeFileSync(files.good, r.receipt);
    writeFileSync(files.bad, forgedReceipt());
    const ok = await hubctlAsync(['--json', 'receipt', 'verify', files.good, '--message', files.msg]);
    expect(ok.code, ok.err).to.equal(0);
    expect(JSON.parse(ok.out)).to.include({ ok: true, coversMessage: true });
    const forged = await hubctlAsync(['--json', 'receipt', 'verify', files.bad]);
    expect(forged.code).to.equal(3);
    expect(JSON.parse(forged.out)).to.include({ ok: false, code: 'HUB_SIGNER_NOT_HUB' });
    const unpinned = await hubctlAsync([
      '--json',
      'receipt',
      'verify',
      files.good,
      '--hub-pin',
      'ab'.repeat(32),
    ]);
    expect(JSON.parse(unpinned.out)).to.include({ ok: false, code: 'HUB_SIGNER_NOT_PINNED' });
  });

  it('hubctl receipt verify requires revocation data by default, and relaxes only when told (--revocation prefer)', async () => {
    const noCrls = mkdtempSync(path.join(tmpdir(), 'trust-no-crl-'));
    for (const f of ['root-ca.pem', 'state-ca.pem', 'party-ca.pem'])
      copyFileSync(path.join(CERTS, f), path.join(noCrls, f));
    const r = await sdk('H29.001').submit(
      signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')),
    );
    const file = path.join(dir, 'receipt.xml');
    writeFileSync(file, r.receipt);
    const strict = await hubctlAsync(['--json', 'receipt', 'verify', file, '--trust', noCrls]);
    expect(JSON.parse(strict.out)).to.include({ ok: false, code: 'CERT_REVOCATION_UNKNOWN' });
    const relaxed = await hubctlAsync([
      '--json',
      'receipt',
      'verify',
      file,
      '--trust',
      noCrls,
      '--revocation',
      'prefer',
    ]);
    expect(relaxed.code, relaxed.err).to.equal(0);
  });

  it('hubctl evidence verify refuses a bundle whose receipt an agency signed (HUB_SIGNER_NOT_HUB)', async () => {
    const msg = documentMessage('H29.001', ['H41.001']);
    const sent = await sdk('H29.001').submit(signed(msg, t.signingKey('H29.001')));
    await eventually(async () => (await t.client('H41.001').inbox()).items.length > 0, 15_000, 'delivery');
    const res = await t.client('H29.001').request('GET', `/v1/documents/${sent.docId}/evidence`);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const good = path.join(dir, 'good.zip');
    writeFileSync(good, zipSync(files));
    const ok = await hubctlAsync(['--json', 'evidence', 'verify', good]);
    expect(ok.code, ok.out).to.equal(0);
    expect(JSON.parse(ok.out)).to.include({ ok: true, verifiedAt: sent.receivedAt });

    // Same content, signed by the sending agency instead of the hub; the manifest's hash updated to match.
    const genuine = await verifyReceipt(files['receipt.xml']!, { trust, pins });
    const forged = strToU8(buildSignedReceipt(genuine, t.signingKey('H29.001')));
    const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8')) as {
      files: Record<string, string>;
    };
    manifest.files['receipt.xml'] = sha256(forged);
    const bad = path.join(dir, 'forged.zip');
    writeFileSync(
      bad,
      zipSync({ ...files, 'receipt.xml': forged, 'manifest.json': strToU8(JSON.stringify(manifest)) }),
    );
    const refused = await hubctlAsync(['--json', 'evidence', 'verify', bad]);
    expect(refused.code).to.equal(1);
    expect(JSON.parse(refused.out)).to.include({ ok: false, code: 'HUB_SIGNER_NOT_HUB' });
  });
});
