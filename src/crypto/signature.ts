/**
 * The hub's strict XML-DSig profile (docs/architecture-design.md §2 step 4; node-saml / xml-crypto lessons):
 *
 *  - exactly one Signature element anywhere, in the XML-DSig namespace, as the last child of
 *    edXML:edXMLHeader (documents and status messages alike);
 *  - exactly one Reference, URI="" (the whole message, attachments included), with exactly the
 *    transforms enveloped-signature + exclusive c14n; CanonicalizationMethod exclusive c14n;
 *  - SignatureMethod rsa-sha256/384/512 or ecdsa-sha256/384, DigestMethod sha256/384/512: SHA-1 and
 *    HMAC are refused (SIGNATURE_ALGORITHM_FORBIDDEN);
 *  - the key is taken only from a certificate that first validated against the trust store (chain,
 *    validity at the verification time, key usage, revocation) — never because KeyInfo carries it;
 *  - callers read business data only from `signedXml`, the canonical bytes the Reference covers.
 *
 * Order of checks and their codes: guard (PAYLOAD_TOO_LARGE, XML_PROLOG_INVALID,
 * XML_DOCTYPE_FORBIDDEN, XML_LIMITS_EXCEEDED) → UTF-8 and well-formedness (XML_MALFORMED) → root
 * (SCHEMA_INVALID) → signature presence and profile (SIGNATURE_MISSING, SIGNATURE_PROFILE_VIOLATION,
 * SIGNATURE_ALGORITHM_FORBIDDEN) → certificate (CERT_*) → cryptographic check (SIGNATURE_INVALID).
 */
import {
  createHash,
  createSign,
  createVerify,
  createPrivateKey,
  type KeyLike,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignedXml, type HashAlgorithm, type SignatureAlgorithm } from 'xml-crypto';
import { HubError } from '../domain/errors.ts';
import { EDXML_NS } from '../domain/edxml/model.ts';
import { x509 } from './x509.ts';
import { type Certificate, type TrustStore, type ValidatedChain } from './trust.ts';
import { DEFAULT_XML_LIMITS, decodeUtf8, guardXml, parseXmlStrict, type XmlLimits } from './xml-guard.ts';

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const SIGNATURE_ALGORITHMS = {
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { key: 'rsa', hash: 'sha256' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { key: 'rsa', hash: 'sha384' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { key: 'rsa', hash: 'sha512' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { key: 'ec', hash: 'sha256' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { key: 'ec', hash: 'sha384' },
} as const;
export const DIGEST_ALGORITHMS = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
} as const;

export type SigAlgUri = keyof typeof SIGNATURE_ALGORITHMS;
export type DigestAlgUri = keyof typeof DIGEST_ALGORITHMS;

export interface SigningKey {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly chainPem?: readonly string[];
}

export function loadSigningKey(
  certPath: string,
  keyPath: string,
  chainPaths: readonly string[] = [],
): SigningKey {
  return {
    certificatePem: readFileSync(certPath, 'utf8'),
    privateKeyPem: readFileSync(keyPath, 'utf8'),
    chainPem: chainPaths.map((p) => readFileSync(p, 'utf8')),
  };
}

/**
 * A SignatureMethod of the allow-list with node:crypto: RSA PKCS#1 v1.5, or ECDSA with the raw r||s
 * encoding XML-DSig uses (RFC 4050 / XMLDSig 1.1). xml-crypto has no rsa-sha384 and no ECDSA.
 */
function signatureAlgorithm(uri: SigAlgUri): new () => SignatureAlgorithm {
  const { key: kind, hash } = SIGNATURE_ALGORITHMS[uri];
  const dsa = kind === 'ec' ? { dsaEncoding: 'ieee-p1363' as const } : {};
  return class implements SignatureAlgorithm {
    getSignature(signedInfo: string | Buffer, privateKey: KeyLike): string {
      return createSign(hash)
        .update(signedInfo)
        .sign({ key: privateKey as string, ...dsa }, 'base64');
    }
    verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
      return createVerify(hash)
        .update(material)
        .verify({ key: key as string, ...dsa }, signatureValue, 'base64');
    }
    getAlgorithmName(): string {
      return uri;
    }
  };
}

/** A DigestMethod of the allow-list with node:crypto (xml-crypto has no sha384). */
function hashAlgorithm(uri: DigestAlgUri): new () => HashAlgorithm {
  const hash = DIGEST_ALGORITHMS[uri];
  return class implements HashAlgorithm {
    getHash(xml: string): string {
      return createHash(hash).update(xml, 'utf8').digest('base64');
    }
    getAlgorithmName() {
      return uri as ReturnType<HashAlgorithm['getAlgorithmName']>;
    }
  };
}

// xml-crypto's tables are replaced by exactly the allow-lists above (one list, docs/security.md §2).
const SIGNATURE_TABLE = Object.fromEntries(
  (Object.keys(SIGNATURE_ALGORITHMS) as SigAlgUri[]).map((u) => [u, signatureAlgorithm(u)]),
);
const HASH_TABLE = Object.fromEntries(
  (Object.keys(DIGEST_ALGORITHMS) as DigestAlgUri[]).map((u) => [u, hashAlgorithm(u)]),
);

function configure(sx: SignedXml): void {
  sx.SignatureAlgorithms = SIGNATURE_TABLE;
  sx.HashAlgorithms = HASH_TABLE;
  const c14n = sx.CanonicalizationAlgorithms;
  sx.CanonicalizationAlgorithms = { [EXC_C14N]: c14n[EXC_C14N], [ENVELOPED]: c14n[ENVELOPED] } as typeof c14n;
}

function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** Private keys decoded once per signing key (the hub signs every receipt with the same one). */
const privateKeys = new WeakMap<SigningKey, KeyObject>();

/** Algorithms to sign with; default rsa-sha256 or ecdsa-sha256 (by the key) and sha256. */
export interface SignAlgorithms {
  readonly signature?: SigAlgUri;
  readonly digest?: DigestAlgUri;
}

/** Signs with the hub profile; the Signature is appended to the element the xpath selects. */
export function signXml(
  xml: string,
  key: SigningKey,
  location: { xpath: string },
  algorithms: SignAlgorithms = {},
): string {
  let privateKey = privateKeys.get(key);
  if (!privateKey) privateKeys.set(key, (privateKey = createPrivateKey(key.privateKeyPem)));
  const isEc = privateKey.asymmetricKeyType === 'ec';
  const sx = new SignedXml({
    privateKey,
    publicCert: key.certificatePem,
    signatureAlgorithm:
      algorithms.signature ??
      (isEc
        ? 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'
        : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'),
    canonicalizationAlgorithm: EXC_C14N,
  });
  configure(sx);
  const chain = [key.certificatePem, ...(key.chainPem ?? [])];
  sx.getKeyInfoContent = ({ prefix }) => {
    const p = prefix ? `${prefix}:` : '';
    return `<${p}X509Data>${chain.map((c) => `<${p}X509Certificate>${pemBody(c)}</${p}X509Certificate>`).join('')}</${p}X509Data>`;
  };
  sx.addReference({
    xpath: '/*',
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: algorithms.digest ?? 'http://www.w3.org/2001/04/xmlenc#sha256',
    isEmptyUri: true,
  });
  sx.computeSignature(xml, { prefix: 'ds', location: { reference: location.xpath, action: 'append' } });
  return sx.getSignedXml();
}

export function signEdxml(xml: string, key: SigningKey, algorithms: SignAlgorithms = {}): string {
  return signXml(
    xml,
    key,
    { xpath: "/*[local-name()='edXML']/*[local-name()='edXMLEnvelope']/*[local-name()='edXMLHeader']" },
    algorithms,
  );
}

export interface VerifiedMessage {
  /** The canonical XML the signature covers: the only source of business data. */
  readonly signedXml: string;
  readonly signer: ValidatedChain;
  readonly signatureAlgorithm: string;
  readonly digestAlgorithm: string;
}

export interface VerifyOptions {
  readonly at?: Date;
  readonly limits?: XmlLimits;
}

/** What verifyEnveloped needs of a trust store (hub-signed artefacts wrap it with their own checks). */
export type CertificateValidator = Pick<TrustStore, 'validate'>;

type El = Element;

// Agencies sign many messages with the same certificate: parse each distinct one once.
const certCache = new Map<string, Certificate>();
function parseCertCached(b64: string): Certificate {
  let c = certCache.get(b64);
  if (!c) {
    c = new x509.X509Certificate(Buffer.from(b64, 'base64'));
    if (certCache.size >= 10_000) certCache.delete(certCache.keys().next().value!);
    certCache.set(b64, c);
  }
  return c;
}

function children(e: El, local: string): El[] {
  const out: El[] = [];
  for (let n = e.firstChild; n; n = n.nextSibling)
    if (n.nodeType === 1 && (n as El).localName === local) out.push(n as El);
  return out;
}

function one(e: El, local: string, what: string): El {
  const c = children(e, local);
  if (c.length !== 1)
    throw new HubError('SIGNATURE_PROFILE_VIOLATION', `expected exactly one ${what}, found ${c.length}`);
  return c[0]!;
}

function lastElementChild(e: El): El | null {
  let last: El | null = null;
  for (let n = e.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) last = n as El;
  return last;
}

/** Verifies an enveloped signature of the hub profile whose parent is accepted by `parentOk`. */
export async function verifyEnveloped(
  bytes: Uint8Array,
  trust: CertificateValidator,
  opts: VerifyOptions & {
    rootNs: string;
    rootName: string;
    parentOk: (parent: El, root: El) => boolean;
    where: string;
    /** The verification time read from the document itself (hub-signed artefacts state their time). */
    atOf?: (root: El) => Date;
  },
): Promise<VerifiedMessage> {
  guardXml(bytes, opts.limits ?? DEFAULT_XML_LIMITS);
  const xml = decodeUtf8(bytes);
  const doc = parseXmlStrict(xml);
  const root = doc.documentElement;
  if (root.localName !== opts.rootName || root.namespaceURI !== opts.rootNs) {
    throw new HubError('SCHEMA_INVALID', `root element must be ${opts.rootName} in ${opts.rootNs}`);
  }
  const all = Array.from(doc.getElementsByTagNameNS('*', 'Signature'));
  if (all.length === 0) throw new HubError('SIGNATURE_MISSING');
  const foreign = all.find((s) => s.namespaceURI !== DSIG_NS);
  if (foreign) {
    throw new HubError(
      'SIGNATURE_PROFILE_VIOLATION',
      `a Signature element without the XML-DSig namespace (${foreign.namespaceURI ?? 'no namespace'}) is not a signature`,
    );
  }
  if (all.length > 1)
    throw new HubError(
      'SIGNATURE_PROFILE_VIOLATION',
      `exactly one Signature is allowed, found ${all.length}`,
    );
  const sig = all[0]!;
  const parent = sig.parentNode as El | null;
  if (!parent || parent.nodeType !== 1 || !opts.parentOk(parent, root) || lastElementChild(parent) !== sig) {
    throw new HubError(
      'SIGNATURE_PROFILE_VIOLATION',
      `the Signature must be the last child of ${opts.where}`,
    );
  }
  const signedInfo = one(sig, 'SignedInfo', 'SignedInfo');
  const c14n =
    one(signedInfo, 'CanonicalizationMethod', 'CanonicalizationMethod').getAttribute('Algorithm') ?? '';
  if (c14n !== EXC_C14N)
    throw new HubError(
      'SIGNATURE_PROFILE_VIOLATION',
      `CanonicalizationMethod must be exclusive c14n, not ${c14n}`,
    );
  const sigAlg = one(signedInfo, 'SignatureMethod', 'SignatureMethod').getAttribute('Algorithm') ?? '';
  if (!(sigAlg in SIGNATURE_ALGORITHMS))
    throw new HubError('SIGNATURE_ALGORITHM_FORBIDDEN', `SignatureMethod ${sigAlg}`);
  const refs = children(signedInfo, 'Reference');
  if (refs.length !== 1)
    throw new HubError(
      'SIGNATURE_PROFILE_VIOLATION',
      `exactly one Reference is allowed, found ${refs.length}`,
    );
  const ref = refs[0]!;
  if (!ref.hasAttribute('URI') || ref.getAttribute('URI') !== '') {
    throw new HubError(
      'SIGNATURE_PROFILE_VIOLATION',
      `the Reference must cover the whole message (URI=""), not URI="${ref.getAttribute('URI') ?? ''}"`,
    );
  }
  const transforms = children(one(ref, 'Transforms', 'Transforms'), 'Transform').map((t) =>
    t.getAttribute('Algorithm'),
  );
  if (transforms.length !== 2 || transforms[0] !== ENVELOPED || transforms[1] !== EXC_C14N) {
    throw new HubError(
      'SIGNATURE_PROFILE_VIOLATION',
      `transforms must be exactly enveloped-signature, exclusive c14n; found ${transforms.join(', ')}`,
    );
  }
  const digestAlg = one(ref, 'DigestMethod', 'DigestMethod').getAttribute('Algorithm') ?? '';
  if (!(digestAlg in DIGEST_ALGORITHMS))
    throw new HubError('SIGNATURE_ALGORITHM_FORBIDDEN', `DigestMethod ${digestAlg}`);

  const certEls = Array.from(sig.getElementsByTagNameNS(DSIG_NS, 'X509Certificate'));
  if (certEls.length === 0)
    throw new HubError('SIGNATURE_PROFILE_VIOLATION', 'KeyInfo carries no X509Certificate');
  let certs: Certificate[];
  try {
    certs = certEls.map((e) => parseCertCached((e.textContent ?? '').replace(/\s+/g, '')));
  } catch {
    throw new HubError('CERT_UNTRUSTED', 'a KeyInfo certificate cannot be decoded');
  }
  const leaf = certs[0]!;
  const at = opts.atOf ? opts.atOf(root) : (opts.at ?? new Date());
  const signer = await trust.validate(leaf, certs.slice(1), at);
  const keyKind = SIGNATURE_ALGORITHMS[sigAlg as SigAlgUri].key;
  const leafAlg = leaf.publicKey.algorithm.name;
  if ((keyKind === 'ec') !== (leafAlg === 'ECDSA'))
    throw new HubError('SIGNATURE_INVALID', `SignatureMethod does not match the ${leafAlg} certificate key`);

  const sx = new SignedXml({ publicCert: leaf.toString('pem'), getCertFromKeyInfo: () => null });
  configure(sx);
  if (!(sigAlg in sx.SignatureAlgorithms) || !(digestAlg in sx.HashAlgorithms)) {
    throw new HubError('SIGNATURE_ALGORITHM_FORBIDDEN', `${sigAlg} with ${digestAlg} is not supported`);
  }
  sx.loadSignature(sig);
  let ok: boolean;
  try {
    ok = sx.checkSignature(xml);
  } catch (err) {
    throw new HubError('SIGNATURE_INVALID', (err as Error).message);
  }
  const signedRefs = sx.getSignedReferences();
  if (!ok || signedRefs.length !== 1)
    throw new HubError('SIGNATURE_INVALID', 'the signature value or the digest does not match the message');
  return { signedXml: signedRefs[0]!, signer, signatureAlgorithm: sigAlg, digestAlgorithm: digestAlg };
}

export function verifyEdxml(
  bytes: Uint8Array,
  trust: TrustStore,
  opts: VerifyOptions = {},
): Promise<VerifiedMessage> {
  return verifyEnveloped(bytes, trust, {
    ...opts,
    rootNs: EDXML_NS,
    rootName: 'edXML',
    where: 'edXML:edXMLHeader',
    parentOk: (p, root) =>
      p.localName === 'edXMLHeader' &&
      p.namespaceURI === EDXML_NS &&
      (p.parentNode as El | null)?.localName === 'edXMLEnvelope' &&
      (p.parentNode as El | null)?.parentNode === root,
  });
}
