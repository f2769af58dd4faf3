/**
 * The verification pool (src/crypto/verifier-pool.ts) in real worker threads: the same verified
 * result as in process, attachments without their content, and the byte budget that makes large
 * messages wait their turn instead of all being held in the workers at once.
 */
import { expect } from 'chai';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { VerifierPool } from '../../../src/crypto/verifier-pool.ts';
import { LocalVerifier } from '../../../src/crypto/verifier.ts';
import { TrustStore } from '../../../src/crypto/trust.ts';
import { ERROR_CODES, HubError } from '../../../src/domain/errors.ts';
import { devSigningKey } from '../../support/hub.ts';
import { documentMessage, signed } from '../../support/messages.ts';
import { CERTS_DEV_AT } from '../../support/pinned-time.ts';

const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const limits = { maxBytes: 50 * 1024 * 1024, maxDepth: 64, maxElements: 100_000 };

function withAttachment(bytes: number): Buffer {
  const content = Buffer.alloc(bytes, 7).toString('base64');
  const msg = documentMessage('H29.001', ['H41.001'], {
    attachments: [
      { contentId: 'a1', attachmentName: 'a.pdf', contentType: 'application/pdf', contentBase64: content },
    ],
  });
  return Buffer.from(signed(msg, devSigningKey('H29.001')));
}

describe('VerifierPool', function () {
  this.timeout(60_000);
  let pool: VerifierPool;
  before(async () => {
    pool = await VerifierPool.create({
      size: 1,
      trustDir: CERTS,
      revocation: 'off',
      maxCrlAgeSeconds: 86_400,
      limits,
      maxBytesInFlight: 1024 * 1024,
      at: CERTS_DEV_AT,
    });
  });
  after(async () => {
    await pool?.close();
  });

  it('answers as the in-process verifier does, without the attachment content', async () => {
    const bytes = withAttachment(100_000);
    const local = new LocalVerifier(
      await TrustStore.fromDirectory(CERTS, { revocation: 'off' }),
      limits,
      () => CERTS_DEV_AT,
    );
    const [a, b] = await Promise.all([pool.verify(bytes), local.verify(bytes)]);
    expect(a.message).to.deep.equal(b.message);
    expect(a.signer.fingerprintSha256).to.equal(b.signer.fingerprintSha256);
    // The certificates are decoded on this thread only when asked for, and then are the same.
    expect(a.signer.subject).to.equal(b.signer.leaf.subject);
    expect(a.signer.leaf.subject).to.equal(b.signer.leaf.subject);
    expect(a.signer.chain.map((c) => c.subject)).to.deep.equal(b.signer.chain.map((c) => c.subject));
    expect(a.signer.chain[0]).to.equal(a.signer.leaf);
    expect(a.signer.chain.length).to.be.greaterThan(1);
    expect(
      a.message.kind === 'edoc' && a.message.attachments.map((x) => [x.attachmentName, x.contentBase64]),
    ).to.deep.equal([['a.pdf', '']]);
  });

  it('lets in only what the byte budget allows, in order, and answers every request', async () => {
    const big = withAttachment(450_000); // ~0.6 MB as base64: one at a time under a 1 MiB budget
    const all = [pool.verify(big), pool.verify(big), pool.verify(big)];
    expect(pool.waiting).to.equal(2);
    expect(pool.bytesInFlight).to.equal(big.byteLength);
    const results = await Promise.all(all);
    expect(results.map((r) => r.message.kind)).to.deep.equal(['edoc', 'edoc', 'edoc']);
    expect(pool.waiting).to.equal(0);
  });

  it('refuses a tampered message with the worker’s error code, and frees its share of the budget', async () => {
    const bytes = withAttachment(10_000);
    const bad = Buffer.from(bytes.toString('utf8').replace('H41.001', 'H41.002'));
    const err = await pool.verify(bad).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HubError);
    expect((err as HubError).code).to.equal('SIGNATURE_INVALID');
    // The reason crosses the thread: in both messages, as the in-process verifier gives it.
    const reason = (err as HubError).reason!;
    expect(reason).to.be.a('string').and.not.equal('');
    expect((err as HubError).message).to.equal(`${ERROR_CODES.SIGNATURE_INVALID.en}: ${reason}`);
    expect((err as HubError).messageVi).to.equal(`${ERROR_CODES.SIGNATURE_INVALID.vi}: ${reason}`);
    expect(pool.bytesInFlight).to.equal(0);
    expect((await pool.verify(bytes)).message.kind).to.equal('edoc');
    expect(pool.bytesInFlight).to.equal(0);
  });

  it('checks the QCVN 102 structure on the verified bytes: SCHEMA_INVALID naming the element', async () => {
    const key = devSigningKey('H29.001');
    const bad = documentMessage('H29.001', ['H41.001'], {
      traceHeaders: [{ timestamp: '2026-11-22T09:00:00Z' }],
    });
    const err = await pool.verify(Buffer.from(signed(bad, key))).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HubError);
    expect((err as HubError).code).to.equal('SCHEMA_INVALID');
    expect((err as Error).message).to.contain('TraceHeader[1]/Timestamp must be yyyy/MM/dd HH:mm:ss');
    // A TraceHeader without OrganId, as national-axis messages carry them, is read.
    const good = documentMessage('H29.001', ['H41.001'], {
      traceHeaders: [{ timestamp: '2026/11/22 09:00:00' }],
    });
    const ok = await pool.verify(Buffer.from(signed(good, key)));
    expect(ok.message.kind === 'edoc' && ok.message.traceHeaders).to.deep.equal([
      { timestamp: '2026/11/22 09:00:00' },
    ]);
  });
});
