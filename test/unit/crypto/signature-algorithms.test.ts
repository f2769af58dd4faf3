/**
 * The algorithms docs/security.md §2 documents are exactly the ones the code accepts: the test reads
 * the documented list, compares it with the allow-lists in src/crypto/signature.ts, signs a message
 * with every documented (SignatureMethod, DigestMethod) pair and verifies it, and sees messages
 * genuinely signed with other algorithms refused. Time is pinned (AT).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignedXml } from 'xml-crypto';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { buildEdxml } from '../../../src/domain/edxml/index.ts';
import {
  DIGEST_ALGORITHMS,
  ENVELOPED,
  EXC_C14N,
  SIGNATURE_ALGORITHMS,
  loadSigningKey,
  signEdxml,
  verifyEdxml,
  type DigestAlgUri,
  type SigAlgUri,
  type SigningKey,
} from '../../../src/crypto/signature.ts';
import { TrustStore } from '../../../src/crypto/trust.ts';
import { refusal } from '../../support/refusal.ts';
import { documentMessage } from '../../support/messages.ts';
import { CERTS_DEV_AT } from '../../support/pinned-time.ts';

const CERTS = path.join(PROJECT_ROOT, 'certs-dev');
const AT = CERTS_DEV_AT;
const key = (rel: string): SigningKey =>
  loadSigningKey(path.join(CERTS, `${rel}.pem`), path.join(CERTS, `${rel}.key.pem`));
const RSA = key('agencies/H29.001');
const EC = key('test/ecdsa-H29.001');

/** `rsa-sha256/384/512` → rsa-sha256, rsa-sha384, rsa-sha512. */
function expand(item: string): string[] {
  const m = /^(.*?)(\d+)((?:\/\d+)*)$/.exec(item)!;
  return [m[2]!, ...m[3]!.split('/').filter(Boolean)].map((n) => `${m[1]}${n}`);
}

/** The algorithm names docs/security.md §2 lists (`SignatureMethod …; DigestMethod …`). */
function documented(): { signature: string[]; digest: string[] } {
  const doc = readFileSync(path.join(PROJECT_ROOT, 'docs/security.md'), 'utf8');
  const m = /SignatureMethod ((?:`[^`]+`,?\s*)+); DigestMethod ((?:`[^`]+`,?\s*)+)\./.exec(doc);
  expect(m, 'docs/security.md §2 lists SignatureMethod …; DigestMethod …').to.not.equal(null);
  const names = (s: string) => [...s.matchAll(/`([^`]+)`/g)].flatMap((x) => expand(x[1]!));
  return { signature: names(m![1]!), digest: names(m![2]!) };
}

const fragment = (uri: string) => uri.slice(uri.indexOf('#') + 1);

/** Signs with xml-crypto's own (complete) tables: a genuine signature with any algorithm it knows. */
function signWithAnyAlgorithm(xml: string, k: SigningKey, signature: string, digest: string): string {
  const sx = new SignedXml({
    privateKey: k.privateKeyPem,
    publicCert: k.certificatePem,
    signatureAlgorithm: signature,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sx.addReference({
    xpath: '/*',
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: digest,
    isEmptyUri: true,
  });
  sx.computeSignature(xml, {
    prefix: 'ds',
    location: {
      reference: "/*[local-name()='edXML']/*[local-name()='edXMLEnvelope']/*[local-name()='edXMLHeader']",
      action: 'append',
    },
  });
  return sx.getSignedXml();
}

describe('signature algorithms: docs/security.md §2 and the code agree', function () {
  this.timeout(30_000);
  let trust: TrustStore;
  const xml = buildEdxml(documentMessage('H29.001', ['H41.001']));
  const verify = (x: string) => verifyEdxml(Buffer.from(x), trust, { at: AT });

  before(async () => {
    trust = await TrustStore.fromDirectory(CERTS, { now: () => AT });
  });

  it('documents exactly the SignatureMethods and DigestMethods the code allows', () => {
    const doc = documented();
    expect([...doc.signature].sort()).to.deep.equal(Object.keys(SIGNATURE_ALGORITHMS).map(fragment).sort());
    expect([...doc.digest].sort()).to.deep.equal(Object.keys(DIGEST_ALGORITHMS).map(fragment).sort());
  });

  for (const sig of Object.keys(SIGNATURE_ALGORITHMS) as SigAlgUri[])
    for (const digest of Object.keys(DIGEST_ALGORITHMS) as DigestAlgUri[])
      it(`verifies a message signed with ${fragment(sig)} and a ${fragment(digest)} digest`, async () => {
        const k = SIGNATURE_ALGORITHMS[sig].key === 'ec' ? EC : RSA;
        const v = await verify(signEdxml(xml, k, { signature: sig, digest }));
        expect([v.signatureAlgorithm, v.digestAlgorithm]).to.deep.equal([sig, digest]);
        expect(v.signedXml).to.contain('V/v triển khai chính quyền địa phương hai cấp');
      });

  it('refuses a message genuinely signed with rsa-sha1, or with a SHA-1 digest', async () => {
    const rsaSha1 = signWithAnyAlgorithm(
      xml,
      RSA,
      'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      'http://www.w3.org/2001/04/xmlenc#sha256',
    );
    expect((await refusal(verify(rsaSha1))).code).to.equal('SIGNATURE_ALGORITHM_FORBIDDEN');
    const sha1Digest = signWithAnyAlgorithm(
      xml,
      RSA,
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'http://www.w3.org/2000/09/xmldsig#sha1',
    );
    expect((await refusal(verify(sha1Digest))).code).to.equal('SIGNATURE_ALGORITHM_FORBIDDEN');
  });

  it('refuses an algorithm the docs do not list (RSA-PSS sha256-rsa-MGF1)', async () => {
    const pss = signWithAnyAlgorithm(
      xml,
      RSA,
      'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
      'http://www.w3.org/2001/04/xmlenc#sha256',
    );
    expect((await refusal(verify(pss))).code).to.equal('SIGNATURE_ALGORITHM_FORBIDDEN');
  });
});
