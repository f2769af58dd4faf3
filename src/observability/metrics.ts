/**
 * Prometheus metrics. Each app instance owns its registry so that several hubs in one test
 * process do not share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoreStatement } from '../store/mongo.ts';

export interface HubMetrics {
  readonly registry: Registry;
  readonly documentsAccepted: Counter<'type'>;
  readonly documentsRefused: Counter<'code'>;
  readonly deliveriesDelivered: Counter<'mode'>;
  readonly deliveryLatency: Histogram<'mode'>;
  readonly deliveryListing: Histogram;
  readonly submissionStages: Histogram<'stage'>;
  readonly statusesRelayed: Counter<'code'>;
  readonly certificatesExpiring: Gauge;
  readonly deadLetters: Counter;
  readonly overdueDeliveries: Gauge;
  readonly revocationSourceAge: Gauge<'source'>;
  readonly revocationSourceStale: Gauge<'source'>;
  /** Failed CRL fetches per distribution point URL (issue 23). */
  readonly crlFetchFailures: Counter<'url'>;
  /** Sets what refreshes the revocation gauges at each scrape (src/ops/revocation-freshness.ts). */
  onRevocationScrape(fn: () => void): void;
  /** /v1 bodies over http.largeBodyBytes being received or handled (src/http/intake.ts). */
  readonly largeBodiesInFlight: Gauge;
  /** Store statements sent, by command and collection (the driver's command monitoring, issue 20). */
  readonly storeStatements: Counter<'command' | 'collection'>;
  /** The writing ones among them (insert, update, delete, findAndModify, bulkWrite). */
  readonly storeWriteStatements: Counter<'command' | 'collection'>;
  /** Seconds the statements took, as the driver measured them (sent → answer decoded). */
  readonly storeStatementSeconds: Counter<'command' | 'collection'>;
  /** Feeds the three store counters: pass it to connectMongo's `onStatement`. */
  countStatement(s: StoreStatement): void;
}

export function createMetrics(withDefaults = true): HubMetrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'hub_' });
  // Ages are computed at scrape time, so they never lag behind the clock.
  let revocationScrape: () => void = () => undefined;
  const statementLabels = ['command', 'collection'] as const;
  const storeStatements = new Counter({
    name: 'hub_store_statements_total',
    help:
      'Store statements sent by this process, by command (find, insert, update, findAndModify, getMore, …) ' +
      "and collection ('' for none), from the MongoDB driver's command monitoring",
    labelNames: statementLabels,
    registers: [registry],
  });
  const storeWriteStatements = new Counter({
    name: 'hub_store_write_statements_total',
    help:
      'The writing store statements among them (insert, update, delete, findAndModify, bulkWrite): one ' +
      "write transaction each on FerretDB's SQLite, whatever the number of documents",
    labelNames: statementLabels,
    registers: [registry],
  });
  const storeStatementSeconds = new Counter({
    name: 'hub_store_statement_seconds_total',
    help: 'Time of the store statements as the driver measured it (sent → answer), by command and collection',
    labelNames: statementLabels,
    registers: [registry],
  });
  return {
    storeStatements,
    storeWriteStatements,
    storeStatementSeconds,
    countStatement(s) {
      const labels = { command: s.command, collection: s.collection };
      storeStatements.inc(labels);
      if (s.write) storeWriteStatements.inc(labels);
      storeStatementSeconds.inc(labels, s.seconds);
    },
    onRevocationScrape(fn) {
      revocationScrape = fn;
    },
    revocationSourceAge: new Gauge({
      name: 'hub_revocation_source_age_seconds',
      help:
        'Age of each revocation data source: seconds since the thisUpdate of the CRL of a trusted CA ' +
        '(source="crl:<issuer DN>"), or of the last answer of an OCSP responder (source="ocsp:<url>")',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        revocationScrape();
      },
    }),
    revocationSourceStale: new Gauge({
      name: 'hub_revocation_source_stale',
      help:
        '1 when a revocation source is stale: a CRL missing, past its nextUpdate (+ pki.maxCrlStalenessSeconds) ' +
        'or without nextUpdate and older than pki.crlMaxAgeWithoutNextUpdateHours (in require mode the ' +
        'hub then refuses what that CA issued); an OCSP responder whose last answer failed (CRLs decide). 0 otherwise',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        revocationScrape();
      },
    }),
    crlFetchFailures: new Counter({
      name: 'hub_crl_fetch_failures_total',
      help:
        'Failed CRL fetches, by distribution point URL (unreachable, HTTP error, not a CRL, or not signed by ' +
        'a trusted CA); counted by the processes that fetch (workers, hubctl crl refresh not included)',
      labelNames: ['url'],
      registers: [registry],
    }),
    registry,
    documentsAccepted: new Counter({
      name: 'hub_documents_accepted_total',
      help: 'Messages accepted (edoc or status)',
      labelNames: ['type'],
      registers: [registry],
    }),
    documentsRefused: new Counter({
      name: 'hub_documents_refused_total',
      help: 'Submissions refused, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    deliveriesDelivered: new Counter({
      name: 'hub_deliveries_delivered_total',
      help: 'Deliveries completed (made available or pushed)',
      labelNames: ['mode'],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'hub_delivery_latency_seconds',
      help: 'Time from acceptance to availability at the recipient',
      labelNames: ['mode'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    deliveryListing: new Histogram({
      name: 'hub_delivery_listing_seconds',
      help:
        "Pull mode: time from the availability stamp (a delivery's availableAt) to the delivery listed in " +
        "the recipient's inbox (its two writes: availability, inbox entry)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    submissionStages: new Histogram({
      name: 'hub_submission_stage_seconds',
      help:
        'Time of a submission in each stage, accepted or not, up to where it ended: verify (signature, ' +
        'certificate, schema), checks (sender, replay, recipients, business rules), store (the writes up to ' +
        'the commit, receipt signed), publish (delivery tasks published and confirmed by the broker), ' +
        'outbox (the confirmed tasks cleared from the outbox)',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    statusesRelayed: new Counter({
      name: 'hub_statuses_relayed_total',
      help: 'Status messages accepted and relayed to the original sender',
      labelNames: ['code'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'hub_dead_letters_total',
      help: 'Delivery tasks dead-lettered (poison or attempts exhausted)',
      registers: [registry],
    }),
    overdueDeliveries: new Gauge({
      name: 'hub_deliveries_overdue',
      help: 'Deliveries past their acceptance deadline (DueDate / Priority) without status 03',
      registers: [registry],
    }),
    largeBodiesInFlight: new Gauge({
      name: 'hub_intake_large_bodies',
      help: '/v1 bodies over http.largeBodyBytes held by this process (at most http.maxConcurrentLargeBodies)',
      registers: [registry],
    }),
    certificatesExpiring: new Gauge({
      name: 'hub_certificates_expiring_soon',
      help: 'Registered agency certificates expiring within 30 days',
      registers: [registry],
    }),
  };
}
