/**
 * The strict signature profile against a corpus of bad inputs, each named by its expected outcome.
 * Time is pinned (AT), never the wall clock.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createSign } from 'node:crypto';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { buildEdxml } from '../../../src/domain/edxml/index.ts';
import { loadSigningKey, signEdxml, verifyEdxml, type SigningKey } from '../../../src/crypto/signature.ts';
import { TrustStore } from '../../../src/crypto/trust.ts';
import { refusal } from '../../support/refusal.ts';
import { documentMessage, statusMessage } from '../../support/messages.ts';
import { CERTS_DEV_AT } from '../../support/pinned-time.ts';

const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const AT = CERTS_DEV_AT;
const key = (rel: string): SigningKey =>
  loadSigningKey(path.join(CERTS, `${rel}.pem`), path.join(CERTS, `${rel}.key.pem`));
const agency = key('agencies/H29.001');

describe('strict XML signature profile', function () {
  this.timeout(20_000);
  let trust: TrustStore;
  let signedDoc: string;

  before(async () => {
    trust = await TrustStore.fromDirectory(CERTS, { now: () => AT });
    signedDoc = signEdxml(buildEdxml(documentMessage('H29.001', ['H41.001'])), agency);
  });

  const verify = (xml: string | Buffer, t = trust) =>
    verifyEdxml(typeof xml === 'string' ? Buffer.from(xml) : xml, t, { at: AT });

  describe('accepts', () => {
    it('a document signed with an RSA agency certificate, and returns the signed canonical XML', async () => {
      const v = await verify(signedDoc);
      expect(v.signatureAlgorithm).to.equal('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
      expect(v.signer.leaf.subject).to.contain('O=H29.001');
      expect(v.signedXml).to.contain('V/v triển khai chính quyền địa phương hai cấp');
      expect(v.signedXml).to.not.contain('SignatureValue');
      expect(v.signer.revocation.checked).to.equal(true);
    });

    it('a status message signed with an ECDSA P-256 certificate', async () => {
      const m = documentMessage('H41.001', ['H29.001']);
      const v = await verify(
        signEdxml(buildEdxml(statusMessage('H29.001', m, '01')), key('test/ecdsa-H29.001')),
      );
      expect(v.signatureAlgorithm).to.equal('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256');
    });
  });

  describe('refuses', () => {
    it('a message whose header text changed after signing', async () => {
      expect((await refusal(verify(signedDoc.replace('Nội dung công văn', 'Nội dung khác')))).code).to.equal(
        'SIGNATURE_INVALID',
      );
    });

    it('a message whose attachment changed after signing', async () => {
      const i = signedDoc.indexOf('<edXML:ContentTransferEncoded>') + 40;
      const tampered = signedDoc.slice(0, i) + (signedDoc[i] === 'A' ? 'B' : 'A') + signedDoc.slice(i + 1);
      expect((await refusal(verify(tampered))).code).to.equal('SIGNATURE_INVALID');
    });

    it('a recipient added to the header after signing', async () => {
      const tampered = signedDoc.replace(
        '<edXML:DocumentId>',
        '<edXML:To><edXML:OrganId>D29.001</edXML:OrganId></edXML:To><edXML:DocumentId>',
      );
      expect((await refusal(verify(tampered))).code).to.equal('SIGNATURE_INVALID');
    });

    it('signature wrapping: the signed header moved aside and an evil header in its place', async () => {
      const header = /<edXML:edXMLHeader>[\s\S]*<\/edXML:edXMLHeader>/.exec(signedDoc)![0];
      const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(header)![0];
      const evil = header.replace(sig, '').replace('V/v triển khai', 'V/v bãi bỏ');
      const wrapped = signedDoc.replace(
        header,
        evil.replace('</edXML:edXMLHeader>', `${sig}</edXML:edXMLHeader>`) +
          `<Wrapper>${header.replace(sig, '')}</Wrapper>`,
      );
      expect((await refusal(verify(wrapped))).code).to.equal('SIGNATURE_INVALID');
    });

    it('signature wrapping: a second signed copy of the message inside the Signature Object', async () => {
      const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signedDoc)![0];
      const withObject = sig.replace(
        '</ds:Signature>',
        `<ds:Object>${signedDoc.replace(/<\?xml[^>]*>\s*/, '').replace(sig, '')}</ds:Object></ds:Signature>`,
      );
      const evil = signedDoc.replace(sig, withObject).replace('V/v triển khai', 'V/v bãi bỏ');
      expect((await refusal(verify(evil))).code).to.be.oneOf([
        'SIGNATURE_INVALID',
        'SIGNATURE_PROFILE_VIOLATION',
      ]);
    });

    it('a second Signature element', async () => {
      const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signedDoc)![0];
      const e = await refusal(verify(signedDoc.replace('</edXML:edXMLBody>', `${sig}</edXML:edXMLBody>`)));
      expect(e.code).to.equal('SIGNATURE_PROFILE_VIOLATION');
      expect(e.message).to.contain('exactly one Signature');
    });

    it('a Reference to a fragment instead of the whole message', async () => {
      const e = await refusal(verify(signedDoc.replace('URI=""', 'URI="#body"')));
      expect(e.code).to.equal('SIGNATURE_PROFILE_VIOLATION');
      expect(e.message).to.contain('URI=""');
    });

    it('a SHA-1 digest', async () => {
      const x = signedDoc.replace(
        'http://www.w3.org/2001/04/xmlenc#sha256',
        'http://www.w3.org/2000/09/xmldsig#sha1',
      );
      expect((await refusal(verify(x))).code).to.equal('SIGNATURE_ALGORITHM_FORBIDDEN');
    });

    it('an rsa-sha1 signature method', async () => {
      const x = signedDoc.replace(
        'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      );
      expect((await refusal(verify(x))).code).to.equal('SIGNATURE_ALGORITHM_FORBIDDEN');
    });

    it('an HMAC signature method', async () => {
      const x = signedDoc.replace(
        'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
      );
      expect((await refusal(verify(x))).code).to.equal('SIGNATURE_ALGORITHM_FORBIDDEN');
    });

    it('a message without a signature', async () => {
      const x = buildEdxml(documentMessage('H29.001', ['H41.001']));
      expect((await refusal(verify(x))).code).to.equal('SIGNATURE_MISSING');
    });

    it('a DOCTYPE with an external entity (XXE)', async () => {
      const x = signedDoc.replace(
        '<edXML ',
        '<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><edXML ',
      );
      expect((await refusal(verify(x))).code).to.equal('XML_DOCTYPE_FORBIDDEN');
    });

    it('entity expansion (billion laughs)', async () => {
      const lol =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><edXML>&lol2;</edXML>';
      expect((await refusal(verify(lol))).code).to.equal('XML_DOCTYPE_FORBIDDEN');
    });

    it('stray bytes before the XML declaration, naming them', async () => {
      const e = await refusal(verify('1212' + signedDoc));
      expect(e.code).to.equal('XML_PROLOG_INVALID');
      expect(e.message).to.contain('"1212"');
    });

    it('excessive depth, element count and size', async () => {
      const deep = '<edXML>' + '<a>'.repeat(100) + '</a>'.repeat(100) + '</edXML>';
      expect((await refusal(verify(deep))).code).to.equal('XML_LIMITS_EXCEEDED');
      const wide = '<edXML>' + '<a/>'.repeat(30_000) + '</edXML>';
      expect((await refusal(verify(wide))).code).to.equal('XML_LIMITS_EXCEEDED');
      const e = await refusal(
        verifyEdxml(Buffer.from(signedDoc), trust, {
          at: AT,
          limits: { maxBytes: 1000, maxDepth: 64, maxElements: 20000 },
        }),
      );
      expect(e.code).to.equal('PAYLOAD_TOO_LARGE');
    });

    it('bytes that are not UTF-8', async () => {
      const b = Buffer.concat([
        Buffer.from('<?xml version="1.0"?><edXML>'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('</edXML>'),
      ]);
      expect((await refusal(verify(b))).code).to.equal('XML_MALFORMED');
    });

    it('a certificate that is trusted but did not make the signature (key swap in KeyInfo)', async () => {
      const other = readFileSync(path.join(CERTS, 'agencies/H41.001.pem'), 'utf8').replace(
        /-----[A-Z ]+-----|\s+/g,
        '',
      );
      const x = signedDoc.replace(
        /<ds:X509Certificate>[^<]+<\/ds:X509Certificate>/,
        `<ds:X509Certificate>${other}</ds:X509Certificate>`,
      );
      expect((await refusal(verify(x))).code).to.equal('SIGNATURE_INVALID');
    });

    const certCases: [string, string][] = [
      ['expired-H29.001', 'CERT_EXPIRED'],
      ['not-yet-valid-H29.001', 'CERT_NOT_YET_VALID'],
      ['revoked-H29.001', 'CERT_REVOKED'],
      ['self-signed-H29.001', 'CERT_UNTRUSTED'],
      ['unknown-issuer-H29.001', 'CERT_UNTRUSTED'],
      ['wrong-key-usage-H29.001', 'CERT_KEY_USAGE'],
    ];
    for (const [file, code] of certCases) {
      it(`a message signed with the ${file.replace('-H29.001', '')} certificate (${code})`, async () => {
        const x = signEdxml(buildEdxml(documentMessage('H29.001', ['H41.001'])), key(`test/${file}`));
        expect((await refusal(verify(x))).code).to.equal(code);
      });
    }

    it('any certificate when revocation data is required but missing', async () => {
      const noCrl = TrustStore.create({
        roots: [readFileSync(path.join(CERTS, 'root-ca.pem'), 'utf8')],
        intermediates: [readFileSync(path.join(CERTS, 'state-ca.pem'), 'utf8')],
        revocation: 'require',
      });
      expect((await refusal(verify(signedDoc, noCrl))).code).to.equal('CERT_REVOCATION_UNKNOWN');
    });

    it('a Signature element whose value was made over other SignedInfo bytes', async () => {
      const si = /<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(signedDoc)![0];
      const bogus = createSign('sha256')
        .update(si + ' ')
        .sign(agency.privateKeyPem, 'base64');
      const x = signedDoc.replace(
        /<ds:SignatureValue>[^<]+<\/ds:SignatureValue>/,
        `<ds:SignatureValue>${bogus}</ds:SignatureValue>`,
      );
      expect((await refusal(verify(x))).code).to.equal('SIGNATURE_INVALID');
    });
  });

  describe('the public samples (placeholder signatures)', () => {
    const dir = path.join(PROJECT_ROOT, '..', 'shared', 'samples', 'edxml');
    const files = (() => {
      try {
        return readdirSync(dir).filter((f) => f.endsWith('.edxml'));
      } catch {
        return [];
      }
    })();
    for (const f of files) {
      it(`refuses ${f} with a precise reason`, async () => {
        const bytes = readFileSync(path.join(dir, f));
        const e = await refusal(verify(bytes));
        if (bytes.subarray(0, 4).toString() === '1212') {
          expect(e.code).to.equal('XML_PROLOG_INVALID');
          expect(e.message).to.contain('1212');
        } else if (bytes.includes('<Signature>')) {
          expect(e.code).to.equal('SIGNATURE_PROFILE_VIOLATION');
          expect(e.message).to.contain('without the XML-DSig namespace');
        } else {
          expect(e.code).to.equal('SIGNATURE_MISSING');
        }
      });
    }
  });
});
