/**
 * Verification of a submitted message: the strict signature profile against the configured trust
 * store, then the business data read from the canonical XML the signature covers. In process
 * (LocalVerifier) or in the worker-thread pool (verifier-pool.ts), same result.
 */
import type { XmlLimits } from './xml-guard.ts';
import type { TrustStore } from './trust.ts';
import { verifyEdxml, type VerifiedMessage } from './signature.ts';
import { parseEdxml } from '../domain/edxml/parse.ts';
import type { EdxmlMessage } from '../domain/edxml/model.ts';

/**
 * A verified submission: who signed it and what it says. Attachments keep their names and types
 * but not their content (`contentBase64` is empty): the hub stores and relays the signed bytes
 * as received and never needs the decoded attachments, and a 5 MB message would otherwise be held
 * again as strings and cloned across threads.
 */
export interface VerifiedSubmission extends Omit<VerifiedMessage, 'signedXml'> {
  readonly message: EdxmlMessage;
}

/** `at`: the time certificates and revocation data are judged at; now when absent (tests pin it). */
export async function verifySubmission(
  bytes: Uint8Array,
  trust: TrustStore,
  limits: XmlLimits,
  at?: Date,
): Promise<VerifiedSubmission> {
  const { signedXml, ...v } = await verifyEdxml(bytes, trust, { limits, ...(at ? { at } : {}) });
  return { ...v, message: parseEdxml(signedXml, { attachmentContent: false }) };
}

export class LocalVerifier {
  readonly #trust: TrustStore;
  readonly #limits: XmlLimits;
  readonly #clock: () => Date;

  /** `clock`: the verification time (default: now). */
  constructor(trust: TrustStore, limits: XmlLimits, clock: () => Date = () => new Date()) {
    this.#trust = trust;
    this.#limits = limits;
    this.#clock = clock;
  }

  verify(bytes: Uint8Array): Promise<VerifiedSubmission> {
    return verifySubmission(bytes, this.#trust, this.#limits, this.#clock());
  }
}
