/**
 * Ports of the agencies' signing certificates and of the revocation data the hub keeps (issue 20).
 * Adapters: src/store/certificate-store.ts and src/store/revocation-store.ts.
 */
import type { Agency, RegisteredCertificate } from '../types.ts';

/** A registered certificate and the agency (canonical code) it is registered to. */
export interface AgencyCertificate extends RegisteredCertificate {
  readonly agency: string;
}

/**
 * The certificates registered to agencies. They are part of the agency's directory entry: adding
 * and revoking one is a directory change, made through the directory's single writer, and gives the
 * agency a new change-feed version (so `GET /v1/agencies/changes` shows it).
 */
export interface CertificateStore {
  /** Registers `cert` to the agency (canonical code); the agency after the change, null when none. */
  add(agency: string, cert: RegisteredCertificate & { readonly pem: string }): Promise<Agency | null>;
  /**
   * Marks the agency's active certificate with this fingerprint revoked at `at` (the record stays,
   * as evidence); the agency after the change, null when it has no such active certificate.
   */
  revoke(agency: string, fingerprintSha256: string, at: Date): Promise<Agency | null>;
  /** The agency a certificate with this fingerprint is (or was) registered to, other than `except`. */
  holderOf(fingerprintSha256: string, except?: string): Promise<string | null>;
  /** The certificates of one agency, or of every agency, ordered by agency then registration. */
  list(agency?: string): Promise<AgencyCertificate[]>;
  /** The active (not revoked) certificates whose `notAfter` is at or before `limit`. */
  expiring(limit: Date): Promise<AgencyCertificate[]>;
}

/** A CRL the hub fetched and verified, as stored (one per issuer: the most recent). */
export interface StoredCrl {
  /** The issuer's distinguished name. */
  readonly issuer: string;
  readonly der: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** The URL that served it (absent when it was given by hand). */
  readonly url?: string;
  readonly fetchedAt: Date;
}

export type StoredCrlHead = Omit<StoredCrl, 'der'>;

/** The revocation data shared by every process of the hub: the latest CRL of each issuer. */
export interface RevocationDataStore {
  /** Stores `crl` unless a CRL of its issuer at least as recent is stored; true when stored. */
  putIfNewer(crl: StoredCrl): Promise<boolean>;
  /** Every stored CRL without its bytes, ordered by issuer. */
  heads(): Promise<StoredCrlHead[]>;
  get(issuer: string): Promise<StoredCrl | null>;
}
