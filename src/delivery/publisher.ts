/**
 * Publishing of delivery tasks (claim check: the task carries references, the payload stays in
 * MongoDB) and the outbox relay that republishes whatever a crash left unconfirmed.
 */
import type { Broker } from '../broker/amqp.ts';
import type { Stores } from '../domain/ports.ts';
import type { OutboxEntry } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Topology } from './topology.ts';
import { stage } from '../observability/stages.ts';
import { ownedRecipients } from '../domain/ids.ts';

export interface DeliveryTask {
  readonly deliveryId: string;
  readonly docId: string;
  readonly recipientCode: string;
  readonly attempt: number;
}

export class DeliveryPublisher {
  readonly #broker: Broker;
  readonly #topology: Topology;
  readonly #outbox: Stores['outbox'];
  readonly #log: Logger;

  constructor(broker: Broker, topology: Topology, outbox: Stores['outbox'], log: Logger) {
    this.#broker = broker;
    this.#topology = topology;
    this.#outbox = outbox;
    this.#log = log;
  }

  /** Publishes a task and waits for the broker's confirm. */
  publishTask(task: DeliveryTask, exchange = this.#topology.deliverExchange): Promise<void> {
    const shard = this.#topology.shardFor(task.recipientCode);
    return this.#broker.publish(exchange, `shard.${shard}`, Buffer.from(JSON.stringify(task)), {
      messageId: task.deliveryId,
      contentType: 'application/json',
      headers: { 'x-hub-attempt': task.attempt },
    });
  }

  /**
   * Publishes outbox entries with confirms and marks the confirmed ones sent. Never throws:
   * whatever is not confirmed stays in the outbox for the relay.
   */
  async publishOutbox(entries: readonly OutboxEntry[]): Promise<number> {
    const results = await Promise.allSettled(
      entries.map((e) =>
        this.publishTask({
          deliveryId: e.deliveryId,
          docId: e.docId,
          recipientCode: e.recipientCode,
          attempt: 1,
        }),
      ),
    );
    stage('publish'); // a submission's stage clock (the relay's passes run without one)
    const sent = entries.filter((_, i) => results[i]!.status === 'fulfilled').map((e) => e.id);
    if (sent.length < entries.length) {
      this.#log.warn(
        { unconfirmed: entries.length - sent.length },
        'delivery tasks left to the outbox relay',
      );
    }
    try {
      await this.#outbox.markSent(sent, new Date());
    } catch (err) {
      // Republishing later is harmless: consumers are idempotent on (document, recipient).
      this.#log.warn({ err: (err as Error).message }, 'could not mark outbox entries sent');
    }
    return sent.length;
  }
}

/**
 * Periodically republishes outbox entries older than the grace period whose document was
 * committed, and discards submissions that never reached their commit point.
 */
export class OutboxRelay {
  readonly #stores: Pick<Stores, 'outbox' | 'documents'>;
  readonly #publisher: DeliveryPublisher;
  readonly #log: Logger;
  readonly #opts: { graceMs: number; intervalMs: number; abandonedAfterMs: number };
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(
    stores: Pick<Stores, 'outbox' | 'documents'>,
    publisher: DeliveryPublisher,
    log: Logger,
    opts: { graceMs: number; intervalMs: number; abandonedAfterMs: number },
  ) {
    this.#stores = stores;
    this.#publisher = publisher;
    this.#log = log;
    this.#opts = opts;
  }

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.runOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'outbox relay pass failed'))
        .finally(() => {
          this.#running = null;
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#opts.intervalMs);
        });
    };
    this.#timer = setTimeout(tick, this.#opts.intervalMs);
  }

  /** One pass; returns how many tasks were republished. */
  async runOnce(): Promise<number> {
    let total = 0;
    const now = Date.now();
    for (;;) {
      const due = await this.#stores.outbox.due(new Date(now - this.#opts.graceMs), 500);
      if (due.length === 0) return total;
      const publishable: typeof due = [];
      const docState = new Map<string, Awaited<ReturnType<Stores['documents']['get']>>>();
      for (const e of due) {
        if (!docState.has(e.docId)) docState.set(e.docId, await this.#stores.documents.get(e.docId));
        const doc = docState.get(e.docId);
        if (doc?.state === 'accepted') {
          if (ownedRecipients(doc.recipients).includes(e.recipientCode)) publishable.push(e);
          else {
            // Written by a conflicting submission under this document's id that stopped before it
            // was refused: never relayed.
            await this.#stores.documents.discardUncommitted(doc.id);
            this.#log.warn(
              { docId: e.docId, recipient: e.recipientCode },
              'discarded a task the document does not own',
            );
          }
        } else if (now - (doc?.receivedAt ?? e.createdAt).getTime() > this.#opts.abandonedAfterMs) {
          // The submission never reached its commit point (the client got no receipt): discard it.
          await this.#stores.documents.discardUncommitted(e.docId);
          if (!doc) await this.#stores.outbox.remove([e.id]);
          this.#log.warn({ docId: e.docId }, 'discarded an abandoned, uncommitted submission');
        }
      }
      if (publishable.length === 0) return total;
      const sent = await this.#publisher.publishOutbox(publishable);
      total += sent;
      if (sent < publishable.length) return total; // broker trouble: try again next pass
      if (due.length < 500) return total;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
