/**
 * The agency's signing key and certificate, from PEM files or a PKCS#12 (.p12/.pfx) key store.
 *
 * node-forge is used ONLY to open PKCS#12 files (MAC check, PBE decryption of the key bag): Node has
 * no PKCS#12 reader. Everything after that — key/certificate pairing, fingerprints, signing,
 * verification — uses Node's crypto and the hub's own modules.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import type { SigningKey } from '../crypto/signature.ts';
import { SdkError } from './errors.ts';

/** What signEdxml and decryptEdxml need, plus facts about the certificate. */
export interface AgencyKey extends SigningKey {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  /** Intermediate certificates found with the key (PKCS#12) or given, leaf excluded. */
  readonly chainPem: readonly string[];
  readonly fingerprintSha256: string;
  readonly subject: string;
  readonly notAfter: Date;
}

export type KeySource =
  /** A PKCS#12 file path or its bytes, and its password. */
  | { readonly p12: string | Uint8Array; readonly password: string }
  /** PEM text. */
  | { readonly keyPem: string; readonly certPem: string; readonly chainPem?: readonly string[] }
  /** PEM files. */
  | { readonly keyFile: string; readonly certFile: string; readonly chainFiles?: readonly string[] };

// PKCS#12 bag types (RFC 7292 §4.2).
const OID = {
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
} as const;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certFacts(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new SdkError('KEYSTORE_INVALID', `the certificate cannot be read: ${(err as Error).message}`);
  }
}

function assemble(key: KeyObject, certPems: string[]): AgencyKey {
  if (certPems.length === 0)
    throw new SdkError('KEYSTORE_NO_CERTIFICATE', 'no certificate found with the key');
  const certs = certPems.map((pem) => ({ pem, x: certFacts(pem) }));
  const leaf = certs.find((c) => c.x.checkPrivateKey(key));
  if (!leaf)
    throw new SdkError(
      'KEYSTORE_KEY_MISMATCH',
      `the private key matches none of the ${certs.length} certificate(s) (${certs.map((c) => c.x.subject.replace(/\n/g, ', ')).join('; ')})`,
    );
  return {
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: leaf.x.toString(),
    chainPem: certs.filter((c) => c !== leaf).map((c) => c.x.toString()),
    fingerprintSha256: leaf.x.fingerprint256.replace(/:/g, '').toLowerCase(),
    subject: leaf.x.subject.replace(/\n/g, ', '),
    notAfter: new Date(leaf.x.validTo),
  };
}

function privateKey(pem: string | Buffer, what: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new SdkError(
      'KEYSTORE_INVALID',
      `${what} is not a readable private key: ${(err as Error).message}`,
    );
  }
}

function derOf(a: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(a).getBytes(), 'binary');
}

function fromPkcs12(bytes: Uint8Array, password: string): AgencyKey {
  let outer: forge.asn1.Asn1;
  try {
    outer = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(bytes).toString('binary')));
  } catch (err) {
    throw new SdkError('KEYSTORE_INVALID', `not a PKCS#12 file (${(err as Error).message})`);
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(outer, false, password);
  } catch (err) {
    const m = (err as Error).message;
    if (/password|MAC could not be verified|decrypt/i.test(m))
      throw new SdkError('KEYSTORE_PASSWORD_INVALID', 'wrong password for the PKCS#12 file');
    // Without a MAC a wrong password shows up as garbage after decryption.
    throw new SdkError(
      'KEYSTORE_PASSWORD_INVALID',
      `the PKCS#12 file cannot be opened with this password (${m})`,
    );
  }
  const bags = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const keyBags = [...bags(OID.shroudedKeyBag), ...bags(OID.keyBag)];
  if (keyBags.length === 0) throw new SdkError('KEYSTORE_NO_KEY', 'the PKCS#12 file holds no private key');
  if (keyBags.length > 1)
    throw new SdkError('KEYSTORE_INVALID', `the PKCS#12 file holds ${keyBags.length} private keys; give one`);
  const bag = keyBags[0]!;
  // RSA keys come decoded (bag.key); others (EC) as their PrivateKeyInfo (bag.asn1).
  const pkcs8 = bag.key
    ? derOf(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)))
    : bag.asn1
      ? derOf(bag.asn1)
      : undefined;
  if (!pkcs8) throw new SdkError('KEYSTORE_NO_KEY', 'the key bag of the PKCS#12 file is empty');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new SdkError('KEYSTORE_INVALID', `the private key cannot be read: ${(err as Error).message}`);
  }
  const certPems = bags(OID.certBag).map((b) => {
    // The cached TBSCertificate keeps the original encoding; unknown key types come as raw ASN.1.
    const der = b.cert ? derOf(forge.pki.certificateToAsn1(b.cert)) : b.asn1 ? derOf(b.asn1) : undefined;
    if (!der) throw new SdkError('KEYSTORE_INVALID', 'an empty certificate bag in the PKCS#12 file');
    return new X509Certificate(der).toString();
  });
  return assemble(key, certPems);
}

/** Loads the agency's key and certificate (and chain) from PKCS#12 or PEM; checks they belong together. */
export function loadAgencyKey(src: KeySource): AgencyKey {
  if ('p12' in src) {
    let bytes: Uint8Array;
    if (typeof src.p12 === 'string') {
      try {
        bytes = readFileSync(src.p12);
      } catch (err) {
        throw new SdkError('KEYSTORE_INVALID', `cannot read ${src.p12}: ${(err as Error).message}`);
      }
    } else bytes = src.p12;
    return fromPkcs12(bytes, src.password);
  }
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      throw new SdkError('KEYSTORE_INVALID', `cannot read ${f}: ${(err as Error).message}`);
    }
  };
  const keyPem = 'keyPem' in src ? src.keyPem : read(src.keyFile);
  const certText = 'certPem' in src ? src.certPem : read(src.certFile);
  const chain = 'certPem' in src ? (src.chainPem ?? []) : (src.chainFiles ?? []).map(read);
  const certPems = [...(certText.match(PEM_CERT) ?? []), ...chain.flatMap((c) => c.match(PEM_CERT) ?? [])];
  return assemble(privateKey(keyPem, 'the key file'), certPems);
}

/** Reads a key store password from a file (first line) or an environment variable; never from argv. */
export function readPassword(
  o: { file?: string; env?: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (o.file) {
    try {
      return readFileSync(o.file, 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (err) {
      throw new SdkError(
        'KEYSTORE_INVALID',
        `cannot read the password file ${o.file}: ${(err as Error).message}`,
      );
    }
  }
  if (o.env) {
    const v = env[o.env];
    if (v === undefined || v === '')
      throw new SdkError(
        'USAGE',
        `the environment variable ${o.env} (the key store password) is not set (an empty password: use --password-file)`,
      );
    return v;
  }
  throw new SdkError('USAGE', 'a PKCS#12 key store needs --password-file <file> or --password-env <VAR>');
}

/**
 * Writes a key and certificate (and chain) as PKCS#12, AES-256 + SHA-256 MAC (RSA keys only). For
 * development key stores (`hubctl devpki p12`) and tests; agencies get theirs from their CA.
 */
export function exportPkcs12(key: SigningKey, password: string, o: { friendlyName?: string } = {}): Buffer {
  const nodeKey = privateKey(key.privateKeyPem, 'the key');
  if (nodeKey.asymmetricKeyType !== 'rsa')
    throw new SdkError(
      'KEYSTORE_INVALID',
      `PKCS#12 export supports RSA keys only (got ${nodeKey.asymmetricKeyType})`,
    );
  const fkey = forge.pki.privateKeyFromPem(nodeKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const certs = [key.certificatePem, ...(key.chainPem ?? [])].map((p) => forge.pki.certificateFromPem(p));
  const asn1 = forge.pkcs12.toPkcs12Asn1(fkey, certs, password, {
    algorithm: 'aes256',
    useMac: true,
    ...(o.friendlyName ? { friendlyName: o.friendlyName } : {}),
  });
  return derOf(asn1);
}
