/**
 * Writes the signature-profile corpus to test/fixtures/signatures/, one file per case, named by the
 * expected outcome: `accepted--<case>.edxml` or `refused-<CODE>--<case>.edxml`. The files are signed
 * with the development certificates of certs-dev/; regenerate after `npm run dev-pki -- --force`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { buildEdxml } from '../src/domain/edxml/index.ts';
import { loadSigningKey, signEdxml } from '../src/crypto/signature.ts';
import { documentMessage, statusMessage } from '../test/support/messages.ts';

const dir = path.join(PROJECT_ROOT, 'test/fixtures/signatures');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const certs = path.join(PROJECT_ROOT, 'certs-dev');
const key = (rel: string) =>
  loadSigningKey(path.join(certs, `${rel}.pem`), path.join(certs, `${rel}.key.pem`));
const doc = () => buildEdxml(documentMessage('H29.001', ['H41.001']));
const ok = signEdxml(doc(), key('agencies/H29.001'));
const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(ok)![0];
const header = /<edXML:edXMLHeader>[\s\S]*<\/edXML:edXMLHeader>/.exec(ok)![0];
const otherCert = readFileSync(path.join(certs, 'agencies/H41.001.pem'), 'utf8').replace(
  /-----[A-Z ]+-----|\s+/g,
  '',
);
const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

const cases: Record<string, string> = {
  'accepted--valid-rsa-document': ok,
  'accepted--valid-ecdsa-status': signEdxml(
    buildEdxml(statusMessage('H29.001', documentMessage('H41.001', ['H29.001']), '01')),
    key('test/ecdsa-H29.001'),
  ),
  'refused-SIGNATURE_INVALID--changed-header': ok.replace('Nội dung công văn', 'Nội dung khác'),
  'refused-SIGNATURE_INVALID--changed-attachment': flip(
    ok,
    ok.indexOf('<edXML:ContentTransferEncoded>') + 40,
  ),
  'refused-SIGNATURE_INVALID--wrapped-header': ok.replace(
    header,
    header
      .replace(sig, '')
      .replace('V/v triển khai', 'V/v bãi bỏ')
      .replace('</edXML:edXMLHeader>', `${sig}</edXML:edXMLHeader>`) +
      `<Wrapper>${header.replace(sig, '')}</Wrapper>`,
  ),
  'refused-SIGNATURE_INVALID--keyinfo-certificate-swapped': ok.replace(
    /<ds:X509Certificate>[^<]+<\/ds:X509Certificate>/,
    `<ds:X509Certificate>${otherCert}</ds:X509Certificate>`,
  ),
  'refused-SIGNATURE_PROFILE_VIOLATION--two-signatures': ok.replace(
    '</edXML:edXMLBody>',
    `${sig}</edXML:edXMLBody>`,
  ),
  'refused-SIGNATURE_PROFILE_VIOLATION--fragment-reference': ok.replace('URI=""', 'URI="#body"'),
  'refused-SIGNATURE_ALGORITHM_FORBIDDEN--sha1-digest': ok.replace(
    'http://www.w3.org/2001/04/xmlenc#sha256',
    'http://www.w3.org/2000/09/xmldsig#sha1',
  ),
  'refused-SIGNATURE_ALGORITHM_FORBIDDEN--rsa-sha1': ok.replace(
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  ),
  'refused-SIGNATURE_ALGORITHM_FORBIDDEN--hmac': ok.replace(
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
  ),
  'refused-SIGNATURE_MISSING--unsigned': doc(),
  'refused-XML_DOCTYPE_FORBIDDEN--external-entity': ok.replace(
    '<edXML ',
    '<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><edXML ',
  ),
  'refused-XML_DOCTYPE_FORBIDDEN--billion-laughs':
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><edXML>&lol2;</edXML>',
  'refused-XML_PROLOG_INVALID--stray-bytes': '1212' + ok,
  'refused-XML_LIMITS_EXCEEDED--too-deep': '<edXML>' + '<a>'.repeat(100) + '</a>'.repeat(100) + '</edXML>',
  'refused-XML_MALFORMED--unclosed-element':
    '<?xml version="1.0"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><a></edXML>',
  'refused-CERT_EXPIRED--expired-certificate': signEdxml(doc(), key('test/expired-H29.001')),
  'refused-CERT_NOT_YET_VALID--not-yet-valid-certificate': signEdxml(
    doc(),
    key('test/not-yet-valid-H29.001'),
  ),
  'refused-CERT_REVOKED--revoked-certificate': signEdxml(doc(), key('test/revoked-H29.001')),
  'refused-CERT_UNTRUSTED--self-signed': signEdxml(doc(), key('test/self-signed-H29.001')),
  'refused-CERT_UNTRUSTED--unknown-issuer': signEdxml(doc(), key('test/unknown-issuer-H29.001')),
  'refused-CERT_KEY_USAGE--key-encipherment-only': signEdxml(doc(), key('test/wrong-key-usage-H29.001')),
};
for (const [name, xml] of Object.entries(cases)) writeFileSync(path.join(dir, `${name}.edxml`), xml);
console.log(`${Object.keys(cases).length} fixtures written to ${dir}`);
