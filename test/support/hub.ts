/**
 * Test harness: a real hub (api + worker roles) on an ephemeral port, against the real FerretDB
 * and RabbitMQ, with a database name and queue prefix unique to the test file. `close()` drops
 * the database and deletes the queues and exchanges it declared.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHub, type Hub } from '../../src/app.ts';
import { loadConfig, PROJECT_ROOT, type ConfigOverrides } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { HubClient } from '../../src/sdk/client.ts';
import { loadSigningKey, type SigningKey } from '../../src/crypto/signature.ts';
import { Originals } from '../../src/documents/originals.ts';
import { createTopology } from '../../src/delivery/topology.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import amqp from 'amqplib';

export interface TestHub {
  readonly hub: Hub;
  readonly url: string;
  readonly dbName: string;
  client(code: string): HubClient;
  signingKey(code: string): SigningKey;
  close(): Promise<void>;
}

const seed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-directory.json'), 'utf8')) as {
  systems: { systemId: string; secret: string; agencyCodes: string[] }[];
};

export function devSigningKey(code: string): SigningKey {
  return loadSigningKey(
    path.join(PROJECT_ROOT, 'certs-dev/agencies', `${code}.pem`),
    path.join(PROJECT_ROOT, 'certs-dev/agencies', `${code}.key.pem`),
  );
}

export async function startTestHub(
  name: string,
  overrides: ConfigOverrides = {},
  opts: { log?: Logger } = {},
): Promise<TestHub> {
  const suffix = `${name.replace(/[^a-z0-9]/gi, '').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const dbName = `t_${suffix}`;
  const config = loadConfig(process.env, {
    amqp: { prefix: `t.${suffix}`, shards: 2 },
    delivery: { outboxIntervalMs: 200, outboxGraceMs: 1000 },
    log: { level: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent' },
    ...overrides,
    // Ephemeral public and ops ports, whatever else a test sets under http.
    http: { port: 0, host: '127.0.0.1', ...overrides.http, opsPort: 0 },
  });
  const hub = await createHub(config, {
    dbName,
    log: opts.log ?? createLogger(config.log.level),
    defaultMetrics: false,
  });
  return {
    hub,
    url: hub.url!,
    dbName,
    client(code: string) {
      const sys = seed.systems.find((s) => s.agencyCodes.includes(code));
      if (!sys) throw new Error(`no dev system for ${code}`);
      return new HubClient({ baseUrl: hub.url!, systemId: sys.systemId, secret: sys.secret });
    },
    signingKey: devSigningKey,
    close: () => disposeHub(hub),
  };
}

/**
 * What a hub that is not running left behind — a refused start, a child process — removed by name:
 * the database (`uri`, or `dbName` on it) and the queues and exchanges of its queue prefix.
 */
export async function purgeByName(o: {
  readonly uri: string;
  readonly dbName?: string;
  readonly prefix: string;
  readonly shards: number;
}): Promise<void> {
  const conn = await connectMongo(o.uri, o.dbName ? { dbName: o.dbName } : {});
  await conn.dropDatabase().catch(() => undefined);
  await conn.close();
  const config = loadConfig({});
  const t = createTopology(o.prefix, o.shards, config.delivery.retryDelaysMs);
  const broker = await amqp.connect(config.amqp.urls[0]!);
  try {
    // A queue or exchange that was never declared closes the channel: one channel per name.
    for (const [kind, names] of [
      ['queue', t.allQueues()],
      ['exchange', t.allExchanges()],
    ] as const)
      for (const n of names) {
        const c = await broker.createChannel();
        await (kind === 'queue' ? c.deleteQueue(n) : c.deleteExchange(n)).catch(() => undefined);
        await c.close().catch(() => undefined);
      }
  } finally {
    await broker.close();
  }
}

/** Deletes the queues and exchanges a test hub declared and drops its database (the hub keeps running). */
export async function purgeHub(hub: Hub): Promise<void> {
  await hub.broker
    .withChannel(async (ch) => {
      for (const q of hub.topology.allQueues()) await ch.deleteQueue(q).catch(() => undefined);
      for (const x of hub.topology.allExchanges()) await ch.deleteExchange(x).catch(() => undefined);
    })
    .catch(() => undefined);
  await hub.mongo.dropDatabase().catch(() => undefined);
}

/** purgeHub, then stops the hub. */
export async function disposeHub(hub: Hub): Promise<void> {
  await purgeHub(hub);
  await hub.stop();
}

/**
 * What a restore to an earlier point leaves of a delivery that was made: queued again (an hour ago),
 * its task long consumed (hubctl deliveries requeue repairs it).
 */
export async function rewindDelivery(hub: Hub, deliveryId: string): Promise<void> {
  await hub.stores.models.Delivery.updateOne(
    { _id: deliveryId },
    {
      $set: { transport: 'queued', queuedAt: new Date(Date.now() - 3_600_000) },
      $unset: { availableAt: 1 },
    },
  );
}

/** Polls until fn returns a truthy value, or fails after timeoutMs. */
export async function eventually<T>(
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A recipient system pulls a document from its inbox and acknowledges it, as a DMS does. */
export async function pullAndAck(recipient: HubClient, documentId: string): Promise<void> {
  const item = await eventually(
    async () => (await recipient.inbox({ type: 'edoc' })).items.find((i) => i.documentId === documentId),
    20_000,
    'the document in the recipient inbox',
  );
  await recipient.download(item.id);
  await recipient.ack(item.id);
}

/**
 * Runs fn with the DocumentId sender rule (documents/originals.ts) switched off, as a hub before
 * issue 18 ran: to put in place a document that carries another agency's DocumentId.
 */
export async function withoutDocumentIdRule<T>(fn: () => Promise<T>): Promise<T> {
  const rule = Object.getOwnPropertyDescriptor(Originals.prototype, 'checkDocumentId')!;
  Object.defineProperty(Originals.prototype, 'checkDocumentId', { ...rule, value: async () => {} });
  try {
    return await fn();
  } finally {
    Object.defineProperty(Originals.prototype, 'checkDocumentId', rule);
  }
}
