/**
 * RabbitMQ connection with reconnection and fail-over over a list of nodes, a confirm channel for
 * publishing (every publish resolves only when the broker has confirmed it), and consumers that
 * are re-subscribed after a reconnect. Topology is (re)declared on every connection.
 */
import { EventEmitter } from 'node:events';
import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Options,
} from 'amqplib';
import type { Logger } from '../observability/logger.ts';

export type ConsumeFate = 'ack' | 'requeue' | 'reject';
export type ConsumeHandler = (msg: ConsumeMessage) => Promise<ConsumeFate>;

interface ConsumerRegistration {
  readonly queue: string;
  readonly prefetch: number;
  readonly handler: ConsumeHandler;
  channel?: Channel;
  tag?: string;
}

export class BrokerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerUnavailableError';
  }
}

export function redactAmqpUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

/** Heartbeats make a dead node noticed in seconds, not at the next TCP timeout. */
function withHeartbeat(url: string): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return url + (url.includes('?') ? '&' : '?') + 'heartbeat=10';
}

export class Broker extends EventEmitter {
  readonly #urls: readonly string[];
  readonly #log: Logger;
  readonly #topology: (ch: Channel) => Promise<void>;
  readonly #consumers: ConsumerRegistration[] = [];
  #conn: ChannelModel | null = null;
  #pub: ConfirmChannel | null = null;
  #next = 0;
  #closing = false;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #inFlight = 0;
  #paused = false;
  /** connection.blocked from the broker (memory or disk alarm): publishes would hang. */
  #blocked: string | null = null;
  /** The last publish was nacked or failed while connected; cleared by the next confirmed one. */
  #refused: string | null = null;

  constructor(urls: readonly string[], log: Logger, topology: (ch: Channel) => Promise<void>) {
    super();
    this.#urls = urls;
    this.#log = log;
    this.#topology = topology;
  }

  get connected(): boolean {
    return this.#conn !== null && this.#pub !== null;
  }

  /** For readiness: connected, and whether the broker takes publishes (src/ops/readiness.ts). */
  health(): { state: 'up' | 'down' | 'publish-refused'; reason?: string } {
    if (!this.connected) return { state: 'down' };
    if (this.#blocked !== null)
      return { state: 'publish-refused', reason: `connection blocked: ${this.#blocked}` };
    if (this.#refused !== null) return { state: 'publish-refused', reason: this.#refused };
    return { state: 'up' };
  }

  /** First connection: fails fast, with a hint, if no node is reachable. */
  async start(): Promise<void> {
    try {
      await this.#connect();
    } catch (err) {
      throw new BrokerUnavailableError(
        `Cannot reach RabbitMQ at ${this.#urls.map(redactAmqpUrl).join(', ')}: ${(err as Error).message}. ` +
          'Start it with `rabbitmq-server -detached` (or set AMQP_URL to a reachable broker).',
      );
    }
  }

  async #connect(): Promise<void> {
    let lastErr: unknown;
    for (let i = 0; i < this.#urls.length; i++) {
      const url = this.#urls[(this.#next + i) % this.#urls.length]!;
      try {
        // noDelay: amqplib leaves Nagle's algorithm on; a publish then waited for the peer's delayed
        // ACK of whatever the connection sent just before (20 ms on average at half load, 1.6 with it).
        const conn = await amqp.connect(withHeartbeat(url), { timeout: 5000, noDelay: true });
        this.#next = (this.#next + i) % this.#urls.length;
        conn.on('error', (err: Error) => this.#log.warn({ err: err.message }, 'amqp connection error'));
        conn.on('close', () => this.#onClose(conn));
        conn.on('blocked', (reason: string) => {
          this.#blocked = reason || 'blocked';
          this.#log.warn({ reason }, 'amqp connection blocked by broker: publishes refused until unblocked');
        });
        conn.on('unblocked', () => {
          this.#blocked = null;
          this.#log.info('amqp connection unblocked');
        });
        const pub = await conn.createConfirmChannel();
        pub.on('error', (err: Error) => this.#log.warn({ err: err.message }, 'amqp publish channel error'));
        await this.#topology(pub);
        this.#conn = conn;
        this.#pub = pub;
        this.#blocked = null;
        this.#refused = null;
        for (const c of this.#consumers) await this.#startConsumer(c);
        this.#log.info({ url: redactAmqpUrl(url) }, 'connected to RabbitMQ');
        this.emit('connected');
        return;
      } catch (err) {
        lastErr = err;
        this.#log.debug({ url: redactAmqpUrl(url), err: (err as Error).message }, 'amqp connect failed');
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  #onClose(conn: ChannelModel): void {
    if (this.#conn !== conn && this.#conn !== null) return;
    this.#conn = null;
    this.#pub = null;
    for (const c of this.#consumers) {
      c.channel = undefined;
      c.tag = undefined;
    }
    if (this.#closing) return;
    this.emit('disconnected');
    this.#log.warn('RabbitMQ connection lost; reconnecting');
    this.#next = (this.#next + 1) % this.#urls.length;
    this.#scheduleReconnect(200);
  }

  #scheduleReconnect(delay: number): void {
    if (this.#closing || this.#reconnectTimer) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#connect().catch((err: unknown) => {
        this.#log.warn(
          { err: (err as Error).message, retryInMs: Math.min(delay * 2, 5000) },
          'RabbitMQ reconnect failed',
        );
        this.#scheduleReconnect(Math.min(delay * 2, 5000));
      });
    }, delay);
    this.#reconnectTimer.unref?.();
  }

  /** Publishes and waits for the broker's confirm. Throws BrokerUnavailableError when disconnected. */
  publish(exchange: string, routingKey: string, content: Buffer, opts: Options.Publish = {}): Promise<void> {
    const ch = this.#pub;
    if (!ch) return Promise.reject(new BrokerUnavailableError('not connected to RabbitMQ'));
    // A blocked connection would hold the publish (and the submission waiting on it) until the
    // alarm clears: refuse at once, the outbox relay publishes it later.
    if (this.#blocked !== null)
      return Promise.reject(new BrokerUnavailableError(`RabbitMQ blocks publishing: ${this.#blocked}`));
    return new Promise((resolve, reject) => {
      const refused = (why: string) => {
        if (this.#pub === ch) this.#refused = why;
        reject(new BrokerUnavailableError(why));
      };
      try {
        ch.publish(exchange, routingKey, content, { persistent: true, mandatory: false, ...opts }, (err) => {
          if (err) return refused(`publish not confirmed: ${String(err)}`);
          if (this.#pub === ch) this.#refused = null;
          resolve();
        });
      } catch (err) {
        refused(`publish failed: ${(err as Error).message}`);
      }
    });
  }

  /** Registers a consumer; it is (re)started on every connection. */
  async consume(queue: string, prefetch: number, handler: ConsumeHandler): Promise<void> {
    const reg: ConsumerRegistration = { queue, prefetch, handler };
    this.#consumers.push(reg);
    if (this.#conn && !this.#paused) await this.#startConsumer(reg);
  }

  async #startConsumer(reg: ConsumerRegistration): Promise<void> {
    if (!this.#conn || this.#paused) return;
    const ch = await this.#conn.createChannel();
    ch.on('error', (err: Error) =>
      this.#log.warn({ err: err.message, queue: reg.queue }, 'amqp consumer channel error'),
    );
    await ch.prefetch(reg.prefetch);
    reg.channel = ch;
    const { consumerTag } = await ch.consume(reg.queue, (msg) => {
      if (!msg) return; // consumer cancelled by the broker (queue deleted); reconnect logic re-subscribes
      this.#inFlight++;
      void reg
        .handler(msg)
        .catch((err: unknown) => {
          this.#log.error(
            { err: (err as Error).message, queue: reg.queue },
            'consumer handler threw; requeueing',
          );
          return 'requeue' as const;
        })
        .then((fate) => {
          try {
            if (fate === 'ack') ch.ack(msg);
            else ch.nack(msg, false, fate === 'requeue');
          } catch {
            // channel closed meanwhile: the broker redelivers the message, consumers are idempotent
          }
        })
        .finally(() => {
          this.#inFlight--;
          if (this.#inFlight === 0) this.emit('idle');
        });
    });
    reg.tag = consumerTag;
  }

  /** Stops taking new messages; in-flight handlers finish. */
  async pauseConsumers(): Promise<void> {
    this.#paused = true;
    for (const c of this.#consumers) {
      if (c.channel && c.tag) await c.channel.cancel(c.tag).catch(() => undefined);
      c.tag = undefined;
    }
  }

  async drain(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.once('idle', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Runs fn on a short-lived channel (admin operations such as queue inspection). */
  async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    if (!this.#conn) throw new BrokerUnavailableError('not connected to RabbitMQ');
    const ch = await this.#conn.createChannel();
    ch.on('error', () => undefined);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    await this.pauseConsumers();
    await this.drain(10_000);
    const conn = this.#conn;
    this.#conn = null;
    this.#pub = null;
    if (conn) await conn.close().catch(() => undefined);
  }
}
