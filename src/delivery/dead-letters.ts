/**
 * Dead letters: tasks that were poison or exhausted their attempts land in the dead-letter queue;
 * a consumer records each one in MongoDB (with its reason) and raises an alert, so operators can
 * list, inspect and replay them (hubctl deadletters, admin API). Replay puts the delivery back to
 * `queued` and writes an outbox entry, which the outbox relay publishes: no broker access needed.
 */
import { createHash } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import type { Broker } from '../broker/amqp.ts';
import { HubError } from '../domain/errors.ts';
import type { AuditLog, DeadLetter, Stores } from '../domain/ports.ts';
import type { Logger } from '../observability/logger.ts';
import type { Topology } from './topology.ts';

/** What a dead letter's technical reason means, for people (the web UI names each kind in vi/en). */
export type DeadLetterReasonKind =
  | 'unreadable'
  | 'noDelivery'
  | 'noEndpointUrl'
  | 'payloadMissing'
  | 'circuitOpen'
  | 'endpointDown'
  | 'broker'
  | 'unknown';

const REASON_KINDS: readonly (readonly [RegExp, DeadLetterReasonKind])[] = [
  [/^task is not JSON|^task lacks /, 'unreadable'],
  [/^no delivery /, 'noDelivery'],
  [/push mode without an endpoint URL/, 'noEndpointUrl'],
  [/^payload of .* is missing/, 'payloadMissing'],
  [/^circuit open for /, 'circuitOpen'],
  [/^push to .* (failed|answered HTTP)|endpoint answered|ECONNREFUSED|timed? ?out/i, 'endpointDown'],
  [/^dead-lettered by the broker/, 'broker'],
];

/** Classifies a technical reason (worker.ts, push.ts, the broker's x-death) into a plain kind. */
export function reasonKind(reason: string): DeadLetterReasonKind {
  return REASON_KINDS.find(([rx]) => rx.test(reason))?.[1] ?? 'unknown';
}

/** Push failures recorded on a recipient's deliveries within this window count as "still failing". */
export const RECENT_FAILURE_MS = 15 * 60_000;

export interface EndpointFailure {
  readonly lastError: string;
  readonly at: Date;
}

/** A dead letter as shown to operators: the task's content as text, and only by `show`. */
export interface DeadLetterView extends Omit<DeadLetter, 'content'> {
  readonly content?: string;
}

function view(r: DeadLetter, withContent = false): DeadLetterView {
  const { content, ...rest } = r;
  return { ...rest, ...(withContent ? { content: content.toString('utf8') } : {}) };
}

function replayableTask(
  r: DeadLetter,
): asserts r is DeadLetter & { deliveryId: string; docId: string; recipientCode: string } {
  if (!r.deliveryId || !r.docId || !r.recipientCode)
    throw new HubError('CONFLICT', 'this dead letter is not a readable delivery task and cannot be replayed');
}

type DeadLetterStores = Pick<Stores, 'deadLetters' | 'deliveries' | 'outbox'>;

export class DeadLetterService {
  readonly #s: DeadLetterStores;
  readonly #audit: AuditLog;

  readonly #now: () => Date;

  constructor(stores: DeadLetterStores, audit: AuditLog, now: () => Date = () => new Date()) {
    this.#s = stores;
    this.#audit = audit;
    this.#now = now;
  }

  /**
   * Recipients whose endpoint is still failing: a push failure (connection, 5xx, timeout, open
   * circuit) recorded on one of their deliveries within RECENT_FAILURE_MS, with no delivery made to
   * them since. The circuit breakers live in the worker processes; their failures are recorded here.
   */
  async failingEndpoints(recipients: readonly string[]): Promise<Map<string, EndpointFailure>> {
    const out = new Map<string, EndpointFailure>();
    const codes = [...new Set(recipients)];
    if (codes.length === 0) return out;
    const since = new Date(this.#now().getTime() - RECENT_FAILURE_MS);
    const { failures, deliveries } = await this.#s.deliveries.endpointActivity(codes, since);
    const lastDelivered = new Map<string, number>();
    for (const d of deliveries)
      lastDelivered.set(d.recipientCode, Math.max(lastDelivered.get(d.recipientCode) ?? 0, d.at.getTime()));
    for (const f of failures) {
      const kind = reasonKind(f.lastError);
      if (kind !== 'endpointDown' && kind !== 'circuitOpen') continue;
      if (f.at.getTime() <= (lastDelivered.get(f.recipientCode) ?? 0)) continue;
      const seen = out.get(f.recipientCode);
      if (!seen || seen.at < f.at) out.set(f.recipientCode, { lastError: f.lastError, at: f.at });
    }
    return out;
  }

  /**
   * Replays several dead letters (the web UI's bulk replay): every one is checked first, so a
   * refusal replays none; replaying into an endpoint that is still failing needs `confirmFailing`.
   * Each replay is audited on its own (`deadletter.replayed`).
   */
  async replayMany(
    actor: string,
    ids: readonly string[],
    o: { confirmFailing: boolean },
  ): Promise<DeadLetterView[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) throw new HubError('VALIDATION_FAILED', 'no dead letter selected');
    const rows = await this.#s.deadLetters.getMany(unique);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of unique) {
      const r = byId.get(id);
      if (!r) throw new HubError('NOT_FOUND', `no dead letter ${id}`);
      replayableTask(r);
      if (r.replayedAt) throw new HubError('CONFLICT', `dead letter ${id} was already replayed`);
    }
    if (!o.confirmFailing) {
      const failing = await this.failingEndpoints(rows.map((r) => r.recipientCode!));
      if (failing.size)
        throw new HubError('REPLAY_ENDPOINT_FAILING', [...failing.keys()].join(', '), {
          recipients: [...failing.keys()],
        });
    }
    const out: DeadLetterView[] = [];
    for (const id of unique) out.push(await this.replay(actor, id));
    return out;
  }

  /** Records a dead-lettered message; idempotent on the message (redelivery of the same one). */
  async record(content: Buffer, reasonHint: string | undefined): Promise<DeadLetterView> {
    let task: { deliveryId?: unknown; docId?: unknown; recipientCode?: unknown } = {};
    try {
      task = JSON.parse(content.toString('utf8')) as typeof task;
    } catch {
      // poison content: kept as it is
    }
    const deliveryId = typeof task.deliveryId === 'string' ? task.deliveryId : undefined;
    const delivery = deliveryId ? await this.#s.deliveries.get(deliveryId) : null;
    const id = deliveryId ?? `raw-${createHash('sha256').update(content).digest('hex').slice(0, 24)}`;
    const reason = reasonHint ?? delivery?.lastError ?? 'unknown';
    const letter = await this.#s.deadLetters.record({
      id,
      reason,
      deadAt: new Date(),
      content,
      ...(delivery ? { deliveryId, docId: delivery.docId, recipientCode: delivery.recipientCode } : {}),
    });
    if (delivery) await this.#s.deliveries.markDeadLettered(delivery.id);
    return view(letter);
  }

  async list(opts: { includeReplayed?: boolean; limit?: number } = {}): Promise<DeadLetterView[]> {
    const rows = await this.#s.deadLetters.list({
      includeReplayed: opts.includeReplayed ?? false,
      limit: Math.min(opts.limit ?? 100, 1000),
    });
    return rows.map((r) => view(r));
  }

  async show(id: string): Promise<DeadLetterView> {
    const r = await this.#s.deadLetters.get(id);
    if (!r) throw new HubError('NOT_FOUND', `no dead letter ${id}`);
    return view(r, true);
  }

  /** Puts the delivery back on its way (after the cause was fixed). */
  async replay(actor: string, id: string): Promise<DeadLetterView> {
    const r = await this.#s.deadLetters.get(id);
    if (!r) throw new HubError('NOT_FOUND', `no dead letter ${id}`);
    replayableTask(r);
    if (!(await this.#s.deliveries.requeue(r.deliveryId)))
      throw new HubError('CONFLICT', `delivery ${r.deliveryId} is no longer waiting (already delivered?)`);
    const n = r.replayCount + 1;
    // Published by the outbox relay (due at once): no broker access needed here.
    await this.#s.outbox.insertMany([
      {
        id: `${r.deliveryId}:replay:${n}`,
        docId: r.docId,
        deliveryId: r.deliveryId,
        recipientCode: r.recipientCode,
        createdAt: new Date(0),
      },
    ]);
    await this.#s.deadLetters.markReplayed(id, n, new Date());
    await this.#audit.append({
      actor,
      action: 'deadletter.replayed',
      subject: r.deliveryId,
      data: { reason: r.reason, replay: n },
    });
    return view((await this.#s.deadLetters.get(id))!);
  }

  /**
   * Dead letters of deliveries that no longer exist (a MongoDB restore removed them: their tasks,
   * still in RabbitMQ, were dead-lettered as "no delivery"): listed, and deleted with `apply` (one
   * audit entry naming them). Unreadable (raw) dead letters are not orphans: they stay.
   */
  async pruneOrphans(
    actor: string,
    o: { apply: boolean },
  ): Promise<{ orphans: DeadLetterView[]; deleted: number }> {
    const orphans: DeadLetterView[] = [];
    for await (const r of this.#s.deadLetters.withoutDelivery()) {
      let task: { deliveryId?: unknown } = {};
      try {
        task = JSON.parse(r.content.toString('utf8')) as typeof task;
      } catch {
        continue; // poison content: not a delivery task
      }
      if (typeof task.deliveryId !== 'string') continue;
      if (await this.#s.deliveries.get(task.deliveryId)) continue;
      orphans.push({ ...view(r), deliveryId: task.deliveryId });
    }
    if (!o.apply || orphans.length === 0) return { orphans, deleted: 0 };
    const ids = orphans.map((x) => x.id);
    const deleted = await this.#s.deadLetters.removeWithoutDelivery(ids);
    await this.#audit.append({
      actor,
      action: 'deadletter.orphans-pruned',
      subject: `${deleted} dead letter(s)`,
      data: { ids: ids.slice(0, 1000), count: deleted },
    });
    return { orphans, deleted };
  }
}

/** Consumes the dead-letter queue into MongoDB; alerts at `error` level (someone must look). */
export async function startDeadLetterConsumer(
  broker: Broker,
  topology: Topology,
  svc: DeadLetterService,
  log: Logger,
  onDead: () => void,
): Promise<void> {
  await broker.consume(topology.deadQueue, 16, async (msg: ConsumeMessage) => {
    const hubReason = msg.properties.headers?.['x-hub-reason'] as string | undefined;
    const death = (msg.properties.headers?.['x-death'] as { reason?: string }[] | undefined)?.[0];
    const dl = await svc.record(
      msg.content,
      hubReason ?? (death?.reason ? `dead-lettered by the broker (${death.reason})` : undefined),
    );
    onDead();
    log.error(
      { deadLetter: dl.id, reason: dl.reason, deliveryId: dl.deliveryId },
      'delivery dead-lettered: inspect and replay with hubctl deadletters',
    );
    return 'ack';
  });
}
