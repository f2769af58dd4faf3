/**
 * The national-axis request signature (docs/vdxp-protocol.md §3), the one place both sides use:
 * the hub's `/vdxp` server (auth.ts verifies over the received bytes) and the federation peer
 * client (src/federation/client.ts signs like the official Java SDK).
 *
 *   XroadVnpt-sign-header-key: <k1>;<k2>;...               (Java HashMap iteration order, §3.3)
 *   XroadVnpt-sign-header:     {"XroadVnpt-<k1>":"<v1>",...} (Gson 2.2 serialization, §3.2)
 *   XroadVnpt-hash-header:     lower-case hex HMAC-SHA256(secret UTF-8, sign-header UTF-8 bytes)
 */
import { createHmac } from 'node:crypto';

/** hex HMAC-SHA256 keyed with the secret's UTF-8 bytes (§3.6): the signature of a sign-header. */
export function signHeaderHmac(secret: string, signHeader: Uint8Array | string): Buffer {
  return createHmac('sha256', secret).update(signHeader).digest();
}

/** Java `String.hashCode()` over UTF-16 code units, as a signed 32-bit int. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Java 8+ `HashMap` iteration order of these keys inserted in this order (§3.3): by bucket
 * `(h ^ (h >>> 16)) & (cap - 1)`, ties in insertion order; the capacity doubles from 16 past 12
 * entries (load factor 0.75). Buckets never treeify at these sizes.
 */
export function javaHashMapOrder(keys: readonly string[]): string[] {
  const unique = [...new Set(keys)];
  let cap = 16;
  while (unique.length > cap * 0.75) cap *= 2;
  const bucket = (k: string) => {
    const h = javaStringHash(k);
    return (h ^ (h >>> 16)) & (cap - 1);
  };
  return unique
    .map((k, i) => ({ k, i, b: bucket(k) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((x) => x.k);
}

/** Gson 2.2 `JsonPrimitive(String).toString()` (§3.2): only `"`, `\`, controls, U+2028/9 escaped. */
export function gsonString(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '\t') out += '\\t';
    else if (c === '\b') out += '\\b';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\f') out += '\\f';
    else if (code < 0x20 || code === 0x2028 || code === 0x2029)
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** `SimpleDateFormat("ddMMyyyy'T'HHmmss+SSSS")` (§3.4): `+SSSS` is milliseconds, no zone (UTC here). */
export function sdkTimestamp(at: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${p(at.getUTCDate())}${p(at.getUTCMonth() + 1)}${at.getUTCFullYear()}` +
    `T${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}+${p(at.getUTCMilliseconds(), 4)}`
  );
}

export interface SignedHeaderSet {
  /** Header name → value, ready to send (the `XroadVnpt-*` parameters, Content-Type and the signature). */
  readonly headers: Record<string, string>;
  readonly signHeaderKey: string;
  readonly signHeader: string;
  readonly hashHeader: string;
}

/**
 * Signs a parameter map the way the SDK does (§3.1): the entries in HashMap order of their insertion
 * order, each sent as `XroadVnpt-<name>`; `Content-Type` is a signed entry and a plain header too.
 * Parameter values must be ASCII (§3.8): refused otherwise, since the axis's own stack would mangle them.
 */
export function signParams(params: readonly (readonly [string, string])[], secret: string): SignedHeaderSet {
  const values = new Map<string, string>();
  for (const [k, v] of params) {
    if (!/^[\x20-\x7e]*$/.test(v)) throw new Error(`parameter ${k} must be printable ASCII (§3.8)`);
    values.set(k, v);
  }
  const order = javaHashMapOrder([...values.keys()]);
  const signHeaderKey = order.join(';');
  const signHeader = `{${order.map((k) => `${gsonString(`XroadVnpt-${k}`)}:${gsonString(values.get(k)!)}`).join(',')}}`;
  const hashHeader = signHeaderHmac(secret, Buffer.from(signHeader, 'utf8')).toString('hex');
  const headers: Record<string, string> = {};
  for (const k of order) headers[`XroadVnpt-${k}`] = values.get(k)!;
  const contentType = values.get('Content-Type');
  if (contentType !== undefined) headers['Content-Type'] = contentType;
  headers['XroadVnpt-sign-header-key'] = signHeaderKey;
  headers['XroadVnpt-sign-header'] = signHeader;
  headers['XroadVnpt-hash-header'] = hashHeader;
  headers['XroadVnpt-version'] = '3.0.201608';
  return { headers, signHeaderKey, signHeader, hashHeader };
}
