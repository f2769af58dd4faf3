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

function replayableTask(
  r: Row,
): asserts r is Row & { deliveryId: string; docId: string; recipientCode: string } {
  if (!r.deliveryId || !r.docId || !r.recipientCode)
    throw new HubError('CONFLICT', 'this dead letter is not a readable delivery task and cannot be replayed');
}

export class DeadLetterService {
  readonly #m: Pick<Models, 'DeadLetter' | 'Delivery' | 'Outbox'>;
  readonly #audit: AuditLog;

  readonly #now: () => Date;

  constructor(
    models: Pick<Models, 'DeadLetter' | 'Delivery' | 'Outbox'>,
    audit: AuditLog,
    now: () => Date = () => new Date(),
  ) {
    this.#m = models;
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
    const [failed, delivered] = await Promise.all([
      this.#m.Delivery.find(
        { recipientCode: { $in: codes }, lastErrorAt: { $gte: since } },
        { recipientCode: 1, lastError: 1, lastErrorAt: 1, _id: 0 },
      )
        .limit(5000)
        .lean<{ recipientCode: string; lastError?: string; lastErrorAt: Date }[]>(),
      this.#m.Delivery.find(
        { recipientCode: { $in: codes }, availableAt: { $gte: since } },
        { recipientCode: 1, availableAt: 1, _id: 0 },
      )
        .limit(5000)
        .lean<{ recipientCode: string; availableAt: Date }[]>(),
    ]);
    const lastDelivered = new Map<string, number>();
    for (const d of delivered)
      lastDelivered.set(
        d.recipientCode,
        Math.max(lastDelivered.get(d.recipientCode) ?? 0, new Date(d.availableAt).getTime()),
      );
    for (const f of failed) {
      const kind = reasonKind(f.lastError ?? '');
      if (kind !== 'endpointDown' && kind !== 'circuitOpen') continue;
      const at = new Date(f.lastErrorAt);
      if (at.getTime() <= (lastDelivered.get(f.recipientCode) ?? 0)) continue;
      const seen = out.get(f.recipientCode);
      if (!seen || seen.at < at) out.set(f.recipientCode, { lastError: f.lastError ?? '', at });
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
    const rows = await this.#m.DeadLetter.find({ _id: { $in: unique } }).lean<Row[]>();
    const byId = new Map(rows.map((r) => [r._id, r]));
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
    replayableTask(r);
    const res = await this.#m.Delivery.updateOne(
      { _id: r.deliveryId, transport: { $in: ['dead-lettered', 'queued'] } },
      { $set: { transport: 'queued', attempts: 0 }, $unset: { lastError: 1, lastErrorAt: 1 } },
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
