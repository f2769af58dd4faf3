/**
 * End-to-end encryption of edXML documents for their recipients (W3C XML Encryption 1.1):
 *   - one random content key per message; the edXMLBody element and the AttachmentEncoded element
 *     are each replaced by an xenc:EncryptedData (Type Element, AES-256-GCM, CipherValue =
 *     IV(12) || ciphertext || tag(16), as XML Encryption 1.1 §5.2.4 specifies);
 *   - the content key is wrapped for every recipient with RSA-OAEP (SHA-256 digest, MGF1-SHA-256)
 *     under the recipient's registered certificate, in an xenc:EncryptedKey named by the
 *     certificate's SHA-256 (dsig11:X509Digest) and the recipient code;
 *   - the header (routing metadata) stays in clear. Encrypt, then sign: the hub verifies the
 *     signature without decrypting, never holds a recipient key and never sees the plaintext.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  createPublicKey,
} from 'node:crypto';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { HubError } from '../domain/errors.ts';
import { EDXML_NS } from '../domain/edxml/model.ts';
import { x509 } from './x509.ts';
import { DSIG_NS } from './signature.ts';

export const XENC_NS = 'http://www.w3.org/2001/04/xmlenc#';
export const XENC11_NS = 'http://www.w3.org/2009/xmlenc11#';
export const DSIG11_NS = 'http://www.w3.org/2009/xmldsig11#';
const AES256_GCM = 'http://www.w3.org/2009/xmlenc11#aes256-gcm';
const RSA_OAEP = 'http://www.w3.org/2009/xmlenc11#rsa-oaep';
const MGF1_SHA256 = 'http://www.w3.org/2009/xmlenc11#mgf1sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const TYPE_ELEMENT = 'http://www.w3.org/2001/04/xmlenc#Element';

export interface RecipientKey {
  readonly code: string;
  readonly certificatePem: string;
}

function der(pem: string): Buffer {
  return Buffer.from(new x509.X509Certificate(pem).rawData);
}

function certDigest(pem: string): string {
  return createHash('sha256').update(der(pem)).digest('base64');
}

function gcmEncrypt(key: Buffer, plain: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64');
}

function gcmDecrypt(key: Buffer, b64: string): Buffer {
  const all = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
  if (all.length < 28) throw new HubError('VALIDATION_FAILED', 'CipherValue too short');
  const d = createDecipheriv('aes-256-gcm', key, all.subarray(0, 12));
  d.setAuthTag(all.subarray(all.length - 16));
  try {
    return Buffer.concat([d.update(all.subarray(12, all.length - 16)), d.final()]);
  } catch {
    throw new HubError('VALIDATION_FAILED', 'the encrypted content fails its integrity check');
  }
}

function parse(xml: string): Document {
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (m: string) => {
        throw new HubError('XML_MALFORMED', m);
      },
      fatalError: (m: string) => {
        throw new HubError('XML_MALFORMED', m);
      },
    },
  }).parseFromString(xml, 'text/xml');
  return doc;
}

function encryptedData(id: string, keyName: string, cipherValue: string): string {
  return (
    `<xenc:EncryptedData xmlns:xenc="${XENC_NS}" Id="${id}" Type="${TYPE_ELEMENT}">` +
    `<xenc:EncryptionMethod Algorithm="${AES256_GCM}"/>` +
    `<ds:KeyInfo xmlns:ds="${DSIG_NS}"><ds:KeyName>${keyName}</ds:KeyName></ds:KeyInfo>` +
    `<xenc:CipherData><xenc:CipherValue>${cipherValue}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>`
  );
}

/** Encrypts the body and attachments of an (unsigned) edXML document for its recipients. */
export function encryptEdxml(xml: string, recipients: readonly RecipientKey[]): string {
  if (recipients.length === 0) throw new HubError('VALIDATION_FAILED', 'no recipient to encrypt for');
  const doc = parse(xml);
  const ser = new XMLSerializer();
  const cek = randomBytes(32);
  const keyName = `cek-${randomBytes(8).toString('hex')}`;
  const targets = [
    ...Array.from(doc.getElementsByTagNameNS(EDXML_NS, 'edXMLBody')),
    ...Array.from(doc.getElementsByTagNameNS(EDXML_NS, 'AttachmentEncoded')),
  ];
  if (targets.length === 0)
    throw new HubError('VALIDATION_FAILED', 'the message has no body or attachments to encrypt');
  const ids: string[] = [];
  targets.forEach((el, i) => {
    const id = `ed-${i + 1}`;
    ids.push(id);
    // Serialize with the edXML namespace declared on the element itself, so it decrypts stand-alone.
    let text = ser.serializeToString(el);
    const firstTag = text.slice(0, text.indexOf('>'));
    if (!firstTag.includes('xmlns:edXML='))
      text = text.replace(/^<([^\s>/]+)/, `<$1 xmlns:edXML="${EDXML_NS}"`);
    const plain = Buffer.from(text, 'utf8');
    const frag = parse(encryptedData(id, keyName, gcmEncrypt(cek, plain))).documentElement;
    el.parentNode!.replaceChild(doc.importNode(frag, true), el);
  });
  const root = doc.documentElement;
  for (const r of recipients) {
    const wrapped = publicEncrypt(
      {
        key: createPublicKey(r.certificatePem),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
      },
      cek,
    ).toString('base64');
    const ek =
      `<xenc:EncryptedKey xmlns:xenc="${XENC_NS}" Recipient="${r.code}">` +
      `<xenc:EncryptionMethod Algorithm="${RSA_OAEP}"><ds:DigestMethod xmlns:ds="${DSIG_NS}" Algorithm="${SHA256}"/><xenc11:MGF xmlns:xenc11="${XENC11_NS}" Algorithm="${MGF1_SHA256}"/></xenc:EncryptionMethod>` +
      `<ds:KeyInfo xmlns:ds="${DSIG_NS}"><ds:X509Data><dsig11:X509Digest xmlns:dsig11="${DSIG11_NS}" Algorithm="${SHA256}">${certDigest(r.certificatePem)}</dsig11:X509Digest></ds:X509Data></ds:KeyInfo>` +
      `<xenc:CipherData><xenc:CipherValue>${wrapped}</xenc:CipherValue></xenc:CipherData>` +
      `<xenc:ReferenceList>${ids.map((id) => `<xenc:DataReference URI="#${id}"/>`).join('')}</xenc:ReferenceList>` +
      `<xenc:CarriedKeyName>${keyName}</xenc:CarriedKeyName></xenc:EncryptedKey>`;
    root.appendChild(doc.importNode(parse(ek).documentElement, true));
  }
  return ser.serializeToString(doc);
}

export function isEncrypted(xml: string): boolean {
  return xml.includes(XENC_NS) && xml.includes('EncryptedData');
}

/** Decrypts with the recipient's own key; returns the edXML with body and attachments restored. */
export function decryptEdxml(xml: string, own: { certificatePem: string; privateKeyPem: string }): string {
  const doc = parse(xml);
  const digest = certDigest(own.certificatePem);
  const keys = Array.from(doc.getElementsByTagNameNS(XENC_NS, 'EncryptedKey'));
  const mine = keys.find((k) =>
    Array.from(k.getElementsByTagNameNS(DSIG11_NS, 'X509Digest')).some(
      (d) => (d.textContent ?? '').trim() === digest,
    ),
  );
  if (!mine) throw new HubError('FORBIDDEN', 'the message is not encrypted for this certificate');
  const method = mine.getElementsByTagNameNS(XENC_NS, 'EncryptionMethod')[0]?.getAttribute('Algorithm');
  if (method !== RSA_OAEP)
    throw new HubError('VALIDATION_FAILED', `unsupported key transport ${method ?? ''}`);
  const wrapped = mine.getElementsByTagNameNS(XENC_NS, 'CipherValue')[0]?.textContent ?? '';
  let cek: Buffer;
  try {
    cek = privateDecrypt(
      { key: own.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(wrapped.replace(/\s+/g, ''), 'base64'),
    );
  } catch {
    throw new HubError('VALIDATION_FAILED', 'the content key cannot be unwrapped with this private key');
  }
  const refs = new Set(
    Array.from(mine.getElementsByTagNameNS(XENC_NS, 'DataReference')).map((r) =>
      (r.getAttribute('URI') ?? '').replace(/^#/, ''),
    ),
  );
  for (const ed of Array.from(doc.getElementsByTagNameNS(XENC_NS, 'EncryptedData'))) {
    if (!refs.has(ed.getAttribute('Id') ?? '')) continue;
    const alg = ed.getElementsByTagNameNS(XENC_NS, 'EncryptionMethod')[0]?.getAttribute('Algorithm');
    if (alg !== AES256_GCM)
      throw new HubError('VALIDATION_FAILED', `unsupported content encryption ${alg ?? ''}`);
    const plain = gcmDecrypt(
      cek,
      ed.getElementsByTagNameNS(XENC_NS, 'CipherValue')[0]?.textContent ?? '',
    ).toString('utf8');
    ed.parentNode!.replaceChild(doc.importNode(parse(plain).documentElement, true), ed);
  }
  for (const k of keys) k.parentNode!.removeChild(k);
  return new XMLSerializer().serializeToString(doc);
}
