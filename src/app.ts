/**
 * The hub process: the service graph (src/services.ts builds the adapters and services, once), then
 * the process's roles on it: workers and periodic jobs, the HTTP app (/v1, /vdxp, /ui) and the ops
 * port. `stop()` closes them in reverse order (the service graph last) and is safe to call twice.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import type { Broker } from './broker/amqp.ts';
import type { Config } from './config.ts';
import { describeHubCertificates } from './crypto/hub-signed.ts';
import { VerifierPool } from './crypto/verifier-pool.ts';
import { DEFAULT_CRL_RETRY_MIN_MS, type RevocationService } from './crypto/revocation.ts';
import { PeriodicJob } from './ops/periodic.ts';
import { alertExpiringCertificates } from './ops/cert-expiry.ts';
import { RevocationFreshness } from './ops/revocation-freshness.ts';
import { assertCredentialsKeyOpens, assertNoPendingMigrations } from './ops/start-checks.ts';
import { assessReadiness, brokerEffect, type ReadinessProbe } from './ops/readiness.ts';
import type { Topology } from './delivery/topology.ts';
import { OutboxRelay } from './delivery/publisher.ts';
import { DeliveryWorker } from './delivery/worker.ts';
import { startDeadLetterConsumer } from './delivery/dead-letters.ts';
import { PushClient } from './delivery/push.ts';
import { CircuitBreakers } from './delivery/circuit-breaker.ts';
import { seedDirectory } from './directory/seed.ts';
import type { DirectoryService } from './directory/service.ts';
import type { SubmissionService } from './documents/submission.ts';
import { createHttpApp } from './http/server.ts';
import type { SystemsService } from './systems/service.ts';
import { createWebUi, seedDevUsers } from './web/index.ts';
import { createOpsApp } from './http/ops-server.ts';
import { MongoPeriodLeases } from './store/lease-store.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, type HubMetrics } from './observability/metrics.ts';
import { pingMongo } from './store/mongo.ts';
import type { MongoStores } from './store/stores.ts';
import { pendingMigrations, runMigrations } from './store/migrations.ts';
import { createServices, type Services } from './services.ts';
import { PeerJobs, type PeerJob } from './federation/jobs.ts';
import type { FederationService } from './federation/service.ts';

export interface Hub {
  readonly config: Config;
  /** The service graph this hub runs on (src/services.ts). */
  readonly services: Services;
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
  /** Federation peers (docs/federation.md); `enabled` false when none is configured. */
  readonly federation: FederationService;
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
    // The service graph (src/services.ts): the hub's key and trust anchors are checked before it
    // connects; it is stopped last (after the listeners, workers and jobs below).
    const services = await createServices(config, {
      ...(opts.dbName ? { dbName: opts.dbName } : {}),
      log,
      metrics,
      loadHubKey: true,
      verifierPool: config.roles.includes('api'),
    });
    cleanups.push(() => services.stop());
    const { mongo, stores, directory, systems, deadLetters } = services;
    // A credentials key that cannot open the stored secrets would answer every call 500: refuse now.
    assertCredentialsKeyOpens(await services.systemStore.checkKey());
    await migrateAtStart(config, stores, log);
    const seeded = await seedDirectory(stores, config.seed, config.directory);
    if (seeded.agencies || seeded.systems) log.info(seeded, 'development directory seeded');
    for (const r of await directory.recoverInterruptedImports())
      log.warn(r, 'interrupted directory import rolled back');

    const { broker, topology, publisher } = await services.messaging();
    const trust = await services.trust();
    // Freshness of the revocation data: gauges at each scrape, /readyz, alerts (issue 18 §6).
    const freshness = new RevocationFreshness(trust, metrics, log, { mode: config.pki.revocation });
    metrics.onRevocationScrape(() => freshness.updateGauges());
    trust.onOcsp((e) => freshness.recordOcsp(e));
    const revocation = await services.revocation();
    const verifier = await services.verifier();
    if (verifier instanceof VerifierPool) verifier.onOcsp((e) => freshness.recordOcsp(e));
    const hubKey = await services.hubKey();
    const hubCertificates = {
      signingEku: config.pki.hubSigningEku,
      certificates: describeHubCertificates([
        hubKey.certificatePem,
        ...config.pki.previousHubCerts.map((f) => readFileSync(f, 'utf8')),
      ]),
    };
    const submissions = await services.submissions();
    const { federation } = services;
    // The peers defined by administrators, read before anything relays, polls or authenticates.
    await federation.refresh();

    let worker: DeliveryWorker | null = null;
    let relay: OutboxRelay | null = null;
    if (config.roles.includes('worker')) {
      const breakers = new CircuitBreakers({
        threshold: config.delivery.breakerThreshold,
        cooldownMs: config.delivery.breakerCooldownMs,
      });
      worker = new DeliveryWorker({
        broker,
        topology,
        stores,
        directory: services.directoryCache,
        publisher,
        push: new PushClient(createPrivateKey(hubKey.privateKeyPem), config.delivery.pushTimeoutMs),
        breakers,
        metrics,
        log,
        prefetch: config.amqp.prefetch,
        maxAttempts: config.delivery.maxAttempts,
        // Always wired: a peer added at run time is relayed to without a restart.
        peers: federation.relay(breakers),
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
      // Federation: each enabled peer's agencies refreshed, and each peer polled, once per period
      // across the cluster; the jobs follow the peers as administrators change them (PeerJobs).
      const poller = federation.poller(submissions);
      const retryMs = config.federation.syncRetryMs;
      const peerJobs = new PeerJobs((peer) => [
        new PeriodicJob(
          `federation-sync:${peer.id}`,
          peer.config.syncIntervalMs,
          () => federation.directory.sync(peer),
          log,
          leased,
        ),
        // A peer not reached at its sync (down at our start, say) is tried again every retryMs
        // until it answers, not a sync interval later. Per process: in step, it is one read.
        delayedStart(
          new PeriodicJob(
            `federation-sync-retry:${peer.id}`,
            retryMs,
            () => federation.directory.syncIfBehind(peer),
            log,
          ),
          retryMs,
        ),
        ...(peer.config.pollIntervalMs > 0
          ? [
              new PeriodicJob(
                `federation-poll:${peer.id}`,
                peer.config.pollIntervalMs,
                () => poller.poll(peer),
                log,
                leased,
              ),
            ]
          : []),
      ]);
      peerJobs.apply(federation.peers);
      federation.onChange((peers) => peerJobs.apply(peers));
      cleanups.push(() => peerJobs.stop());
    }

    // Every role re-reads the peers defined by administrators: the bound federation.refreshMs.
    const peersJob = new PeriodicJob(
      'federation-peers',
      config.federation.refreshMs,
      () => federation.refresh(),
      log,
    );
    peersJob.start(config.federation.refreshMs);
    cleanups.push(() => peersJob.stop());
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
      ? await createWebUi(services, {
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
    const { signatures } = services;
    if (config.roles.includes('api')) await signatures.ensureIndexes();
    const app = config.roles.includes('api')
      ? createHttpApp({
          log,
          ...(ui ? { ui: ui.deps } : {}),
          metrics,
          credentials: services.credentials,
          submissions,
          queries: services.queries,
          certificates: await services.certificates(),
          deadLetters,
          directory,
          systems,
          vdxp: {
            store: services.vdxpStore,
            adminOperations: config.vdxp.adminOperations,
            audit: stores.audit,
          },
          evidence: (docId) => services.evidence(docId),
          hubCertificates,
          federation: {
            list: () => federation.list(),
            setEnabled: (actor, id, enabled) => services.peerAdmin.setEnabled(actor, id, enabled),
          },
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
      services,
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
      federation,
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

/**
 * Data migrations at start (docs/deployment.md ## Migrations): run when store.migrateOnStart is set
 * (development); otherwise a production hub refuses to start while one is pending, and a development
 * one says which are.
 */
async function migrateAtStart(config: Config, stores: MongoStores, log: Logger): Promise<void> {
  if (config.store.migrateOnStart) {
    const ran = await runMigrations(stores, {
      onProgress: (p) => p.event === 'done' && log.info(p, 'migration done'),
    });
    if (ran.length) log.info({ migrations: ran }, 'data migrations ran at start (store.migrateOnStart)');
    return;
  }
  const pending = (await pendingMigrations(stores.models)).map((m) => m.name);
  if (config.mode === 'production') assertNoPendingMigrations(pending);
  else if (pending.length) log.warn({ pending }, 'pending data migrations: run hubctl migrate');
}

/** A job whose first run waits `ms` whatever delay it is started with (PeerJobs starts at once). */
function delayedStart(job: PeriodicJob, ms: number): PeerJob {
  return { start: () => job.start(ms), stop: () => job.stop() };
}
