/**
 * Configuration: read once from config/default.json, overlaid (deep merge) by the file HUB_CONFIG
 * names, then by environment variables; validated with one strict zod schema (unknown keys are
 * refused by path) and frozen. A bad value fails start-up with a message naming the key and where it
 * came from (file or environment variable). In production mode (`mode: "production"` in the file, or
 * NODE_ENV=production) the development values are refused too (docs/deployment.md §7).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ERROR_CODES } from './domain/errors.ts';
import { parseAddressRule } from './vdxp/admin-gate.ts';
import { FederationConfigSchema } from './federation/config.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const Role = z.enum(['api', 'worker']);

/** `TRUST_PROXY=1`, `=false`, `=loopback, 10.0.0.0/8` as the types Express takes. */
function trustProxyValue(v: boolean | number | string | string[]): boolean | number | string[] {
  if (typeof v !== 'string') return Array.isArray(v) ? v.map((s) => s.trim()) : v;
  const s = v.trim();
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^\d+$/.test(s)) return Number(s);
  return s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(s: string): boolean {
  if (PROXY_RANGES.has(s)) return true;
  const [ip = '', mask, ...rest] = s.split('/');
  return (
    rest.length === 0 && isIP(ip) !== 0 && (mask === undefined || /^\d{1,3}$/.test(mask) || isIP(mask) !== 0)
  );
}

/** Environment variables and the config path they override. */
type EnvType = 'string' | 'number' | 'list' | 'boolean';
const ENV_MAP: Record<string, { path: string[]; type: EnvType }> = {
  HUB_ROLES: { path: ['roles'], type: 'list' },
  HOST: { path: ['http', 'host'], type: 'string' },
  PORT: { path: ['http', 'port'], type: 'number' },
  PUBLIC_URL: { path: ['http', 'publicUrl'], type: 'string' },
  MAX_MESSAGE_BYTES: { path: ['http', 'maxMessageBytes'], type: 'number' },
  TRUST_PROXY: { path: ['http', 'trustProxy'], type: 'string' },
  OPS_HOST: { path: ['http', 'opsHost'], type: 'string' },
  OPS_PORT: { path: ['http', 'opsPort'], type: 'number' },
  MONGODB_URI: { path: ['mongodb', 'uri'], type: 'string' },
  HUB_STORE_STATEMENTS: { path: ['mongodb', 'statementMetrics'], type: 'boolean' },
  HUB_GROUP_COMMIT_IN_FLIGHT: { path: ['mongodb', 'groupCommitInFlight'], type: 'number' },
  AMQP_URL: { path: ['amqp', 'urls'], type: 'list' },
  AMQP_PREFIX: { path: ['amqp', 'prefix'], type: 'string' },
  AMQP_SHARDS: { path: ['amqp', 'shards'], type: 'number' },
  TRUST_DIR: { path: ['pki', 'trustDir'], type: 'string' },
  HUB_CERT: { path: ['pki', 'hubCert'], type: 'string' },
  HUB_KEY: { path: ['pki', 'hubKey'], type: 'string' },
  HUB_PINS: { path: ['pki', 'hubPins'], type: 'list' },
  REVOCATION_MODE: { path: ['pki', 'revocation'], type: 'string' },
  HUB_CRL_URLS: { path: ['pki', 'crlUrls'], type: 'list' },
  ALLOW_HTTP_ENDPOINTS: { path: ['directory', 'allowHttpEndpoints'], type: 'boolean' },
  CREDENTIALS_KEY: { path: ['credentials', 'key'], type: 'string' },
  CREDENTIALS_PREVIOUS_KEYS: { path: ['credentials', 'previousKeys'], type: 'list' },
  LOG_LEVEL: { path: ['log', 'level'], type: 'string' },
  VERIFY_WORKERS: { path: ['crypto', 'verifyWorkers'], type: 'number' },
  VERIFY_BYTES_IN_FLIGHT: { path: ['crypto', 'verifyBytesInFlight'], type: 'number' },
  SHUTDOWN_DRAIN_MS: { path: ['shutdown', 'drainMs'], type: 'number' },
  MIGRATE_ON_START: { path: ['store', 'migrateOnStart'], type: 'boolean' },
};

/** `mongodb://[user:pw@]host[:port][,host[:port]…][/db][?options]` (several hosts: not a WHATWG URL). */
export function isMongoUri(s: string): boolean {
  const m = /^mongodb(\+srv)?:\/\/(?:[^@/?#]+@)?([^/?#@]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(s);
  return !!m && m[2]!.split(',').every((h) => /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(:\d{1,5})?$/i.test(h));
}

/** A URL with one of these schemes and a host (`new URL` also checks the port). */
function isUrl(s: string, protocols: readonly string[]): boolean {
  try {
    const u = new URL(s);
    return protocols.includes(u.protocol) && u.hostname !== '';
  } catch {
    return false;
  }
}

const httpUrl = z.string().refine((s) => isUrl(s, ['http:', 'https:']), 'must be an http:// or https:// URL');

const ConfigSchema = z.strictObject({
  /** `production` refuses development values at start (docs/deployment.md §7); NODE_ENV=production forces it. */
  mode: z.enum(['development', 'production']).default('development'),
  /** Environment variables that must be set (non-empty): what a file cannot safely hold or default. */
  fromEnvironment: z
    .array(z.string().refine((n) => n in ENV_MAP, 'must name an environment variable the hub reads'))
    .default([]),
  roles: z.array(Role).min(1),
  http: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    publicUrl: z.union([z.literal(''), httpUrl]),
    keepAliveTimeoutMs: z.number().int().positive(),
    maxMessageBytes: z.number().int().positive(),
    /**
     * Express's `trust proxy` (issue 18 §6): false (the socket's address is the client's), a hop
     * count, or the proxies' addresses/subnets (loopback, linklocal, uniquelocal, 10.0.0.0/8, …).
     * req.ip — the address the login lockout counts — honours X-Forwarded-For only from those.
     */
    trustProxy: z
      .union([z.boolean(), z.number().int().min(0), z.string(), z.array(z.string())])
      .transform(trustProxyValue)
      .refine((v) => !Array.isArray(v) || (v.length > 0 && v.every(isProxyAddress)), {
        message: 'must be true, false, a hop count, or addresses/subnets (loopback, 10.0.0.0/8, …)',
      })
      .default(false),
    /** Web UI cookies always Secure (production: TLS ends at the load balancer, whatever PUBLIC_URL says). */
    secureCookies: z.boolean().default(false),
    // Issue 18 §6: an api process serves /metrics (with /healthz, /readyz) only on this port, never
    // on the public one; 0 picks a free port (tests).
    opsHost: z.string().min(1).default('127.0.0.1'),
    opsPort: z.number().int().min(0).max(65535).default(9464),
    // Issue 18 §4 (docs/security.md §9): /v1 bodies read before the signature is checked, bodies
    // that need a slot, and per-process token buckets.
    unsignedBodyMaxBytes: z.number().int().min(0).default(65536),
    largeBodyBytes: z.number().int().min(1024).default(1048576),
    maxConcurrentLargeBodies: z.number().int().min(1).default(8),
    rateLimit: z
      .object({
        perAddress: z.strictObject({ burst: z.number().int().min(1), perSecond: z.number().positive() }),
        perCredential: z.strictObject({ burst: z.number().int().min(1), perSecond: z.number().positive() }),
      })
      .default({
        perAddress: { burst: 2000, perSecond: 1000 },
        perCredential: { burst: 1000, perSecond: 500 },
      }),
  }),
  mongodb: z.strictObject({
    uri: z.string().refine(isMongoUri, 'must be a mongodb:// URI'),
    /** The store statement counters (hub_store_statements_total…): the driver's command monitoring,
     * about 0.1 ms of CPU per statement (docs/benchmarks.md "Statement counters"). */
    statementMetrics: z.boolean().default(true),
    /** Statements in flight per group-commit pipeline (src/store/group-commit.ts; 1, the default: one
     * at a time; docs/benchmarks.md "Group commit lanes and the request ledger"). */
    groupCommitInFlight: z.number().int().min(1).max(16).default(1),
  }),
  amqp: z.strictObject({
    urls: z
      .array(z.string().refine((s) => isUrl(s, ['amqp:', 'amqps:']), 'must be an amqp:// or amqps:// URL'))
      .min(1, 'name at least one RabbitMQ node (AMQP_URL)'),
    prefix: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i),
    shards: z.number().int().min(1).max(256),
    prefetch: z.number().int().min(1).max(10000),
  }),
  pki: z.strictObject({
    trustDir: z.string().min(1),
    hubCert: z.string().min(1),
    hubKey: z.string().min(1),
    // SHA-256 fingerprints of the hub signing certificates verifiers accept (current + retired ones whose
    // receipts must keep verifying); the hub's own certificate must be one (src/crypto/hub-signed.ts).
    hubPins: z
      .array(z.string().regex(/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/, 'must be a SHA-256 fingerprint'))
      .min(1, 'pin the hub signing certificates (SHA-256 fingerprints; HUB_PINS)'),
    hubSigningEku: z.string().regex(/^\d+(\.\d+)+$/, 'must be an OID'),
    // Retired hub signing certificates (PEM files) still published at GET /v1/hub/certificates.
    previousHubCerts: z.array(z.string().min(1)).default([]),
    revocation: z.enum(['require', 'prefer', 'off']),
    maxCrlStalenessSeconds: z.number().int().min(0),
    crlUrls: z.array(httpUrl),
    crlRefreshMs: z.number().int().min(1000),
    crlFetchTimeoutMs: z.number().int().min(100),
    certExpiryWarnDays: z.number().int().min(1),
    ocsp: z.boolean(),
    // A CRL without nextUpdate is stale this long after its thisUpdate (issue 18 §6).
    crlMaxAgeWithoutNextUpdateHours: z.number().positive().default(24),
  }),
  crypto: z.strictObject({
    verifyWorkers: z.number().int().min(0).max(64),
    /** Bytes of messages being verified at once (pool); more wait their turn: bounds memory. */
    verifyBytesInFlight: z
      .number()
      .int()
      .min(1024 * 1024),
  }),
  xml: z.strictObject({ maxDepth: z.number().int().min(8), maxElements: z.number().int().min(100) }),
  auth: z.strictObject({
    clockSkewSeconds: z.number().int().min(1),
    /** How long a process keeps a system's credential (src/systems/credential-cache.ts); 0: no cache. */
    credentialCacheMs: z.number().int().min(0).default(5000),
  }),
  credentials: z.strictObject({
    key: z.string().min(32, 'must be at least 32 characters'),
    /** Keys being rotated out: stored secrets sealed with them still open (issue 23, hubctl credentials reseal). */
    previousKeys: z.array(z.string().min(32, 'must be at least 32 characters')).default([]),
  }),
  delivery: z.strictObject({
    outboxGraceMs: z.number().int().min(0),
    outboxIntervalMs: z.number().int().min(50),
    abandonedAfterMs: z.number().int().min(1000),
    retryDelaysMs: z.array(z.number().int().min(100)).min(1).max(10),
    maxAttempts: z.number().int().min(1).max(100),
    pushTimeoutMs: z.number().int().min(100),
    breakerThreshold: z.number().int().min(1),
    breakerCooldownMs: z.number().int().min(100),
  }),
  seed: z.strictObject({
    directoryFile: z.string(),
    certsManifest: z.string(),
    // DEVELOPMENT ONLY: web UI accounts (config/seed-users.json); "" in production.
    usersFile: z.string().default(''),
  }),
  // Agency directory (docs/directory.md): code group widths per level-1 body, level-1 letters
  // reserved to a block (an assumption: the Party and Front letters are not public).
  directory: z.strictObject({
    codeWidths: z.strictObject({
      default: z.array(z.number().int().min(1).max(10)).min(1),
      byLevel1: z.record(
        z.string().regex(/^[A-Y]\d\d$/, 'must be a level-1 code'),
        z.array(z.number().int().min(1).max(10)).min(1),
      ),
    }),
    blockLetters: z.strictObject({
      party: z.array(z.string().regex(/^[A-Y]$/)),
      state: z.array(z.string().regex(/^[A-Y]$/)),
      front: z.array(z.string().regex(/^[A-Y]$/)),
      other: z.array(z.string().regex(/^[A-Y]$/)),
    }),
    versionLeaseMs: z.number().int().min(1000),
    maxPageSize: z.number().int().min(10).max(10000),
    importMaxRows: z.number().int().min(1),
    /** How long a looked-up agency is used on the hot path (src/directory/cache.ts); 0: no cache. */
    cacheRefreshMs: z.number().int().min(0).default(1000),
    // Push endpoints may be http:// only in development (config/default.json); https:// elsewhere.
    allowHttpEndpoints: z.boolean().default(false),
  }),
  // National-axis API (/vdxp, docs/national-axis.md): registerAgency/deleteAgency are off unless
  // enabled, and then only for these systems from these addresses (issue 18 §5: the axis signs no
  // body and fixes its timestamp, so captured headers replay forever).
  vdxp: z
    .object({
      adminOperations: z.strictObject({
        enabled: z.boolean(),
        allowedSystems: z.array(z.string().min(1)),
        allowedAddresses: z.array(
          z.string().refine((s) => parseAddressRule(s) !== null, 'must be an IP address or CIDR block'),
        ),
      }),
    })
    .default({ adminOperations: { enabled: false, allowedSystems: [], allowedAddresses: [] } }),
  // Federation (docs/federation.md): peers speaking the national-axis protocol (src/federation/config.ts).
  federation: FederationConfigSchema,
  // Graceful stop (SIGTERM): /readyz answers 503 `draining` for drainMs while requests are still
  // served (the load balancer notices), then the listeners close and in-flight work finishes.
  // 0 in development (no load balancer), 5000 in config/production.json.
  // Data migrations (src/store/migrations.ts, docs/deployment.md ## Migrations): run at start only when
  // set (config/default.json: development, so `npm start` works on a fresh database); production runs
  // `hubctl migrate` before starting a new version and refuses to start while one is pending.
  store: z.strictObject({ migrateOnStart: z.boolean() }).default({ migrateOnStart: false }),
  shutdown: z.strictObject({ drainMs: z.number().int().min(0).max(600_000) }).default({ drainMs: 0 }),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;
export type Role = z.infer<typeof Role>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};
export type ConfigOverrides = DeepPartial<z.infer<typeof ConfigSchema>>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? merge(b, v) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Refusal to start: the message names each setting, where it came from and what to do. */
export class ConfigError extends Error {
  readonly code = 'START_REFUSED';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], context: string) {
    const spec = ERROR_CODES.START_REFUSED;
    super(
      `START_REFUSED: ${spec.en} (${context})\n  ${spec.vi}\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export const DEFAULT_CONFIG_FILE = path.join(PROJECT_ROOT, 'config', 'default.json');
const DEV_PKI_DIR = path.join(PROJECT_ROOT, 'certs-dev');

/** Keys starting with `_` are comments (`"_comment": "…"`), dropped before validation. */
function withoutComments(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutComments);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !k.startsWith('_'))
      .map(([k, x]) => [k, withoutComments(x)]),
  );
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`HUB_CONFIG: cannot read ${file}: ${(err as Error).message}`], file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${file}: not valid JSON: ${(err as Error).message}`], file);
  }
  if (!isPlainObject(parsed)) throw new ConfigError([`${file}: must hold a JSON object`], file);
  return withoutComments(parsed) as Record<string, unknown>;
}

function envValue(value: string, type: EnvType): unknown {
  if (type === 'number') return Number(value);
  // true/1 or false/0; anything else is left as text for the schema to refuse with the key's name.
  if (type === 'boolean' && /^(true|1|false|0)$/.test(value)) return value === 'true' || value === '1';
  if (type === 'list')
    return value
      .split(/[\s,]+/) // comma- or space-separated
      .map((s) => s.trim())
      .filter(Boolean);
  return value;
}

function patchAt(keys: readonly string[], value: unknown): Record<string, unknown> {
  return keys.reduceRight<unknown>((inner, k) => ({ [k]: inner }), value) as Record<string, unknown>;
}

function has(o: unknown, keys: readonly (string | number | symbol)[]): boolean {
  let cur = o;
  for (const k of keys) {
    if (!isPlainObject(cur) || !(String(k) in cur)) return false;
    cur = cur[String(k)];
  }
  return true;
}

/** The keys the schema knows at a path (for "did you mean"). */
function knownKeys(keys: readonly PropertyKey[]): string[] {
  let node: z.ZodType = ConfigSchema;
  for (const k of keys) {
    while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
    if (!(node instanceof z.ZodObject)) return [];
    const next = (node.shape as Record<string, z.ZodType | undefined>)[String(k)];
    if (!next) return [];
    node = next;
  }
  while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const scored = known
    .map((k) => ({ k, d: editDistance(unknown.toLowerCase(), k.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(unknown.length / 3)))
    .sort((x, y) => x.d - y.d);
  return scored[0]?.k;
}

/**
 * Whether a secret is guessable: shorter than 32 characters once blanks are trimmed, a short pattern
 * repeated, or under 80 bits by its own character frequencies (Shannon; 32 random hex digits carry
 * 90–125, in a million draws never less than 89; 44 random base64 characters ≈ 200; "k" × 32 carries 0).
 */
export function weakSecretProblem(secret: string): string | null {
  const s = secret.trim();
  if (s.length < 32) return `too short: ${s.length} characters without surrounding blanks, at least 32`;
  for (let period = 1; period <= s.length / 2; period++)
    if (
      s ===
      s
        .slice(0, period)
        .repeat(Math.ceil(s.length / period))
        .slice(0, s.length)
    )
      return `low entropy: repeats a ${period}-character pattern`;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= n * Math.log2(n / s.length);
  if (bits < 80)
    return `low entropy: about ${Math.round(bits)} bits (${counts.size} distinct characters), at least 80`;
  return null;
}

/** A setting as messages name it: its path and the variable that sets it (`pki.hubKey (HUB_KEY)`). */
export function settingName(keys: readonly string[]): string {
  const v = Object.entries(ENV_MAP).find(([, spec]) => spec.path.join('.') === keys.join('.'))?.[0];
  return `${keys.join('.')}${v ? ` (${v})` : ''}`;
}

export function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const overlayFile = env.HUB_CONFIG ? path.resolve(env.HUB_CONFIG) : undefined;
  const files = overlayFile ? `${DEFAULT_CONFIG_FILE} overlaid by ${overlayFile}` : DEFAULT_CONFIG_FILE;
  const base = readConfigFile(DEFAULT_CONFIG_FILE);
  const overlay = overlayFile ? readConfigFile(overlayFile) : {};
  let raw = merge(base, overlay);
  const fromEnv = new Map<string, string>(); // config path → variable that set it
  for (const [name, spec] of Object.entries(ENV_MAP)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    raw = merge(raw, patchAt(spec.path, envValue(value, spec.type)));
    fromEnv.set(spec.path.join('.'), name);
  }
  raw = merge(raw, overrides);
  /** Where a setting's value came from, for messages: the variable, else the file that holds it. */
  const origin = (keys: readonly PropertyKey[]): string => {
    for (let n = keys.length; n > 0; n--) {
      const v = fromEnv.get(keys.slice(0, n).map(String).join('.'));
      if (v) return `environment ${v}`;
    }
    const named = keys.map(String);
    if (overlayFile && has(overlay, named)) return overlayFile;
    if (has(base, named)) return DEFAULT_CONFIG_FILE;
    return 'default';
  };

  // Variables the files say must come from the environment (production: secrets and addresses).
  const required = Array.isArray(raw.fromEnvironment) ? (raw.fromEnvironment as unknown[]) : [];
  const missing = required
    .filter((n): n is string => typeof n === 'string' && n in ENV_MAP && !env[n])
    .map(
      (n) =>
        `${n} (${ENV_MAP[n]!.path.join('.')}) must be set in the environment: ${origin(['fromEnvironment'])} lists it in fromEnvironment`,
    );
  if (missing.length) throw new ConfigError(missing, files);

  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.flatMap((i) => {
      const at = i.path.map(String);
      if (i.code === 'unrecognized_keys')
        return i.keys.map((k) => {
          const hint = suggestKey(k, knownKeys(i.path));
          const where = [...at, k].join('.');
          return `${where}: unknown key in ${origin(at)}${hint ? ` (did you mean ${[...at, hint].join('.')}?)` : ''}`;
        });
      return [`${at.join('.') || '(root)'}: ${i.message} (${origin(i.path)})`];
    });
    throw new ConfigError(lines, files);
  }
  const cfg = result.data;
  if (env.NODE_ENV === 'production') cfg.mode = 'production';
  // Relative paths are relative to the project root, whatever the working directory.
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(PROJECT_ROOT, p));
  cfg.pki.trustDir = abs(cfg.pki.trustDir);
  cfg.pki.hubCert = abs(cfg.pki.hubCert);
  cfg.pki.hubKey = abs(cfg.pki.hubKey);
  cfg.pki.previousHubCerts = cfg.pki.previousHubCerts.map(abs);
  cfg.seed.directoryFile = cfg.seed.directoryFile && abs(cfg.seed.directoryFile);
  cfg.seed.certsManifest = cfg.seed.certsManifest && abs(cfg.seed.certsManifest);
  cfg.seed.usersFile = cfg.seed.usersFile && abs(cfg.seed.usersFile);

  if (cfg.mode === 'production') {
    const problems: string[] = [];
    const key = cfg.credentials.key;
    const at = (keys: string[]) => `${settingName(keys)} from ${origin(keys)}`;
    const devKey = (base.credentials as { key?: unknown } | undefined)?.key;
    if (key === devKey || /DEV-ONLY/i.test(key))
      problems.push(
        `${at(['credentials', 'key'])}: the development key; set a random secret of 32+ characters`,
      );
    else {
      const weak = weakSecretProblem(key);
      if (weak) problems.push(`${at(['credentials', 'key'])}: ${weak}`);
    }
    const pkiPaths: [string, string][] = [
      ['trustDir', cfg.pki.trustDir],
      ['hubCert', cfg.pki.hubCert],
      ['hubKey', cfg.pki.hubKey],
      ...cfg.pki.previousHubCerts.map((p, i): [string, string] => [`previousHubCerts.${i}`, p]),
    ];
    for (const [k, p] of pkiPaths)
      if (isInside(DEV_PKI_DIR, p))
        problems.push(`${at(['pki', k])}: ${p} is the development PKI (certs-dev/); use the production one`);
    for (const k of ['directoryFile', 'certsManifest', 'usersFile'] as const)
      if (cfg.seed[k])
        problems.push(
          `${at(['seed', k])}: ${cfg.seed[k]} seeds development data (DEV-ONLY secrets); set it to ""`,
        );
    if (cfg.federation.allowInsecureLoopback)
      problems.push(
        `${at(['federation', 'allowInsecureLoopback'])}: http:// peers on loopback are for development only; set it to false`,
      );
    if (cfg.directory.allowHttpEndpoints)
      problems.push(
        `${at(['directory', 'allowHttpEndpoints'])}: push endpoints over plain http:// are for development only; set it to false`,
      );
    const why = env.NODE_ENV === 'production' ? 'NODE_ENV=production' : `mode from ${origin(['mode'])}`;
    if (problems.length) throw new ConfigError(problems, `production mode (${why}); ${files}`);
  }
  return deepFreeze(cfg);
}

/** Whether the development PKI is on this machine (it is not in the production image). */
export function devPkiDir(): string | null {
  return existsSync(DEV_PKI_DIR) ? DEV_PKI_DIR : null;
}
