/**
 * Configuration: read once from config/default.json, overridden by environment variables,
 * validated with zod and frozen. A bad value fails start-up with a message naming the key.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseAddressRule } from './vdxp/admin-gate.ts';

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

const ConfigSchema = z.object({
  roles: z.array(Role).min(1),
  http: z.object({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    publicUrl: z.string(),
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
        perAddress: z.object({ burst: z.number().int().min(1), perSecond: z.number().positive() }),
        perCredential: z.object({ burst: z.number().int().min(1), perSecond: z.number().positive() }),
      })
      .default({
        perAddress: { burst: 2000, perSecond: 1000 },
        perCredential: { burst: 1000, perSecond: 500 },
      }),
  }),
  mongodb: z.object({ uri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URI') }),
  amqp: z.object({
    urls: z.array(z.string().regex(/^amqps?:\/\//, 'must be an amqp:// URL')).min(1),
    prefix: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i),
    shards: z.number().int().min(1).max(256),
    prefetch: z.number().int().min(1).max(10000),
  }),
  pki: z.object({
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
    crlUrls: z.array(z.string().url()),
    crlRefreshMs: z.number().int().min(1000),
    crlFetchTimeoutMs: z.number().int().min(100),
    certExpiryWarnDays: z.number().int().min(1),
    ocsp: z.boolean(),
    // A CRL without nextUpdate is stale this long after its thisUpdate (issue 18 §6).
    crlMaxAgeWithoutNextUpdateHours: z.number().positive().default(24),
  }),
  crypto: z.object({
    verifyWorkers: z.number().int().min(0).max(64),
    /** Bytes of messages being verified at once (pool); more wait their turn: bounds memory. */
    verifyBytesInFlight: z
      .number()
      .int()
      .min(1024 * 1024),
  }),
  xml: z.object({ maxDepth: z.number().int().min(8), maxElements: z.number().int().min(100) }),
  auth: z.object({ clockSkewSeconds: z.number().int().min(1) }),
  credentials: z.object({
    key: z.string().min(32, 'must be at least 32 characters'),
    /** Keys being rotated out: stored secrets sealed with them still open (issue 23, hubctl credentials reseal). */
    previousKeys: z.array(z.string().min(32, 'must be at least 32 characters')).default([]),
  }),
  delivery: z.object({
    outboxGraceMs: z.number().int().min(0),
    outboxIntervalMs: z.number().int().min(50),
    abandonedAfterMs: z.number().int().min(1000),
    retryDelaysMs: z.array(z.number().int().min(100)).min(1).max(10),
    maxAttempts: z.number().int().min(1).max(100),
    pushTimeoutMs: z.number().int().min(100),
    breakerThreshold: z.number().int().min(1),
    breakerCooldownMs: z.number().int().min(100),
  }),
  seed: z.object({
    directoryFile: z.string(),
    certsManifest: z.string(),
    // DEVELOPMENT ONLY: web UI accounts (config/seed-users.json); "" in production.
    usersFile: z.string().default(''),
  }),
  // Agency directory (docs/directory.md): code group widths per level-1 body, level-1 letters
  // reserved to a block (an assumption: the Party and Front letters are not public).
  directory: z.object({
    codeWidths: z.object({
      default: z.array(z.number().int().min(1).max(10)).min(1),
      byLevel1: z.record(
        z.string().regex(/^[A-Y]\d\d$/, 'must be a level-1 code'),
        z.array(z.number().int().min(1).max(10)).min(1),
      ),
    }),
    blockLetters: z.object({
      party: z.array(z.string().regex(/^[A-Y]$/)),
      state: z.array(z.string().regex(/^[A-Y]$/)),
      front: z.array(z.string().regex(/^[A-Y]$/)),
      other: z.array(z.string().regex(/^[A-Y]$/)),
    }),
    versionLeaseMs: z.number().int().min(1000),
    maxPageSize: z.number().int().min(10).max(10000),
    importMaxRows: z.number().int().min(1),
  }),
  // National-axis API (/vdxp, docs/national-axis.md): registerAgency/deleteAgency are off unless
  // enabled, and then only for these systems from these addresses (issue 18 §5: the axis signs no
  // body and fixes its timestamp, so captured headers replay forever).
  vdxp: z
    .object({
      adminOperations: z.object({
        enabled: z.boolean(),
        allowedSystems: z.array(z.string().min(1)),
        allowedAddresses: z.array(
          z.string().refine((s) => parseAddressRule(s) !== null, 'must be an IP address or CIDR block'),
        ),
      }),
    })
    .default({ adminOperations: { enabled: false, allowedSystems: [], allowedAddresses: [] } }),
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;
export type Role = z.infer<typeof Role>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};
export type ConfigOverrides = DeepPartial<z.infer<typeof ConfigSchema>>;

/** Environment variables and the config path they override. */
const ENV_MAP: Record<string, { path: string[]; type: 'string' | 'number' | 'list' }> = {
  HUB_ROLES: { path: ['roles'], type: 'list' },
  HOST: { path: ['http', 'host'], type: 'string' },
  PORT: { path: ['http', 'port'], type: 'number' },
  PUBLIC_URL: { path: ['http', 'publicUrl'], type: 'string' },
  MAX_MESSAGE_BYTES: { path: ['http', 'maxMessageBytes'], type: 'number' },
  TRUST_PROXY: { path: ['http', 'trustProxy'], type: 'string' },
  OPS_HOST: { path: ['http', 'opsHost'], type: 'string' },
  OPS_PORT: { path: ['http', 'opsPort'], type: 'number' },
  MONGODB_URI: { path: ['mongodb', 'uri'], type: 'string' },
  AMQP_URL: { path: ['amqp', 'urls'], type: 'list' },
  AMQP_PREFIX: { path: ['amqp', 'prefix'], type: 'string' },
  AMQP_SHARDS: { path: ['amqp', 'shards'], type: 'number' },
  TRUST_DIR: { path: ['pki', 'trustDir'], type: 'string' },
  HUB_CERT: { path: ['pki', 'hubCert'], type: 'string' },
  HUB_KEY: { path: ['pki', 'hubKey'], type: 'string' },
  HUB_PINS: { path: ['pki', 'hubPins'], type: 'list' },
  REVOCATION_MODE: { path: ['pki', 'revocation'], type: 'string' },
  CREDENTIALS_KEY: { path: ['credentials', 'key'], type: 'string' },
  LOG_LEVEL: { path: ['log', 'level'], type: 'string' },
  CREDENTIALS_PREVIOUS_KEYS: { path: ['credentials', 'previousKeys'], type: 'list' },
  VERIFY_WORKERS: { path: ['crypto', 'verifyWorkers'], type: 'number' },
  VERIFY_BYTES_IN_FLIGHT: { path: ['crypto', 'verifyBytesInFlight'], type: 'number' },
};

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

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const file = env.HUB_CONFIG ?? path.join(PROJECT_ROOT, 'config', 'default.json');
  let raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const [name, spec] of Object.entries(ENV_MAP)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (spec.type === 'number') parsed = Number(value);
    if (spec.type === 'list')
      parsed = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const patch: Record<string, unknown> = {};
    const keys = [...spec.path];
    const last = keys.pop()!;
    let cursor = patch;
    for (const k of keys) {
      const next: Record<string, unknown> = {};
      cursor[k] = next;
      cursor = next;
    }
    cursor[last] = parsed;
    raw = merge(raw, patch);
  }
  raw = merge(raw, overrides);
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration (${file} and environment):\n${lines.join('\n')}`);
  }
  const cfg = result.data;
  // Relative paths are relative to the project root, whatever the working directory.
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(PROJECT_ROOT, p));
  cfg.pki.trustDir = abs(cfg.pki.trustDir);
  cfg.pki.hubCert = abs(cfg.pki.hubCert);
  cfg.pki.hubKey = abs(cfg.pki.hubKey);
  cfg.pki.previousHubCerts = cfg.pki.previousHubCerts.map(abs);
  cfg.seed.directoryFile = cfg.seed.directoryFile && abs(cfg.seed.directoryFile);
  cfg.seed.certsManifest = cfg.seed.certsManifest && abs(cfg.seed.certsManifest);
  cfg.seed.usersFile = cfg.seed.usersFile && abs(cfg.seed.usersFile);
  return deepFreeze(cfg);
}
