/**
 * Composition root: the only place where adapters are constructed. Stores, then broker and
 * topology, then services, then the HTTP app and workers. `stop()` closes them in order and is
 * safe to call twice.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import { Broker } from './broker/amqp.ts';
import type { Config } from './config.ts';
import { TrustStore } from './crypto/trust.ts';
import { buildSignedReceipt } from './crypto/receipt.ts';
import { describeHubCertificates } from './crypto/hub-signed.ts';
import { x509 } from './crypto/x509.ts';
import { LocalVerifier } from './crypto/verifier.ts';
import { VerifierPool } from './crypto/verifier-pool.ts';
import { DEFAULT_CRL_RETRY_MIN_MS, RevocationService } from './crypto/revocation.ts';
import { PeriodicJob } from './ops/periodic.ts';
import { alertExpiringCertificates } from './ops/cert-expiry.ts';
import { RevocationFreshness } from './ops/revocation-freshness.ts';
import { assertCredentialsKeyOpens, checkStartFiles } from './ops/start-checks.ts';
import { assessReadiness, brokerEffect, type ReadinessProbe } from './ops/readiness.ts';
import { createTopology, declareTopology, type Topology } from './delivery/topology.ts';
import { DeliveryPublisher, OutboxRelay } from './delivery/publisher.ts';
import { DeliveryWorker } from './delivery/worker.ts';
import { DeadLetterService, startDeadLetterConsumer } from './delivery/dead-letters.ts';
import { PushClient } from './delivery/push.ts';
import { CircuitBreakers } from './delivery/circuit-breaker.ts';
import { seedDirectory } from './directory/seed.ts';
import { DirectoryService } from './directory/service.ts';
import { exportEvidence } from './evidence/bundle.ts';
import { CertificateService } from './certs/service.ts';
import { DocumentQueries } from './documents/queries.ts';
import { SubmissionService } from './documents/submission.ts';
import { createHttpApp } from './http/server.ts';
import { SystemsService } from './systems/service.ts';
import { MongoSystemStore } from './store/system-store.ts';
import { createVdxpStore } from './store/query-stores.ts';
import { createWebUi, seedDevUsers } from './web/index.ts';
import { createOpsApp } from './http/ops-server.ts';
import { MongoPeriodLeases } from './store/lease-store.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, type HubMetrics } from './observability/metrics.ts';
import { connectMongo, pingMongo } from './store/mongo.ts';
import { createMongoStores, type MongoStores } from './store/stores.ts';
import { MongoSignatureLedger } from './store/signature-ledger.ts';

export interface Hub {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: HubMetrics;
  readonly stores: MongoStores;
  readonly broker: Broker;
  readonly topology: Topology;
  readonly submissions: SubmissionService;
  readonly worker: DeliveryWorker | null;
  readonly relay: OutboxRelay | null;
  readonly server: http.Server;
  /** Base URL of the HTTP server when the api role runs. */
  readonly url: string | null;
  /** Base URL of /healthz, /readyz and /metrics (every role): the ops port of an api process. */
  readonly healthUrl: string;
  readonly mongo: Connection;
  readonly revocation: RevocationService;
  readonly directory: DirectoryService;
  readonly systems: SystemsService;
  /**
   * Graceful stop: /readyz answers 503 `draining` while requests are still served for `drainMs`
   * (config shutdown.drainMs, which main.ts passes; 0 when not given, as in tests), then the listeners
   * close, in-flight requests and tasks finish, and the broker and the store close. Safe to call twice.
   */
  stop(opts?: { readonly drainMs?: number }): Promise<void>;
}

export interface CreateHubOptions {
  readonly dbName?: string;
  readonly log?: Logger;
  readonly defaultMetrics?: boolean;
}

export async function createHub(config: Config, opts: CreateHubOptions = {}): Promise<Hub> {
  // Every line names the roles of this process (docs/deployment.md ## Logs); pid and host come from
  // the logger's base.
  const log = (opts.log ?? createLogger(config.log.level)).child({ role: config.roles.join('+') });
  const metrics = createMetrics(opts.defaultMetrics ?? true);
  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async () => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'stop step failed'));
  };
  try {
    // Files first (hub certificate and key, trust anchors): their errors come before any connection.
    const ownKey = checkStartFiles(config);
    const mongo = await connectMongo(config.mongodb.uri, opts.dbName ? { dbName: opts.dbName } : {});
    cleanups.push(() => mongo.close());
    const stores = await createMongoStores(mongo, config.credentials, { directory: config.directory });
    // A credentials key that cannot open the stored secrets would answer every call 500: refuse now.
    const systemStore = new MongoSystemStore(mongo, config.credentials);
    assertCredentialsKeyOpens(await systemStore.checkKey());
    const seeded = await seedDirectory(stores, config.seed, config.directory);
    if (seeded.agencies || seeded.systems) log.info(seeded, 'development directory seeded');
    const directory = new DirectoryService({
      store: stores.agencies,
      audit: stores.audit,
      settings: config.directory,
    });
    for (const r of await directory.recoverInterruptedImports())
      log.warn(r, 'interrupted directory import rolled back');

    const topology = createTopology(config.amqp.prefix, config.amqp.shards, config.delivery.retryDelaysMs);
    const broker = new Broker(config.amqp.urls, log, (ch) => declareTopology(ch, topology));
    await broker.start();
    cleanups.push(() => broker.close());

    const trust = await TrustStore.fromDirectory(config.pki.trustDir, {
      revocation: config.pki.revocation,
      maxCrlAgeSeconds: config.pki.maxCrlStalenessSeconds,
      maxAgeWithoutNextUpdateSeconds: config.pki.crlMaxAgeWithoutNextUpdateHours * 3600,
      ocsp: config.pki.ocsp,
    });
    // Freshness of the revocation data: gauges at each scrape, /readyz, alerts (issue 18 §6).
    const freshness = new RevocationFreshness(trust, metrics, log, { mode: config.pki.revocation });
    metrics.onRevocationScrape(() => freshness.updateGauges());
    trust.onOcsp((e) => freshness.recordOcsp(e));
    const revocation = new RevocationService(trust, stores, log, {
      crlUrls: config.pki.crlUrls,
      fetchTimeoutMs: config.pki.crlFetchTimeoutMs,
      refresh: { periodMs: config.pki.crlRefreshMs },
      metrics,
    });
    const limits = {
      maxBytes: config.http.maxMessageBytes,
      maxDepth: config.xml.maxDepth,
      maxElements: config.xml.maxElements,
    };
    // Verification is CPU-bound: a worker-thread pool keeps the event loop free (0 = in-process).
    let verifier: LocalVerifier | VerifierPool = new LocalVerifier(trust, limits);
    if (config.crypto.verifyWorkers > 0 && config.roles.includes('api')) {
      const pool = await VerifierPool.create({
        size: config.crypto.verifyWorkers,
        maxBytesInFlight: config.crypto.verifyBytesInFlight,
        trustDir: config.pki.trustDir,
        revocation: config.pki.revocation,
        maxCrlAgeSeconds: config.pki.maxCrlStalenessSeconds,
        maxAgeWithoutNextUpdateSeconds: config.pki.crlMaxAgeWithoutNextUpdateHours * 3600,
        ocsp: config.pki.ocsp,
        limits,
      });
      cleanups.push(() => pool.close());
      pool.onOcsp((e) => freshness.recordOcsp(e));
      revocation.onCrl((der) => pool.broadcastCrl(der));
      verifier = pool;
    }
    await revocation.load();
    // Receipts carry the hub certificate's intermediates: verifiers need only the roots.
    const hubKey = {
      ...ownKey,
      chainPem: (await trust.intermediatesOf(new x509.X509Certificate(ownKey.certificatePem))).map((c) =>
        c.toString('pem'),
      ),
    };
    const hubCertificates = {
      signingEku: config.pki.hubSigningEku,
      certificates: describeHubCertificates([
        hubKey.certificatePem,
        ...config.pki.previousHubCerts.map((f) => readFileSync(f, 'utf8')),
      ]),
    };
    const publisher = new DeliveryPublisher(broker, topology, stores.outbox, log);
    const submissions = new SubmissionService({
      stores,
      verifier,
      receipts: { sign: (data) => buildSignedReceipt(data, hubKey) },
      publisher,
      metrics,
      log,
    });
    const queries = new DocumentQueries(stores);
    const deadLetters = new DeadLetterService(stores.models, stores.audit);
    // Agency-system credentials: hubctl systems, /v1/admin/systems and the web UI share it.
    const systems = new SystemsService({
      store: systemStore,
      agencies: stores.agencies,
      audit: stores.audit,
    });

    let worker: DeliveryWorker | null = null;
    let relay: OutboxRelay | null = null;
    if (config.roles.includes('worker')) {
      worker = new DeliveryWorker({
        broker,
        topology,
        stores,
        publisher,
        push: new PushClient(
          createPrivateKey(readFileSync(config.pki.hubKey)),
          config.delivery.pushTimeoutMs,
        ),
        breakers: new CircuitBreakers({
          threshold: config.delivery.breakerThreshold,
          cooldownMs: config.delivery.breakerCooldownMs,
        }),
        metrics,
        log,
        prefetch: config.amqp.prefetch,
        maxAttempts: config.delivery.maxAttempts,
      });
      await worker.start();
      await startDeadLetterConsumer(broker, topology, deadLetters, log, () => metrics.deadLetters.inc());
      relay = new OutboxRelay(stores, publisher, log, {
        graceMs: config.delivery.outboxGraceMs,
        intervalMs: config.delivery.outboxIntervalMs,
        abandonedAfterMs: config.delivery.abandonedAfterMs,
      });
      relay.start();
      const r = relay;
      cleanups.push(() => r.stop());
      // Cluster-wide jobs run once per period across all workers: a MongoDB lease per period
      // (unique insert, src/store/lease-store.ts) picks the one process that runs it.
      const leases = new MongoPeriodLeases(mongo);
      const leased = { lease: leases, holder: MongoPeriodLeases.defaultHolder(config.roles.join('+')) };
      // Revocation data and certificate expiry: fetched by workers, shared through MongoDB.
      const crlJob = new PeriodicJob(
        'crl-refresh',
        config.pki.crlRefreshMs,
        () => revocation.fetchAll(),
        log,
        leased,
      );
      crlJob.start();
      cleanups.push(() => crlJob.stop());
      // Sooner than the period, in every worker (issue 23): retries after a failed fetch, and CRLs near
      // or past their nextUpdate fetched again until the CA publishes a newer one.
      const crlUrgent = new PeriodicJob(
        'crl-urgent',
        config.pki.crlRefreshMs,
        () => revocation.refreshUrgent(),
        log,
        { nextDelayMs: () => revocation.nextDelayMs() },
      );
      crlUrgent.start(DEFAULT_CRL_RETRY_MIN_MS);
      cleanups.push(() => crlUrgent.stop());
      const expiryJob = new PeriodicJob(
        'cert-expiry',
        3_600_000,
        () => alertExpiringCertificates(stores.certificates, metrics, log, config.pki.certExpiryWarnDays),
        log,
        // Only the period's winner holds the gauge's value: max() over processes is the cluster's.
        { ...leased, onSkip: () => metrics.certificatesExpiring.set(0) },
      );
      expiryJob.start(5_000);
      cleanups.push(() => expiryJob.stop());
      // Deadlines: overdue deliveries raise an alert (Decree 30: same-day receipt; hỏa tốc at once).
      const overdueJob = new PeriodicJob(
        'overdue',
        60_000,
        async () => {
          const overdue = await stores.deliveries.overdue(new Date(), 1000);
          metrics.overdueDeliveries.set(overdue.length);
          for (const d of overdue.slice(0, 20))
            log.warn(
              { deliveryId: d.id, recipient: d.recipientCode, deadline: d.deadline },
              'delivery overdue: not accepted (03) in time',
            );
        },
        log,
        { ...leased, onSkip: () => metrics.overdueDeliveries.set(0) },
      );
      overdueJob.start(2_000);
      cleanups.push(() => overdueJob.stop());
    }

    // Every role reloads the shared CRLs (only the newer ones are read: cheap, so often).
    const crlLoad = new PeriodicJob(
      'crl-load',
      Math.min(15_000, config.pki.crlRefreshMs),
      () => revocation.load(),
      log,
    );
    crlLoad.start(Math.min(15_000, config.pki.crlRefreshMs));
    cleanups.push(() => crlLoad.stop());
    // Every process holds its own copy of the CRLs: each checks and alerts on it, every minute.
    const freshnessJob = new PeriodicJob(
      'revocation-freshness',
      60_000,
      () => Promise.resolve(freshness.alert()),
      log,
    );
    freshnessJob.start();
    cleanups.push(() => freshnessJob.stop());

    let url: string | null = null;
    let stopping = false;
    let draining = false;
    // One probe per dependency (src/ops/readiness.ts; the matrix in docs/deployment.md).
    const probes: ReadinessProbe[] = [
      {
        name: 'mongodb',
        probe: async () => {
          const up = await pingMongo(mongo);
          return { up, effect: up ? 'ok' : 'down', ...(up ? {} : { reason: 'MongoDB does not answer' }) };
        },
      },
      { name: 'rabbitmq', probe: () => brokerEffect(config.roles, broker.health()) },
      {
        // Stale revocation data: degraded, not unready (docs/deployment.md).
        name: 'revocation',
        probe: () => {
          const revocation = freshness.health();
          return revocation.status === 'stale'
            ? {
                effect: 'degraded',
                degradedAs: 'revocation-stale',
                reason: 'revocation data stale',
                detail: { revocation },
              }
            : { effect: 'ok', detail: { revocation } };
        },
      },
    ];
    const ready = () => assessReadiness(probes, draining || stopping);
    // The api serves /v1 with the health endpoints, and /metrics on the ops port; a worker-only
    // process serves /healthz, /readyz and /metrics alone on its port (probes and scraping of every
    // process).
    // The web UI for clerks and administrators (src/web, docs/ui.md) is served by the api role.
    const ui = config.roles.includes('api')
      ? await createWebUi({
          mongo,
          stores,
          directory,
          log,
          publicUrl: config.http.publicUrl,
          secureCookies: config.http.secureCookies,
          certExpiryWarnDays: config.pki.certExpiryWarnDays,
          maxImportBytes: config.http.maxMessageBytes,
        })
      : null;
    if (ui) {
      cleanups.push(() => ui.stop());
      const seededUsers = await seedDevUsers(ui.deps.users, config.seed.usersFile);
      if (seededUsers)
        log.info({ users: seededUsers }, 'development web UI accounts seeded (DEV-ONLY passwords)');
    }
    const signatures = new MongoSignatureLedger(mongo);
    if (config.roles.includes('api')) await signatures.ensureIndexes();
    const app = config.roles.includes('api')
      ? createHttpApp({
          log,
          ...(ui ? { ui: ui.deps } : {}),
          metrics,
          credentials: stores.credentials,
          submissions,
          queries,
          certificates: new CertificateService(stores, trust, stores.audit, revocation),
          deadLetters,
          directory,
          systems,
          vdxp: {
            store: createVdxpStore(mongo, stores),
            adminOperations: config.vdxp.adminOperations,
            audit: stores.audit,
          },
          evidence: (docId) =>
            exportEvidence(docId, {
              stores,
              trust,
              hubCertPem: hubKey.certificatePem,
            }),
          hubCertificates,
          maxMessageBytes: config.http.maxMessageBytes,
          trustProxy: config.http.trustProxy,
          intake: { ...config.http, clockSkewSeconds: config.auth.clockSkewSeconds },
          signatures,
          isStopping: () => stopping,
          ready,
        })
      : createOpsApp({ metrics, roles: config.roles, ready, isStopping: () => stopping });
    const listen = async (handler: http.RequestListener, port: number, host: string) => {
      const srv = http.createServer(handler);
      srv.keepAliveTimeout = config.http.keepAliveTimeoutMs;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, host, () => resolve());
      });
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            stopping = true;
            srv.close(() => resolve());
            srv.closeIdleConnections();
            setTimeout(() => srv.closeAllConnections(), 10_000).unref();
          }),
      );
      return { srv, url: `http://${host}:${(srv.address() as AddressInfo).port}` };
    };
    const main = await listen(app, config.http.port, config.http.host);
    const server: http.Server = main.srv;
    let healthUrl = main.url;
    if (config.roles.includes('api')) {
      url = config.http.publicUrl || main.url;
      // /metrics only on the ops port (issue 18 §6), an api process serves that port too.
      const opsApp = createOpsApp({ metrics, roles: config.roles, ready, isStopping: () => stopping });
      healthUrl = (await listen(opsApp, config.http.opsPort, config.http.opsHost)).url;
    }

    let stopped: Promise<void> | null = null;
    return {
      config,
      log,
      metrics,
      stores,
      broker,
      topology,
      submissions,
      worker,
      relay,
      server,
      url,
      healthUrl,
      mongo,
      revocation,
      directory,
      systems,
      stop: (opts = {}) =>
        (stopped ??= (async () => {
          draining = true;
          const drainMs = opts.drainMs ?? 0;
          if (drainMs > 0) {
            log.info({ drainMs }, 'draining: /readyz answers 503 while requests are still served');
            await new Promise((r) => setTimeout(r, drainMs));
          }
          await runCleanups();
        })()),
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
