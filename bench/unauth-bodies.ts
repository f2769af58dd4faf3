/**
 * Memory bound of /v1 intake (issue 18 §4, docs/reliability.md "Large bodies"): starts a hub process
 * (api role, its own database and queue prefix), then sends
 *   1. N unauthenticated POSTs of M MiB in parallel (no Authorization header),
 *   2. N POSTs of M MiB in parallel signed by a known system (X-Hub-Content-SHA256, valid HMAC),
 * and prints the hub's resident set size (VmRSS, and the peak VmHWM per phase when the kernel lets
 * us reset it) before and after each phase, with the answers' status codes.
 *
 *   npm run bench:intake [-- --parallel 16 --mib 24]
 */
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { CONTENT_SHA256_HEADER, signRequest } from '../src/http/hmac-auth.ts';
import { connectMongo } from '../src/store/mongo.ts';
import { freePort, HubProcess } from '../test/fault/harness.ts';
import { postLarge, type LargePost } from '../test/support/large-post.ts';

const { values: args } = parseArgs({
  options: {
    parallel: { type: 'string', default: '16' },
    mib: { type: 'string', default: '24' },
  },
});
const N = Number(args.parallel);
const SIZE = Number(args.mib) * 1024 * 1024;
const SYSTEM = { systemId: 'dms-H29.001', secret: 'DEV-ONLY-secret-H29.001' }; // DEV-ONLY seed credential

function memory(pid: number) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (k: string) => Math.round(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024);
  return { rssMiB: mib('VmRSS'), peakMiB: mib('VmHWM') };
}

function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* not permitted: the peak then covers the run so far */
  }
}

const tally = (rs: LargePost[]) =>
  Object.entries(
    rs.reduce<Record<string, number>>((acc, r) => {
      const k = `${r.status}${r.code ? ` ${r.code}` : ''}`;
      acc[k] = (acc[k] ?? 0) + 1;
      return acc;
    }, {}),
  )
    .map(([k, n]) => `${n} × ${k}`)
    .join(', ');

async function phase(hub: HubProcess, name: string, headers: () => Record<string, string>) {
  resetPeak(hub.pid);
  const before = memory(hub.pid);
  const t0 = Date.now();
  const rs = await Promise.all(
    Array.from({ length: N }, () => postLarge(hub.url, '/v1/documents', headers(), SIZE)),
  );
  const ms = Date.now() - t0;
  global.gc?.();
  const after = memory(hub.pid);
  const sentMiB = Math.round(rs.reduce((a, r) => a + r.bytesSent, 0) / 1024 / 1024);
  console.log(
    `${name}: ${N} × ${SIZE / 1024 / 1024} MiB in parallel, ${ms} ms; answers ${tally(rs)}; ` +
      `client handed over ${sentMiB} MiB; hub RSS ${before.rssMiB} → ${after.rssMiB} MiB, peak ${after.peakMiB} MiB`,
  );
}

async function main() {
  const config = loadConfig();
  const suffix = randomBytes(4).toString('hex');
  const dbName = `bench_unauth_${suffix}`;
  const prefix = `bench-unauth-${suffix}`;
  const uri = config.mongodb.uri.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  const hub = new HubProcess(await freePort(), {
    MONGODB_URI: uri,
    AMQP_PREFIX: prefix,
    HUB_ROLES: 'api',
    LOG_LEVEL: 'warn',
  });
  await hub.start();
  try {
    // Let start-up settle (seeding, first CRL fetch) before the first reading.
    await new Promise((r) => setTimeout(r, 2000));
    console.log(`hub pid ${hub.pid} at ${hub.url}; at rest: RSS ${memory(hub.pid).rssMiB} MiB`);
    await phase(hub, 'unauthenticated', () => ({}));
    const bodySha256 = createHash('sha256').update(Buffer.alloc(SIZE, 0x61)).digest('hex');
    await phase(hub, 'authenticated', () => ({
      authorization: signRequest(SYSTEM.systemId, SYSTEM.secret, {
        method: 'POST',
        pathWithQuery: '/v1/documents',
        timestamp: Math.floor(Date.now() / 1000),
        nonce: randomBytes(16).toString('base64url'),
        bodySha256,
      }),
      [CONTENT_SHA256_HEADER]: bodySha256,
    }));
    await phase(hub, 'unauthenticated again', () => ({}));
  } finally {
    await hub.stop();
    const mongo = await connectMongo(uri);
    await mongo.dropDatabase().catch(() => undefined);
    await mongo.close();
  }
}

await main();
