/**
 * End-to-end encryption through the real hub: encrypt for the recipients, then sign; the hub
 * verifies and relays without decrypting; only the recipients can decrypt.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { buildEdxml, parseEdxml, type EdocMessage } from '../../src/domain/edxml/index.ts';
import { decryptEdxml, encryptEdxml, isEncrypted } from '../../src/crypto/encryption.ts';
import { signEdxml, verifyEdxml } from '../../src/crypto/signature.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { HubError } from '../../src/domain/errors.ts';
import { devSigningKey, eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage } from '../support/messages.ts';

const certOf = (code: string) =>
  readFileSync(path.join(PROJECT_ROOT, 'certs-dev/agencies', `${code}.pem`), 'utf8');

describe('end-to-end encryption (XML Encryption 1.1, AES-256-GCM + RSA-OAEP-SHA256)', function () {
  this.timeout(60_000);
  let t: TestHub;
  let msg: EdocMessage;
  let wire: string;

  before(async () => {
    t = await startTestHub('encryption');
    msg = documentMessage('H29.001', ['H41.001', 'D41.001']);
    const encrypted = encryptEdxml(buildEdxml(msg), [
      { code: 'H41.001', certificatePem: certOf('H41.001') },
      { code: 'D41.001', certificatePem: certOf('D41.001') },
    ]);
    wire = signEdxml(encrypted, devSigningKey('H29.001'));
  });
  after(async () => {
    await t?.close();
  });

  it('leaves the header in clear and the body and attachments unreadable', () => {
    expect(isEncrypted(wire)).to.equal(true);
    expect(wire).to.contain(msg.documentId.split(',')[0]!);
    expect(wire).to.not.contain(msg.attachments[0]!.contentBase64.slice(0, 40));
    expect(wire).to.not.contain('congvan.pdf<');
  });

  it('is accepted by the hub (signature verified without decrypting) and delivered to each recipient, who decrypt it', async () => {
    const r = await t.client('H29.001').submit(wire);
    expect(r.recipients.map((x) => x.outcome)).to.deep.equal(['accepted', 'accepted']);
    const trust = await TrustStore.fromDirectory(path.join(PROJECT_ROOT, 'certs-dev'));
    for (const code of ['H41.001', 'D41.001']) {
      const c = t.client(code);
      const item = await eventually(
        async () => (await c.inbox()).items.find((i) => i.documentId === msg.documentId),
        15_000,
        `delivery to ${code}`,
      );
      const bytes = await c.download(item.id);
      await verifyEdxml(bytes, trust);
      const plain = decryptEdxml(bytes.toString('utf8'), {
        certificatePem: certOf(code),
        privateKeyPem: devSigningKey(code).privateKeyPem,
      });
      const back = parseEdxml(plain);
      expect(back.kind).to.equal('edoc');
      if (back.kind !== 'edoc') return;
      expect(back.attachments).to.deep.equal(msg.attachments);
      expect(back.manifest).to.deep.equal(msg.manifest);
    }
  });

  it('cannot be decrypted by an agency it was not encrypted for', () => {
    expect(() =>
      decryptEdxml(wire, {
        certificatePem: certOf('M29.001'),
        privateKeyPem: devSigningKey('M29.001').privateKeyPem,
      }),
    )
      .to.throw(HubError)
      .with.property('code', 'FORBIDDEN');
  });

  it('detects a modified ciphertext (GCM integrity)', () => {
    const m = /(<xenc:CipherValue>)([^<]{60})/.exec(wire.slice(wire.indexOf('EncryptedData')))!;
    const flipped = m[2]!.slice(0, 30) + (m[2]![30] === 'A' ? 'B' : 'A') + m[2]!.slice(31);
    const tampered = wire.replace(m[2]!, flipped);
    expect(() =>
      decryptEdxml(tampered, {
        certificatePem: certOf('H41.001'),
        privateKeyPem: devSigningKey('H41.001').privateKeyPem,
      }),
    ).to.throw(/integrity|unwrapped/);
  });
});
