/**
 * Federation configuration (`federation` in the hub's configuration; docs/federation.md):
 *
 *   federation.peers[]: {
 *     id              short name of the peer (lower-case letters, digits, '-')
 *     name            shown to administrators
 *     baseUrl         the peer's national-axis endpoint (`service.endpoint`, e.g. https://host/vdxp)
 *     systemId        the system id this hub holds at the peer
 *     secretFile | secretEnv   its secret: a file or an environment variable, never the config itself
 *     inbound         how the peer authenticates to this hub's /vdxp: { systemId, secretFile | secretEnv }
 *     caFile          PEM of the CA(s) trusted for the peer's TLS certificate (default: the system's)
 *     trustedRoots    PEM files of the root CAs trusted for the signatures of the peer's agencies
 *     outbound        `push` (default): documents to its units are sent with sendEdoc; `hold`: they
 *                     wait in this hub's pull inbox until the peer collects them (getReceivedEdocList)
 *     pollIntervalMs  how often the peer is polled for messages to this hub's agencies (0: never)
 *     syncIntervalMs  how often its agencies are refreshed (getAgenciesList)
 *   }
 *   federation.allowInsecureLoopback   http:// base URLs on 127.0.0.1/::1/localhost (development only)
 *
 *   federation.refreshMs   how often each process re-reads the peers defined by administrators
 *                          (`hubctl peers add|update|disable|...`): the bound for a change to apply
 *   federation.syncRetryMs how often a peer whose agency list was never fetched, or whose last
 *                          fetch failed, is tried again (until it answers; then syncIntervalMs)
 *
 * Peers come from two sources (docs/federation.md ## Peers managed by administrators): this
 * configuration, reviewed and deployed like the rest, and the store, where administrators add and
 * change them with hubctl (secrets sealed at rest). The configuration wins: a configured peer is
 * read-only for hubctl and the UI, and a stored peer clashing with it is left out and reported.
 * What is learnt at run time (agencies served, last contact, backlog, errors) is in the store.
 */
import { z } from 'zod';

/** A secret's location: a file or an environment variable, exactly one (never the value itself). */
const secretFields = {
  systemId: z.string().min(1),
  secretFile: z.string().min(1).optional(),
  secretEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
    .optional(),
};
const oneSecret = [
  (s: { secretFile?: string | undefined; secretEnv?: string | undefined }) =>
    (s.secretFile === undefined) !== (s.secretEnv === undefined),
  { message: 'exactly one of secretFile and secretEnv is required (secrets are never in the configuration)' },
] as const;

const Secret = z.strictObject(secretFields).refine(...oneSecret);

export const PeerConfigSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and -, at most 32'),
    name: z.string().min(1).optional(),
    baseUrl: z.string().url(),
    ...secretFields,
    inbound: Secret.optional(),
    caFile: z.string().min(1).optional(),
    trustedRoots: z.array(z.string().min(1)).min(1, 'name the root CAs trusted for this peer'),
    outbound: z.enum(['push', 'hold']).default('push'),
    pollIntervalMs: z.number().int().min(0).default(30_000),
    syncIntervalMs: z.number().int().min(1000).default(3_600_000),
    timeoutMs: z.number().int().min(100).default(30_000),
  })
  .refine(...oneSecret);

export const FederationConfigSchema = z
  .strictObject({
    peers: z.array(PeerConfigSchema).default([]),
    allowInsecureLoopback: z.boolean().default(false),
    refreshMs: z.number().int().min(100).default(10_000),
    syncRetryMs: z.number().int().min(100).default(60_000),
  })
  .superRefine((f, ctx) => {
    const ids = new Set<string>();
    f.peers.forEach((p, i) => {
      if (ids.has(p.id))
        ctx.addIssue({ code: 'custom', path: ['peers', i, 'id'], message: `peer id ${p.id} is used twice` });
      ids.add(p.id);
      const problem = baseUrlProblem(p.baseUrl, f.allowInsecureLoopback);
      if (problem) ctx.addIssue({ code: 'custom', path: ['peers', i, 'baseUrl'], message: problem });
    });
  })
  .default({ peers: [], allowInsecureLoopback: false, refreshMs: 10_000, syncRetryMs: 60_000 });

export type PeerConfig = z.infer<typeof PeerConfigSchema>;
export type FederationConfig = z.infer<typeof FederationConfigSchema>;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** https:// always; http:// only to a loopback address when allowInsecureLoopback is set. */
export function baseUrlProblem(baseUrl: string, allowInsecureLoopback: boolean): string | null {
  const u = new URL(baseUrl);
  if (u.protocol === 'https:') return null;
  if (u.protocol !== 'http:') return 'must be an https:// URL';
  if (allowInsecureLoopback && LOOPBACK.has(u.hostname)) return null;
  return allowInsecureLoopback
    ? 'http:// is allowed on loopback only'
    : 'must be an https:// URL (http:// only on loopback with federation.allowInsecureLoopback, development)';
}
