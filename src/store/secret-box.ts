/** At-rest encryption of credential secrets: AES-256-GCM with a key derived (HKDF) from configuration. */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The configured credentials key, and the keys it replaces while a rotation is under way
 * (config credentials.previousKeys; docs/deployment.md ## Key rotation): secrets are sealed with
 * `key` and opened with whichever key sealed them.
 */
export type CredentialKeys = string | { readonly key: string; readonly previousKeys?: readonly string[] };

const derive = (configKey: string) =>
  Buffer.from(hkdfSync('sha256', configKey, 'vn-dochub', 'credential-secrets/v1', 32));

export class SecretBox {
  readonly #key: Buffer;
  readonly #previous: readonly Buffer[];

  constructor(keys: CredentialKeys) {
    const k = typeof keys === 'string' ? { key: keys } : keys;
    this.#key = derive(k.key);
    this.#previous = (k.previousKeys ?? []).map(derive);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64'), ct.toString('base64'), c.getAuthTag().toString('base64')].join('.');
  }

  /** Opens a secret sealed with the current key or, during a rotation, with a previous one. */
  open(sealed: string): string {
    const [v, iv, ct, tag] = sealed.split('.');
    if (v !== 'v1' || !iv || !ct || !tag) throw new Error('unknown secret format');
    for (const key of [this.#key, ...this.#previous]) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
        d.setAuthTag(Buffer.from(tag, 'base64'));
        return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
      } catch {
        // not this key: try the next one
      }
    }
    throw new Error('no configured credentials key opens this secret');
  }
}

/**
 * A sealed secret re-sealed from `from` to `to` (key rotation): null when `to` already opens it;
 * throws when neither key does. Shared by every store that keeps sealed secrets.
 */
export function resealed(sealed: string, from: SecretBox, to: SecretBox): string | null {
  try {
    to.open(sealed);
    return null;
  } catch {
    // sealed with another key: the old one, we expect
  }
  return to.seal(from.open(sealed));
}
