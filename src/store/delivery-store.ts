/**
 * Deliveries and the pull inbox (DeliveryStore, domain/ports.ts). A delivery is one record per
 * recipient (inserted with its document, group-committed); the inbox is a small collection of the
 * deliveries available and not yet acknowledged (listing reads only it). Conditional updates go
 * through the engine's dialect (dialect.ts): the ports never see it.
 */
import type {
  AckOutcome,
  Availability,
  DeliveryStore,
  EndpointActivity,
  InboxQuery,
} from '../domain/ports.ts';
import type { DeliveryRecord, InboxItem, TimelineEntry } from '../domain/types.ts';
import type { BusinessState } from '../domain/status.ts';
import type { mongo } from 'mongoose';
import { recipientOfDeliveryId } from '../domain/ids.ts';
import type { Models } from './models.ts';
import type { ConditionalUpdate, Dialect } from './dialect.ts';
import { deleteGrouped, insertAbsent, strip, type Doc } from './records.ts';

/** A delivered delivery keeps no error of its earlier attempts (the document page would show it). */
const DELIVERED_CLEARS = { lastError: 1, lastErrorAt: 1 } as const;

function without(d: Doc, keys: object): Doc {
  const r = { ...d };
  for (const k of Object.keys(keys)) delete r[k];
  return r;
}

const byId = (id: string) => ({ _id: id }) as unknown as mongo.Filter<mongo.Document>;

export function toDelivery(d: Doc): DeliveryRecord {
  const r = strip<DeliveryRecord & { timeline?: TimelineEntry[] }>(d, 'id');
  return {
    ...r,
    timeline: r.timeline ?? [],
    business: r.business ?? { code: null, pending: null },
    version: r.version ?? 0,
  };
}

type InboxEntryDoc = {
  _id: string;
  r: string;
  mt: InboxItem['messageType'];
  at: Date;
  doc: string;
  did: string;
  from: string;
  req?: string;
  q: Date;
};

export function inboxEntryOf(d: DeliveryRecord & { availableAt: Date }): InboxEntryDoc {
  return {
    _id: d.id,
    r: d.recipientCode,
    mt: d.messageType,
    at: d.availableAt,
    doc: d.docId,
    did: d.documentId,
    from: d.senderCode,
    ...(d.requestedCode ? { req: d.requestedCode } : {}),
    q: d.queuedAt,
  };
}

function inboxItemOf(e: InboxEntryDoc): InboxItem {
  return {
    id: e._id,
    docId: e.doc,
    documentId: e.did,
    messageType: e.mt,
    senderCode: e.from,
    recipientCode: e.r,
    ...(e.req ? { requestedCode: e.req } : {}),
    queuedAt: e.q,
    availableAt: e.at,
  };
}

/** `queued` → a delivered state, counting the attempt. */
function fromQueued(set: Record<string, unknown>, o: { clearsError: boolean }): ConditionalUpdate {
  return {
    filter: { transport: 'queued' },
    holds: (d) => d.transport === 'queued',
    update: {
      $set: set,
      ...(o.clearsError ? { $unset: DELIVERED_CLEARS } : {}),
      $inc: { attempts: 1, version: 1 },
    },
    after: (d) => ({
      ...(o.clearsError ? without(d, DELIVERED_CLEARS) : d),
      ...set,
      attempts: ((d.attempts as number | undefined) ?? 0) + 1,
      version: ((d.version as number | undefined) ?? 0) + 1,
    }),
  };
}

export class MongoDeliveryStore implements DeliveryStore {
  private readonly m: Models;
  private readonly dialect: Dialect;
  constructor(m: Models, dialect: Dialect) {
    this.m = m;
    this.dialect = dialect;
  }

  #updateIf(id: string, u: ConditionalUpdate) {
    return this.dialect.updateIf(this.m.Delivery.collection, id, u);
  }

  async insertMany(deliveries: readonly DeliveryRecord[]): Promise<void> {
    await insertAbsent(
      this.m.Delivery,
      deliveries.map(({ id, ...rest }) => ({ _id: id, ...rest, timeline: [...rest.timeline] })),
    );
  }

  async get(id: string) {
    const d = await this.m.Delivery.findById(id).lean<Doc>();
    return d ? toDelivery(d) : null;
  }

  async forDocument(docId: string) {
    const ds = await this.m.Delivery.find({ docId }).sort({ recipientCode: 1 }).lean<Doc[]>();
    return ds.map((d) => toDelivery(d));
  }

  /**
   * queued → available, then listed in the recipient's inbox (the entry, group-committed). A crash
   * between the two leaves the delivery available and unlisted; the task was not acknowledged to
   * the broker, and its redelivery finds the delivery available and lists it.
   */
  async markAvailable(id: string, at: Date): Promise<Availability | null> {
    const r = await this.#updateIf(
      id,
      fromQueued({ transport: 'available', availableAt: at }, { clearsError: true }),
    );
    const d = r.after ?? r.current;
    if (!d) return null;
    const delivery = toDelivery(d);
    if (delivery.transport === 'available' && delivery.availableAt)
      await insertAbsent(this.m.InboxEntry, [
        inboxEntryOf({ ...delivery, availableAt: delivery.availableAt }),
      ]);
    return { delivery, made: r.after !== null };
  }

  async markPushed(id: string, at: Date): Promise<boolean> {
    const r = await this.#updateIf(
      id,
      fromQueued({ transport: 'pushed', availableAt: at }, { clearsError: true }),
    );
    return r.after !== null;
  }

  async markRefused(id: string, reason: string, at: Date): Promise<void> {
    const entry = { code: '02', at, description: reason, by: 'hub' };
    // The endpoint's refusal is the recipient's 02 (refused): it ends the delivery, shown to the sender.
    const u = fromQueued(
      {
        transport: 'failed',
        lastError: reason,
        lastErrorAt: at,
        failedAt: at,
        business: { code: '02', pending: null },
      },
      { clearsError: false },
    );
    await this.#updateIf(id, {
      ...u,
      update: { ...u.update, $push: { timeline: entry } },
      after: (d) => ({ ...u.after(d), timeline: [...((d.timeline as unknown[]) ?? []), entry] }),
    });
  }

  async overdue(now: Date, limit: number) {
    const ds = await this.m.Delivery.find({
      deadline: { $lt: now },
      messageType: 'edoc',
      'business.code': { $in: [null, '01'] },
      transport: { $nin: ['failed'] },
    })
      .sort({ deadline: 1 })
      .limit(limit)
      .lean<Doc[]>();
    return ds.map(toDelivery);
  }

  async recordFailure(id: string, error: string, final: boolean): Promise<void> {
    await this.m.Delivery.updateOne(
      { _id: id },
      {
        $set: { lastError: error, lastErrorAt: new Date(), ...(final ? { transport: 'dead-lettered' } : {}) },
        $inc: { version: 1, ...(final ? {} : { attempts: 1 }) },
      },
    );
  }

  /**
   * Oldest first by (availableAt, id), from the inbox entries (models.ts): only what is pending is
   * read, and no delivery. An entry outlives its delivery's acknowledgement only if the hub stopped
   * between the two writes; the item is then listed again and a second acknowledgement (idempotent)
   * removes it.
   */
  async inbox(q: InboxQuery): Promise<InboxItem[]> {
    const filter: Record<string, unknown> = { r: { $in: [...q.recipientCodes] } };
    if (q.messageType) filter.mt = q.messageType;
    if (q.after) {
      // The cursor is the last item's id; the order is (at, _id), so continue after both.
      const e = await this.m.InboxEntry.findById(q.after, { at: 1 }).lean<{ at: Date }>();
      const at =
        e?.at ??
        (await this.m.Delivery.findById(q.after, { availableAt: 1 }).lean<{ availableAt?: Date }>())
          ?.availableAt;
      filter.$or = at ? [{ at: { $gt: at } }, { at, _id: { $gt: q.after } }] : [{ _id: { $gt: q.after } }];
    }
    const es = await this.m.InboxEntry.find(filter)
      .sort({ at: 1, _id: 1 })
      .limit(q.limit)
      .lean<InboxEntryDoc[]>();
    return es.map(inboxItemOf);
  }

  /**
   * By one of its recipients (`recipientCodes`), once it was delivered: available or pushed →
   * acknowledged, and unlisted. A listed delivery takes two writes and no read: its inbox entry is
   * removed (the check), then the delivery updated. Idempotent: a second acknowledgement answers
   * with the first one. Should a stop between the two writes leave the delivery available and
   * unlisted, the recipient's retry acknowledges it through the conditional update.
   */
  async acknowledge(
    id: string,
    recipientCodes: readonly string[],
    result: 'done' | 'fail',
    reason: string | undefined,
    at: Date,
  ): Promise<AckOutcome> {
    const acked = { transport: 'acknowledged', ackedAt: at, ack: { result, ...(reason ? { reason } : {}) } };
    const ack: ConditionalUpdate = {
      filter: { recipientCode: { $in: [...recipientCodes] }, transport: { $in: ['available', 'pushed'] } },
      holds: (x) =>
        recipientCodes.includes(x.recipientCode as string) &&
        (x.transport === 'available' || x.transport === 'pushed'),
      update: { $set: acked, $inc: { version: 1 } },
      after: (c) => ({ ...c, ...acked, version: ((c.version as number | undefined) ?? 0) + 1 }),
    };
    // Listed (available and not acknowledged): removing the inbox entry is the check — by `_id`, one
    // write, no read of the delivery — and the recipient is part of the id (domain/ids.ts).
    if (recipientCodes.includes(recipientOfDeliveryId(id))) {
      const entry = await this.m.InboxEntry.collection.findOneAndDelete(byId(id));
      if (entry) {
        // Removing the entry let one acknowledgement through; one that a stop left listed after its
        // delivery was acknowledged is a repeat (not made here), answered below with the first one.
        // By `_id` alone on FerretDB: a filter with the condition scans every delivery there.
        const d = await this.dialect.updateExpected(this.m.Delivery.collection, id, ack);
        if (d.after) return { delivery: toDelivery(d.after), first: true };
      }
    }
    // Pushed (never listed), acknowledged already, or not the caller's: the conditional update.
    const r = await this.#updateIf(id, ack);
    const d = r.after ?? r.current;
    // Same answer for "absent", "not yours" and "not delivered yet": nothing leaks.
    if (!d || !recipientCodes.includes(d.recipientCode as string) || d.transport === 'queued')
      return 'not-found';
    if (d.transport !== 'acknowledged') return 'conflict';
    await deleteGrouped(this.m.InboxEntry.collection, [id]);
    return { delivery: toDelivery(d), first: r.after !== null };
  }

  async markDeadLettered(id: string): Promise<void> {
    await this.#updateIf(id, {
      filter: { transport: { $in: ['queued', 'dead-lettered'] } },
      holds: (d) => d.transport === 'queued' || d.transport === 'dead-lettered',
      update: { $set: { transport: 'dead-lettered' } },
      after: (d) => ({ ...d, transport: 'dead-lettered' }),
    });
  }

  async requeue(id: string): Promise<boolean> {
    const r = await this.#updateIf(id, {
      filter: { transport: { $in: ['dead-lettered', 'queued'] } },
      holds: (d) => d.transport === 'dead-lettered' || d.transport === 'queued',
      update: { $set: { transport: 'queued', attempts: 0 }, $unset: DELIVERED_CLEARS },
      after: (d) => ({ ...without(d, DELIVERED_CLEARS), transport: 'queued', attempts: 0 }),
    });
    return r.after !== null;
  }

  async waiting(queuedBefore: Date) {
    const ds = await this.m.Delivery.find({ transport: 'queued', queuedAt: { $lte: queuedBefore } })
      .select({ _id: 1, docId: 1, recipientCode: 1 })
      .lean<{ _id: string; docId: string; recipientCode: string }[]>();
    return ds.map((d) => ({ id: d._id, docId: d.docId, recipientCode: d.recipientCode }));
  }

  async endpointActivity(recipientCodes: readonly string[], since: Date): Promise<EndpointActivity> {
    const codes = [...recipientCodes];
    const [failed, delivered] = await Promise.all([
      this.m.Delivery.find(
        { recipientCode: { $in: codes }, lastErrorAt: { $gte: since } },
        { recipientCode: 1, lastError: 1, lastErrorAt: 1, _id: 0 },
      )
        .limit(5000)
        .lean<{ recipientCode: string; lastError?: string; lastErrorAt: Date }[]>(),
      this.m.Delivery.find(
        { recipientCode: { $in: codes }, availableAt: { $gte: since } },
        { recipientCode: 1, availableAt: 1, _id: 0 },
      )
        .limit(5000)
        .lean<{ recipientCode: string; availableAt: Date }[]>(),
    ]);
    return {
      failures: failed.map((f) => ({
        recipientCode: f.recipientCode,
        lastError: f.lastError ?? '',
        at: new Date(f.lastErrorAt),
      })),
      deliveries: delivered.map((d) => ({ recipientCode: d.recipientCode, at: new Date(d.availableAt) })),
    };
  }

  async applyStatus(
    id: string,
    version: number,
    state: BusinessState,
    entry?: TimelineEntry,
  ): Promise<boolean> {
    const r = await this.#updateIf(id, {
      filter: { version },
      holds: (x) => ((x.version as number | undefined) ?? 0) === version,
      update: {
        $set: { business: state },
        ...(entry ? { $push: { timeline: entry } } : {}),
        $inc: { version: 1 },
      },
      after: (x) => x, // not needed by the caller
    });
    return r.after !== null;
  }
}
