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
import type { AuditLog } from '../domain/ports.ts';
import type { Models } from '../store/models.ts';
import type { Logger } from '../observability/logger.ts';
import type { Topology } from './topology.ts';

export interface DeadLetterView {
  readonly id: string;
  readonly deliveryId?: string;
  readonly docId?: string;
  readonly recipientCode?: string;
  readonly reason: string;
  readonly deadAt: Date;
  readonly replayedAt?: Date;
  readonly replayCount: number;
  readonly content?: string;
}

type Row = {
  _id: string;
  deliveryId?: string;
  docId?: string;
  recipientCode?: string;
  reason: string;
  deadAt: Date;
  replayedAt?: Date;
  replayCount?: number;
  contentBase64: string;
};

function view(r: Row, withContent = false): DeadLetterView {
  return {
    id: r._id,
    ...(r.deliveryId ? { deliveryId: r.deliveryId } : {}),
    ...(r.docId ? { docId: r.docId } : {}),
    ...(r.recipientCode ? { recipientCode: r.recipientCode } : {}),
    reason: r.reason,
    deadAt: new Date(r.deadAt),
    ...(r.replayedAt ? { replayedAt: new Date(r.replayedAt) } : {}),
    replayCount: r.replayCount ?? 0,
    ...(withContent ? { content: Buffer.from(r.contentBase64, 'base64').toString('utf8') } : {}),
  };
}

export class DeadLetterService {
  readonly #m: Pick<Models, 'DeadLetter' | 'Delivery' | 'Outbox'>;
  readonly #audit: AuditLog;

  constructor(models: Pick<Models, 'DeadLetter' | 'Delivery' | 'Outbox'>, audit: AuditLog) {
    this.#m = models;
    this.#audit = audit;
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
    const delivery = deliveryId
      ? await this.#m.Delivery.findById(deliveryId, { lastError: 1, docId: 1, recipientCode: 1 }).lean<{
          lastError?: string;
          docId: string;
          recipientCode: string;
        }>()
      : null;
    const id = deliveryId ?? `raw-${createHash('sha256').update(content).digest('hex').slice(0, 24)}`;
    const reason = reasonHint ?? delivery?.lastError ?? 'unknown';
    await this.#m.DeadLetter.updateOne(
      { _id: id },
      {
        $set: {
          reason,
          deadAt: new Date(),
          contentBase64: content.toString('base64'),
          ...(delivery ? { deliveryId, docId: delivery.docId, recipientCode: delivery.recipientCode } : {}),
        },
        $unset: { replayedAt: 1 },
      },
      { upsert: true },
    );
    if (delivery)
      await this.#m.Delivery.updateOne(
        { _id: deliveryId, transport: { $in: ['queued', 'dead-lettered'] } },
        { $set: { transport: 'dead-lettered' } },
      );
    return view((await this.#m.DeadLetter.findById(id).lean<Row>())!);
  }

  async list(opts: { includeReplayed?: boolean; limit?: number } = {}): Promise<DeadLetterView[]> {
    const rows = await this.#m.DeadLetter.find(opts.includeReplayed ? {} : { replayedAt: { $exists: false } })
      .sort({ deadAt: -1 })
      .limit(Math.min(opts.limit ?? 100, 1000))
      .lean<Row[]>();
    return rows.map((r) => view(r));
  }

  async show(id: string): Promise<DeadLetterView> {
    const r = await this.#m.DeadLetter.findById(id).lean<Row>();
    if (!r) throw new HubError('NOT_FOUND', `no dead letter ${id}`);
    return view(r, true);
  }

  /** Puts the delivery back on its way (after the cause was fixed). */
  async replay(actor: string, id: string): Promise<DeadLetterView> {
    const r = await this.#m.DeadLetter.findById(id).lean<Row>();
    if (!r) throw new HubError('NOT_FOUND', `no dead letter ${id}`);
    if (!r.deliveryId || !r.docId || !r.recipientCode)
      throw new HubError(
        'CONFLICT',
        'this dead letter is not a readable delivery task and cannot be replayed',
      );
    const res = await this.#m.Delivery.updateOne(
      { _id: r.deliveryId, transport: { $in: ['dead-lettered', 'queued'] } },
      { $set: { transport: 'queued', attempts: 0 }, $unset: { lastError: 1 } },
    );
    if (res.matchedCount !== 1)
      throw new HubError('CONFLICT', `delivery ${r.deliveryId} is no longer waiting (already delivered?)`);
    const n = (r.replayCount ?? 0) + 1;
    await this.#m.Outbox.updateOne(
      { _id: `${r.deliveryId}:replay:${n}` },
      {
        $setOnInsert: {
          docId: r.docId,
          deliveryId: r.deliveryId,
          recipientCode: r.recipientCode,
          createdAt: new Date(0),
        },
      },
      { upsert: true },
    );
    await this.#m.DeadLetter.updateOne({ _id: id }, { $set: { replayedAt: new Date(), replayCount: n } });
    await this.#audit.append({
      actor,
      action: 'deadletter.replayed',
      subject: r.deliveryId,
      data: { reason: r.reason, replay: n },
    });
    return view((await this.#m.DeadLetter.findById(id).lean<Row>())!);
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
    for await (const r of this.#m.DeadLetter.find({ deliveryId: { $exists: false } })
      .lean<Row>()
      .cursor()) {
      let task: { deliveryId?: unknown } = {};
      try {
        task = JSON.parse(Buffer.from(r.contentBase64, 'base64').toString('utf8')) as typeof task;
      } catch {
        continue; // poison content: not a delivery task
      }
      if (typeof task.deliveryId !== 'string') continue;
      if (await this.#m.Delivery.exists({ _id: task.deliveryId })) continue;
      orphans.push({ ...view(r), deliveryId: task.deliveryId });
    }
    if (!o.apply || orphans.length === 0) return { orphans, deleted: 0 };
    const ids = orphans.map((x) => x.id);
    const res = await this.#m.DeadLetter.deleteMany({ _id: { $in: ids }, deliveryId: { $exists: false } });
    await this.#audit.append({
      actor,
      action: 'deadletter.orphans-pruned',
      subject: `${res.deletedCount} dead letter(s)`,
      data: { ids: ids.slice(0, 1000), count: res.deletedCount },
    });
    return { orphans, deleted: res.deletedCount };
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
