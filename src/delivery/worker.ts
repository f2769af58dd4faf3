/**
 * Delivery worker: consumes the shard queues and performs the final hop by the recipient's mode
 * (pull → inbox, push → HTTPS POST, amqp → the agency's own queue). The fate of each task is decided
 * in one place (`#fateOf`), as BullMQ does with its error classes:
 *   success or already delivered → ack;
 *   PoisonTaskError → dead-letter queue at once, with the reason;
 *   RefusedByEndpointError → the delivery ends as failed (the endpoint said no), ack;
 *   anything else → retried through the delay queues with exponential backoff until maxAttempts,
 *   then dead-lettered. Nothing is dropped silently: every end is recorded on the delivery.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Broker, ConsumeFate } from '../broker/amqp.ts';
import type { Stores } from '../domain/ports.ts';
import type { DeliveryRecord } from '../domain/types.ts';
import { deliveryIdFor } from '../domain/ids.ts';
import type { HubMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { Topology } from './topology.ts';
import type { DeliveryPublisher, DeliveryTask } from './publisher.ts';
import { RefusedByEndpointError, TransientDeliveryError, type PushClient } from './push.ts';
import type { CircuitBreakers } from './circuit-breaker.ts';
import type { PeerRelay } from '../federation/relay.ts';
import type { DirectoryCache } from '../directory/cache.ts';

export class PoisonTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonTaskError';
  }
}

export function parseTask(content: Buffer): DeliveryTask {
  let v: unknown;
  try {
    v = JSON.parse(content.toString('utf8'));
  } catch {
    throw new PoisonTaskError('task is not JSON');
  }
  const t = v as Partial<DeliveryTask>;
  if (
    typeof t.deliveryId !== 'string' ||
    typeof t.docId !== 'string' ||
    typeof t.recipientCode !== 'string'
  ) {
    throw new PoisonTaskError('task lacks deliveryId, docId or recipientCode');
  }
  return {
    deliveryId: t.deliveryId,
    docId: t.docId,
    recipientCode: t.recipientCode,
    attempt: Number(t.attempt) || 1,
  };
}

/**
 * Delay before retry number `attempt` (1-based): the configured delays grow exponentially
 * (10 s, 1 min, 10 min, 1 h by default) and the last one repeats. The delay queues have fixed TTLs.
 */
export function retryDelay(delays: readonly number[], attempt: number): number {
  return delays[Math.min(attempt - 1, delays.length - 1)]!;
}

export interface WorkerDeps {
  readonly broker: Broker;
  readonly topology: Topology;
  readonly stores: Pick<Stores, 'deliveries' | 'agencies' | 'documents'>;
  readonly publisher: DeliveryPublisher;
  readonly push: PushClient;
  readonly breakers: CircuitBreakers;
  readonly metrics: HubMetrics;
  readonly log: Logger;
  readonly prefetch: number;
  readonly maxAttempts: number;
  /** Federation: delivery mode `peer` (src/federation/relay.ts); absent when no peer is configured. */
  readonly peers?: Pick<PeerRelay, 'relay'>;
  /** The recipient's delivery mode looked up through this process's directory cache. */
  readonly directory?: DirectoryCache;
}

export class DeliveryWorker {
  readonly #d: WorkerDeps;
  readonly #declaredAgencyQueues = new Set<string>();

  constructor(deps: WorkerDeps) {
    this.#d = deps;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.#d.topology.shards; i++) {
      await this.#d.broker.consume(this.#d.topology.shardQueue(i), this.#d.prefetch, (msg) =>
        this.#handle(msg),
      );
    }
  }

  async #handle(msg: ConsumeMessage): Promise<ConsumeFate> {
    let task: DeliveryTask | undefined;
    try {
      task = parseTask(msg.content);
      await this.deliver(task);
      return 'ack';
    } catch (err) {
      const fate = await this.#fateOf(err, task);
      return fate === 'reject' ? this.#deadLetter(msg, (err as Error).message) : fate;
    }
  }

  /** To the dead-letter queue with the reason in a header; the queue's DLX is the fallback. */
  async #deadLetter(msg: ConsumeMessage, reason: string): Promise<ConsumeFate> {
    try {
      await this.#d.broker.publish(this.#d.topology.deadExchange, 'dead', msg.content, {
        contentType: 'application/json',
        headers: { 'x-hub-reason': reason.slice(0, 500) },
        ...(msg.properties.messageId ? { messageId: String(msg.properties.messageId) } : {}),
      });
      return 'ack';
    } catch {
      return 'reject';
    }
  }

  /**
   * The final hop. Idempotent: a task for a delivery already past `queued` is a no-op (an available
   * one is listed again, should a stop have come between making it available and listing it). The
   * pull path writes without reading the delivery first: the task names it and its recipient (the
   * delivery id derives from both), the store makes the conditional update (store/dialect.ts).
   */
  async deliver(task: DeliveryTask): Promise<void> {
    const { stores } = this.#d;
    let d: DeliveryRecord | null = null;
    let code = task.recipientCode;
    if (task.deliveryId !== deliveryIdFor(task.docId, task.recipientCode)) {
      // A task whose names disagree (never written by the hub): the delivery's own recipient wins.
      d = await stores.deliveries.get(task.deliveryId);
      if (!d) throw new PoisonTaskError(`no delivery ${task.deliveryId}`);
      code = d.recipientCode;
    }
    let agency = await (this.#d.directory ?? stores.agencies).findByCode(code);
    // A push endpoint missing from the cached record is read again before the task is given up.
    if (this.#d.directory && agency?.delivery.mode === 'push' && !agency.delivery.url)
      agency = await stores.agencies.findByCode(code);
    const mode = agency?.delivery.mode ?? 'pull';
    const now = new Date();
    if (mode === 'pull') {
      const r = await stores.deliveries.markAvailable(task.deliveryId, now);
      if (!r) throw new PoisonTaskError(`no delivery ${task.deliveryId}`);
      if (r.made) {
        this.#d.metrics.deliveryListing.observe((Date.now() - now.getTime()) / 1000);
        this.#delivered(mode, r.delivery);
      }
      return;
    }
    d ??= await stores.deliveries.get(task.deliveryId);
    if (!d) throw new PoisonTaskError(`no delivery ${task.deliveryId}`);
    if (d.transport !== 'queued') return;
    if (mode === 'push') {
      const url = agency?.delivery.url;
      if (!url)
        throw new PoisonTaskError(`agency ${d.recipientCode} is in push mode without an endpoint URL`);
      await this.#push(d, url);
    } else if (mode === 'peer') {
      // Federation hook: sendEdoc to the owning peer with the signed bytes unchanged ('pushed'), or
      // kept in the pull inbox for a peer that collects its messages itself ('hold').
      if (!this.#d.peers || !agency)
        throw new PoisonTaskError(`agency ${d.recipientCode} is a remote unit and federation is off`);
      const queued = d;
      const how = await this.#d.peers.relay(queued, agency, () => this.#payload(queued));
      if (how === 'hold') {
        const r = await stores.deliveries.markAvailable(queued.id, now);
        if (r?.made) this.#delivered(mode, r.delivery);
        return;
      }
    } else {
      await this.#toAgencyQueue(d);
    }
    if (await stores.deliveries.markPushed(d.id, new Date())) this.#delivered(mode, d);
  }

  #delivered(mode: string, d: DeliveryRecord): void {
    this.#d.metrics.deliveriesDelivered.inc({ mode });
    this.#d.metrics.deliveryLatency.observe({ mode }, (Date.now() - d.queuedAt.getTime()) / 1000);
  }

  async #payload(d: DeliveryRecord): Promise<Buffer> {
    const bytes = await this.#d.stores.documents.getPayload(d.docId);
    if (!bytes) throw new PoisonTaskError(`payload of ${d.docId} is missing`);
    return bytes;
  }

  async #push(d: DeliveryRecord, url: string): Promise<void> {
    const key = new URL(url).origin;
    if (!this.#d.breakers.allow(key)) throw new TransientDeliveryError(`circuit open for ${key}`);
    try {
      await this.#d.push.push({
        url,
        deliveryId: d.id,
        docId: d.docId,
        messageType: d.messageType,
        body: await this.#payload(d),
      });
      this.#d.breakers.success(key);
    } catch (err) {
      if (err instanceof TransientDeliveryError) this.#d.breakers.failure(key);
      else this.#d.breakers.success(key); // a refusal is an answer: the endpoint is alive
      throw err;
    }
  }

  async #toAgencyQueue(d: DeliveryRecord): Promise<void> {
    const queue = this.#d.topology.agencyQueue(d.recipientCode);
    if (!this.#declaredAgencyQueues.has(queue)) {
      await this.#d.broker.withChannel((ch) =>
        ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
      );
      this.#declaredAgencyQueues.add(queue);
    }
    await this.#d.broker.publish('', queue, await this.#payload(d), {
      messageId: d.id, // the agency deduplicates redeliveries on this id
      contentType: 'application/xml',
      headers: { 'x-hub-doc-id': d.docId, 'x-hub-message-type': d.messageType, 'x-hub-sender': d.senderCode },
    });
  }

  async #fateOf(err: unknown, task: DeliveryTask | undefined): Promise<ConsumeFate> {
    const { stores, log, topology, publisher } = this.#d;
    const reason = (err as Error).message;
    if (err instanceof PoisonTaskError || !task) {
      log.error({ reason, deliveryId: task?.deliveryId }, 'poison delivery task dead-lettered');
      if (task) await stores.deliveries.recordFailure(task.deliveryId, reason, true).catch(() => undefined);
      return 'reject';
    }
    if (err instanceof RefusedByEndpointError) {
      log.warn({ reason, deliveryId: task.deliveryId }, 'endpoint refused the document');
      await stores.deliveries.markRefused(task.deliveryId, reason, new Date());
      return 'ack';
    }
    if (task.attempt >= this.#d.maxAttempts) {
      log.error(
        { reason, deliveryId: task.deliveryId, attempts: task.attempt },
        'delivery attempts exhausted; dead-lettered',
      );
      await stores.deliveries
        .recordFailure(task.deliveryId, `${reason} (after ${task.attempt} attempts)`, true)
        .catch(() => undefined);
      return 'reject';
    }
    const delay = retryDelay(topology.retryDelaysMs, task.attempt);
    try {
      await publisher.publishTask({ ...task, attempt: task.attempt + 1 }, topology.retryExchange(delay));
      log.warn(
        { reason, deliveryId: task.deliveryId, retryInMs: delay, attempt: task.attempt },
        'delivery failed; retry scheduled',
      );
      await stores.deliveries.recordFailure(task.deliveryId, reason, false).catch(() => undefined);
      return 'ack';
    } catch {
      // Could not schedule the retry (broker trouble): give the task back to the broker.
      await new Promise((r) => setTimeout(r, 1000));
      return 'requeue';
    }
  }
}
