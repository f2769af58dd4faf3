/**
 * Development PKI shaped like the government one (docs/domain.md §5): a root, a State intermediate and a
 * Party intermediate, a hub certificate, agency certificates and CRLs. DEVELOPMENT ONLY: the keys
 * this produces are published in certs-dev/ and must never be trusted in production.
 * Also the library the tooling uses to issue, renew and revoke agency certificates.
 */
type CryptoKey = InstanceType<typeof globalThis.CryptoKey>;
interface CryptoKeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}
const webcrypto = globalThis.crypto;
import { x509 } from './x509.ts';
import { HUB_SIGNING_EKU } from './hub-signed.ts';

export const RSA_ALG = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
export const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

const DAY = 86_400_000;

export function randomSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(12));
  b[0] = b[0]! & 0x7f; // positive
  return Buffer.from(b).toString('hex');
}

export async function generateKeys(kind: 'rsa' | 'ec' = 'rsa'): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(kind === 'rsa' ? RSA_ALG : EC_ALG, true, ['sign', 'verify']);
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export async function importPrivateKeyPem(pem: string, kind: 'rsa' | 'ec' = 'rsa'): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, kind === 'rsa' ? RSA_ALG : EC_ALG, true, ['sign']);
}

export async function createRootCa(name: string, years = 20, now = new Date()): Promise<Issued> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + years * 365 * DAY),
    signingAlgorithm: RSA_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

export interface IssueOptions {
  readonly subject: string;
  readonly issuer: Issued;
  readonly ca?: boolean;
  readonly pathLen?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly keyUsage?: number;
  readonly crlUrl?: string;
  readonly ocspUrl?: string;
  readonly keyKind?: 'rsa' | 'ec';
  readonly keys?: CryptoKeyPair;
  /** Extended key usage OIDs (e.g. HUB_SIGNING_EKU for the hub's signing certificate). */
  readonly extendedKeyUsages?: readonly string[];
}

export async function issueCertificate(o: IssueOptions): Promise<Issued> {
  const keys = o.keys ?? (await generateKeys(o.keyKind ?? 'rsa'));
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(!!o.ca, o.ca ? o.pathLen : undefined, true),
    new x509.KeyUsagesExtension(
      o.keyUsage ??
        (o.ca
          ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
          : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation),
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(o.issuer.keys.publicKey),
  ];
  if (o.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([o.crlUrl]));
  if (o.extendedKeyUsages?.length)
    extensions.push(new x509.ExtendedKeyUsageExtension([...o.extendedKeyUsages], false));
  if (o.ocspUrl)
    extensions.push(
      new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', o.ocspUrl)] }),
    );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: o.subject,
    issuer: o.issuer.cert.subject,
    notBefore: o.notBefore ?? new Date(now - DAY),
    notAfter: o.notAfter ?? new Date(now + 5 * 365 * DAY),
    signingAlgorithm: RSA_ALG,
    publicKey: keys.publicKey,
    signingKey: o.issuer.keys.privateKey,
    extensions,
  });
  return { cert, keys };
}

export const DEV_HUB_SUBJECT = 'CN=DEV Trục liên thông văn bản (hub), O=DEVELOPMENT ONLY, C=VN';

/** A hub signing certificate: a signing leaf with the hub-signing EKU (src/crypto/hub-signed.ts). */
export async function issueHubCertificate(
  o: Omit<IssueOptions, 'subject' | 'extendedKeyUsages'> & { subject?: string },
): Promise<Issued> {
  return issueCertificate({
    ...o,
    subject: o.subject ?? DEV_HUB_SUBJECT,
    extendedKeyUsages: [HUB_SIGNING_EKU],
  });
}

export async function createCrl(
  issuer: Issued,
  revoked: readonly { serialNumber: string; revocationDate: Date }[],
  /** nextUpdate: default thisUpdate + 30 days; null = none (RFC 5280 requires one; tests of that case). */
  opts: { thisUpdate?: Date; nextUpdate?: Date | null; crlNumber?: number } = {},
): Promise<x509.X509Crl> {
  const thisUpdate = opts.thisUpdate ?? new Date();
  const nextUpdate =
    opts.nextUpdate === null ? undefined : (opts.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * DAY));
  return x509.X509CrlGenerator.create({
    issuer: issuer.cert.subject,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    entries: revoked.map((r) => ({
      serialNumber: r.serialNumber,
      revocationDate: r.revocationDate,
      reason: x509.X509CrlReason.keyCompromise,
    })),
    signingAlgorithm: RSA_ALG,
    signingKey: issuer.keys.privateKey,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey)],
  });
}

export async function loadIssued(certPem: string, keyPem: string): Promise<Issued> {
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await importPrivateKeyPem(keyPem);
  return { cert, keys: { privateKey, publicKey: await cert.publicKey.export(RSA_ALG, ['verify']) } };
}
