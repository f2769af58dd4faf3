/** In-process verifier: the strict signature profile against the configured trust store. */
import type { XmlLimits } from './xml-guard.ts';
import type { TrustStore } from './trust.ts';
import { verifyEdxml, type VerifiedMessage } from './signature.ts';

export class LocalVerifier {
  readonly #trust: TrustStore;
  readonly #limits: XmlLimits;

  constructor(trust: TrustStore, limits: XmlLimits) {
    this.#trust = trust;
    this.#limits = limits;
  }

  verify(bytes: Uint8Array): Promise<VerifiedMessage> {
    return verifyEdxml(bytes, this.#trust, { limits: this.#limits });
  }
}
