/**
 * The service graph (docs/architecture.md ## Service graph): the one place where the hub's adapters
 * and services are built, once, for the hub (src/app.ts: HTTP, web UI, /vdxp, workers) and for
 * hubctl (src/cli/context.ts). config → store connection and stores → trust store, revocation, the
 * hub's signing key and receipt signer → services.
 *
 * What needs no I/O to build is built at once; what reads files, loads data or starts threads or
 * connections is built on first use (then the same instance for every caller), so a process builds
 * only what its roles use: hubctl never loads the hub's key, a worker-only process never opens the
 * web UI's account stores nor the verification pool. `stop()` closes what was opened, in reverse
 * order, and is safe to call twice.
 *
 * Adding a service: one field below (a `once(() => …)` when it does I/O), built from what is
 * already here; then use it from createHub or a hubctl command.
 */
import { readFileSync } from 'node:fs';
import type { Connection } from 'mongoose';
import type { Broker } from './broker/amqp.ts';
import { CertificateService } from './certs/service.ts';
import type { Config } from './config.ts';
import { buildSignedReceipt } from './crypto/receipt.ts';
import { RevocationService } from './crypto/revocation.ts';
import type { SigningKey } from './crypto/signature.ts';
import { TrustStore } from './crypto/trust.ts';
import { LocalVerifier } from './crypto/verifier.ts';
import type { VerifierPool } from './crypto/verifier-pool.ts';
import { x509 } from './crypto/x509.ts';
import { DeadLetterService } from './delivery/dead-letters.ts';
import type { DeliveryPublisher } from './delivery/publisher.ts';
import type { Topology } from './delivery/topology.ts';
import { DirectoryService } from './directory/service.ts';
import { DocumentQueries } from './documents/queries.ts';
import type { ReceiptSigner, SubmissionService } from './documents/submission.ts';
import { exportEvidence, type EvidenceExportOptions } from './evidence/bundle.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, type HubMetrics } from './observability/metrics.ts';
import { FederationService } from './federation/service.ts';
import type { PeerAdmin } from './federation/admin.ts';
import { MongoPeerDefinitionStore, MongoPeerStateStore } from './store/peer-store.ts';
import { checkStartFiles } from './ops/start-checks.ts';
import { connectMongo } from './store/mongo.ts';
import { MongoSignatureLedger } from './store/signature-ledger.ts';
import { createMongoStores, type MongoStores } from './store/stores.ts';
import { setGroupCommitInFlight } from './store/group-commit.ts';
import { MongoSystemStore } from './store/system-store.ts';
import { openUserStores } from './store/user-store.ts';
import type { MongoVdxpStore } from './store/vdxp-store.ts';
import type { MongoWebQueryStore } from './store/web-store.ts';
import { createVdxpStore, createWebQueryStore } from './store/query-stores.ts';
import { SystemsService } from './systems/service.ts';
import type { SystemCredential } from './domain/types.ts';
import { CredentialCache } from './systems/credential-cache.ts';
import { CERTIFICATE_WRITES, DirectoryCache, invalidatingWrites } from './directory/cache.ts';
import { createUserServices, type UserServices } from './users/accounts.ts';

export interface ServicesOptions {
  readonly dbName?: string;
  readonly log?: Logger;
  /** The hub's metrics (the CLI has none: a registry of its own, never scraped). */
  readonly metrics?: HubMetrics;
  /**
   * The hub: its certificate and key are checked and loaded before anything connects (their errors
   * come first). hubctl leaves it out: its commands never sign.
   */
  readonly loadHubKey?: boolean;
  /** Verification in a worker-thread pool (crypto.verifyWorkers): the api role of the hub. */
  readonly verifierPool?: boolean;
}

/** The hub's signing key with the intermediates of its certificate (receipts carry them). */
export type HubKey = SigningKey & { readonly chainPem: readonly string[] };

export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: HubMetrics;
  readonly mongo: Connection;
  readonly stores: MongoStores;
  /** Agency-system credentials (sealed secrets): hubctl systems, /v1/admin/systems, the web UI. */
  readonly systemStore: MongoSystemStore;
  readonly directory: DirectoryService;
  readonly queries: DocumentQueries;
  readonly systems: SystemsService;
  /** Directory lookups of the hot path (routing, the worker's delivery mode), re-read before refusals. */
  readonly directoryCache: DirectoryCache;
  /** Request authentication's credentials: `stores.credentials` behind this process's cache. */
  readonly credentials: CredentialCache;
  readonly deadLetters: DeadLetterService;
  readonly signatures: MongoSignatureLedger;
  readonly vdxpStore: MongoVdxpStore;
  readonly webStore: MongoWebQueryStore;
  /** Federation peers (src/federation, docs/federation.md); `enabled` false when none is configured. */
  readonly federation: FederationService;
  /** Peers managed by administrators (hubctl peers add|update|..., the UI; src/federation/admin.ts). */
  readonly peerAdmin: PeerAdmin;
  /** The trust anchors of config.pki (with OCSP as configured), the CRLs of `revocation()` loaded. */
  trust(): Promise<TrustStore>;
  /** The CRLs kept in MongoDB, loaded into `trust()`. */
  revocation(): Promise<RevocationService>;
  /** The hub's certificate (PEM), read once. */
  hubCertificatePem(): string;
  /** The hub's signing key, checked and read once (with loadHubKey: before connecting). */
  hubKey(): Promise<HubKey>;
  receipts(): Promise<ReceiptSigner>;
  /** Signature verification: a worker-thread pool in an api process with crypto.verifyWorkers > 0. */
  verifier(): Promise<LocalVerifier | VerifierPool>;
  certificates(): Promise<CertificateService>;
  /** Evidence bundles (hubctl evidence export, /v1 and the web UI). */
  evidence(docId: string, o?: EvidenceExportOptions): Promise<Buffer>;
  /** Web UI accounts, sessions and login throttling (hubctl users, hubctl identity, the web UI). */
  accounts(): Promise<UserServices>;
  /** The broker, started, with the topology declared on each (re)connection. */
  messaging(): Promise<{ broker: Broker; topology: Topology; publisher: DeliveryPublisher }>;
  submissions(): Promise<SubmissionService>;
  /** Closes what was opened (pool, broker, store connection), in reverse order; safe to call twice. */
  stop(): Promise<void>;
}

/** Built on first call, the same promise afterwards (a failed build is tried again next time). */
function once<T>(build: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () =>
    (p ??= build().catch((err: unknown) => {
      p = undefined;
      throw err;
    }));
}

export async function createServices(config: Config, opts: ServicesOptions = {}): Promise<Services> {
  const log = opts.log ?? createLogger(config.log.level);
  const metrics = opts.metrics ?? createMetrics(false);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse())
      await c().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'stop step failed'));
  };
  try {
    // Files first (hub certificate and key, trust anchors): their errors come before any connection.
    const ownKey = opts.loadHubKey ? checkStartFiles(config) : undefined;
    const mongo = await connectMongo(config.mongodb.uri, {
      ...(opts.dbName ? { dbName: opts.dbName } : {}),
      // The hub's statement counters (hub_store_statements_total); the CLI's registry is never scraped.
      ...(opts.metrics && config.mongodb.statementMetrics
        ? { onStatement: (s) => metrics.countStatement(s) }
        : {}),
    });
    closers.push(() => mongo.close());
    setGroupCommitInFlight(config.mongodb.groupCommitInFlight);
    const stores = await createMongoStores(mongo, config.credentials, { directory: config.directory });
    const systemStore = new MongoSystemStore(mongo, config.credentials);
    // Federation (src/federation, docs/federation.md): peers, remote units, relay, polling.
    const federation = new FederationService({
      config: config.federation,
      state: new MongoPeerStateStore(mongo),
      definitions: new MongoPeerDefinitionStore(mongo, config.credentials),
      agencies: stores.agencies,
      log,
      registry: metrics.registry,
    });
    const directoryCache = new DirectoryCache(stores.agencies, {
      refreshMs: config.directory.cacheRefreshMs,
    });
    // Federation: a peer's inbound system id acts for its remote units (src/federation/peers.ts).
    // Always wired: administrators may add a peer at run time (hubctl peers add).
    const peerAware = federation.credentials(stores.credentials);
    const credentialSource = {
      find: (systemId: string) => peerAware.find(systemId),
      upsert: (c: SystemCredential) => stores.credentials.upsert(c),
    };
    const credentials = new CredentialCache(credentialSource, {
      ttlMs: config.auth.credentialCacheMs,
      // A peer's caller identity carries the peer's agencies as last synced: never kept.
      readThrough: (systemId) => federation.peers.byInboundSystem(systemId) !== undefined,
    });
    const p = config.pki;

    const bareTrust = once(() =>
      TrustStore.fromDirectory(p.trustDir, {
        revocation: p.revocation,
        maxCrlAgeSeconds: p.maxCrlStalenessSeconds,
        maxAgeWithoutNextUpdateSeconds: p.crlMaxAgeWithoutNextUpdateHours * 3600,
        ocsp: p.ocsp,
      }),
    );
    const limits = {
      maxBytes: config.http.maxMessageBytes,
      maxDepth: config.xml.maxDepth,
      maxElements: config.xml.maxElements,
    };
    // Verification is CPU-bound: a worker-thread pool keeps the event loop free (0 = in-process).
    const usePool = opts.verifierPool === true && config.crypto.verifyWorkers > 0;
    // Modules only the hub needs are loaded when first used: hubctl starts faster without them.
    const pool = once(async () => {
      const { VerifierPool } = await import('./crypto/verifier-pool.ts');
      const created = await VerifierPool.create({
        size: config.crypto.verifyWorkers,
        maxBytesInFlight: config.crypto.verifyBytesInFlight,
        trustDir: p.trustDir,
        revocation: p.revocation,
        maxCrlAgeSeconds: p.maxCrlStalenessSeconds,
        maxAgeWithoutNextUpdateSeconds: p.crlMaxAgeWithoutNextUpdateHours * 3600,
        ocsp: p.ocsp,
        limits,
      });
      closers.push(() => created.close());
      return created;
    });
    const revocation = once(async () => {
      const r = new RevocationService(await bareTrust(), stores, log, {
        crlUrls: p.crlUrls,
        fetchTimeoutMs: p.crlFetchTimeoutMs,
        refresh: { periodMs: p.crlRefreshMs },
        metrics,
      });
      // The pool's threads get every CRL loaded, the first ones included.
      if (usePool) {
        const threads = await pool();
        r.onCrl((der) => threads.broadcastCrl(der));
      }
      await r.load();
      return r;
    });
    const trust = async () => {
      await revocation();
      return bareTrust();
    };
    let certificatePem = ownKey?.certificatePem;
    const hubCertificatePem = () => (certificatePem ??= readFileSync(p.hubCert, 'utf8'));
    let loadedKey = ownKey;
    const hubKey = once(async () => {
      const key = (loadedKey ??= checkStartFiles(config));
      const chain = await (await trust()).intermediatesOf(new x509.X509Certificate(key.certificatePem));
      return { ...key, chainPem: chain.map((c) => c.toString('pem')) };
    });
    const verifier = once(async (): Promise<LocalVerifier | VerifierPool> => {
      const t = await trust();
      return usePool ? pool() : new LocalVerifier(t, limits);
    });
    const receipts = once(async (): Promise<ReceiptSigner> => {
      const key = await hubKey();
      return { sign: (data) => buildSignedReceipt(data, key) };
    });
    const messaging = once(async () => {
      const [{ Broker }, { createTopology, declareTopology }, { DeliveryPublisher }] = await Promise.all([
        import('./broker/amqp.ts'),
        import('./delivery/topology.ts'),
        import('./delivery/publisher.ts'),
      ]);
      const topology = createTopology(config.amqp.prefix, config.amqp.shards, config.delivery.retryDelaysMs);
      const broker = new Broker(config.amqp.urls, log, (ch) => declareTopology(ch, topology));
      await broker.start();
      closers.push(() => broker.close());
      return { broker, topology, publisher: new DeliveryPublisher(broker, topology, stores.outbox, log) };
    });
    const certificates = once(
      async () =>
        new CertificateService(
          // Pins and revocations made here reach this process's cached senders at once.
          {
            agencies: stores.agencies,
            certificates: invalidatingWrites(stores.certificates, directoryCache, CERTIFICATE_WRITES),
          },
          await trust(),
          stores.audit,
          await revocation(),
        ),
    );

    const deadLetters = new DeadLetterService(stores, stores.audit);
    let stopped: Promise<void> | undefined;
    return {
      config,
      log,
      metrics,
      mongo,
      stores,
      systemStore,
      directoryCache,
      directory: new DirectoryService({
        store: invalidatingWrites(stores.agencies, directoryCache),
        audit: stores.audit,
        settings: config.directory,
      }),
      queries: new DocumentQueries(stores),
      credentials,
      systems: new SystemsService({
        store: systemStore,
        agencies: stores.agencies,
        audit: stores.audit,
        onChange: (systemId) => credentials.invalidate(systemId),
      }),
      deadLetters,
      peerAdmin: federation.admin({
        audit: stores.audit,
        systems: stores.credentials,
        deadLetter: async (d, reason) => {
          await deadLetters.record(
            Buffer.from(
              JSON.stringify({
                deliveryId: d.id,
                docId: d.docId,
                recipientCode: d.recipientCode,
                attempt: 0,
              }),
            ),
            reason,
          );
        },
      }),
      signatures: new MongoSignatureLedger(mongo),
      vdxpStore: createVdxpStore(mongo, stores),
      webStore: createWebQueryStore(stores),
      federation,
      trust,
      revocation,
      hubCertificatePem,
      hubKey,
      receipts,
      verifier,
      certificates,
      evidence: async (docId, o = {}) =>
        exportEvidence(docId, { stores, trust: await trust(), hubCertPem: hubCertificatePem() }, o),
      accounts: once(async () => createUserServices(await openUserStores(mongo), stores)),
      messaging,
      submissions: once(async () => {
        const { SubmissionService } = await import('./documents/submission.ts');
        const [m, v, r] = await Promise.all([messaging(), verifier(), receipts()]);
        // SubmissionService still builds its own write adapters from `stores` (issue 20, writemodel).
        return new SubmissionService({
          stores,
          verifier: v,
          receipts: r,
          publisher: m.publisher,
          directory: directoryCache,
          metrics,
          log,
          federation: federation.rules,
        });
      }),
      stop: () => (stopped ??= close()),
    };
  } catch (err) {
    await close();
    throw err;
  }
}
