/**
 * The RabbitMQ topology, declared in one place and idempotently on every connection.
 *
 *   <p>.deliver (direct) --shard.N--> <p>.deliver.shard.N  (quorum, single active consumer)
 *   <p>.retry.<N>ms (fanout) --> <p>.retry.<delay> queue (quorum, message TTL) --TTL--> <p>.deliver
 *   <p>.dead (direct) --> <p>.dead queue (quorum): tasks that exhausted their attempts or are poison
 *
 * The number of queues is fixed by configuration (shards), never by the number of agencies:
 * a recipient's tasks always hash to the same shard, and single-active-consumer keeps their order.
 */
import { createHash } from 'node:crypto';
import type { Channel } from 'amqplib';

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [10_000, 60_000, 600_000, 3_600_000];

export interface Topology {
  readonly prefix: string;
  readonly shards: number;
  readonly deliverExchange: string;
  readonly deadExchange: string;
  readonly deadQueue: string;
  readonly retryDelaysMs: readonly number[];
  agencyQueue(code: string): string;
  shardQueue(i: number): string;
  shardFor(recipientCode: string): number;
  retryExchange(delayMs: number): string;
  allQueues(): string[];
  allExchanges(): string[];
}

export function createTopology(
  prefix: string,
  shards: number,
  retryDelaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): Topology {
  const retryName = (ms: number) => `${prefix}.retry.${ms}ms`;
  return {
    prefix,
    shards,
    deliverExchange: `${prefix}.deliver`,
    deadExchange: `${prefix}.dead`,
    deadQueue: `${prefix}.dead`,
    retryDelaysMs,
    // Only agencies in amqp mode get a queue of their own (consumed by the agency's RabbitMQ user).
    agencyQueue: (code) => `${prefix}.agency.${code}`,
    shardQueue: (i) => `${prefix}.deliver.shard.${i}`,
    shardFor: (code) => createHash('sha256').update(code).digest().readUInt32BE(0) % shards,
    retryExchange: retryName,
    allQueues() {
      return [
        ...Array.from({ length: shards }, (_, i) => this.shardQueue(i)),
        ...retryDelaysMs.map(retryName),
        this.deadQueue,
      ];
    },
    allExchanges() {
      return [this.deliverExchange, this.deadExchange, ...retryDelaysMs.map(retryName)];
    },
  };
}

export async function declareTopology(ch: Channel, t: Topology): Promise<void> {
  await ch.assertExchange(t.deliverExchange, 'direct', { durable: true });
  await ch.assertExchange(t.deadExchange, 'direct', { durable: true });
  await ch.assertQueue(t.deadQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(t.deadQueue, t.deadExchange, 'dead');
  for (let i = 0; i < t.shards; i++) {
    const q = t.shardQueue(i);
    await ch.assertQueue(q, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-single-active-consumer': true,
        'x-dead-letter-exchange': t.deadExchange,
        'x-dead-letter-routing-key': 'dead',
      },
    });
    await ch.bindQueue(q, t.deliverExchange, `shard.${i}`);
  }
  for (const ms of t.retryDelaysMs) {
    const name = t.retryExchange(ms);
    await ch.assertExchange(name, 'fanout', { durable: true });
    await ch.assertQueue(name, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': ms,
        // Expired messages go back to the deliver exchange with their original routing key (shard.N).
        'x-dead-letter-exchange': t.deliverExchange,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    await ch.bindQueue(name, name, '');
  }
}
