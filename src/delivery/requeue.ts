/**
 * Re-sends delivery tasks for deliveries still `queued` after a while: the repair step after a
 * MongoDB restore (the broker's queues do not match the restored data: tasks already consumed leave
 * restored deliveries waiting forever) or after the loss of a broker's queue contents. Each waiting
 * delivery of a committed document gets a new outbox entry; the outbox relay of a worker publishes it.
 * Harmless when the task is in fact still queued: consumers are idempotent on (document, recipient),
 * and a delivery past `queued` is left alone.
 */
import type { AuditLog } from '../domain/ports.ts';
import type { Models } from '../store/models.ts';

export interface RequeueResult {
  readonly requeued: number;
  readonly skippedUncommitted: number;
}

export async function requeueWaitingDeliveries(
  m: Pick<Models, 'Delivery' | 'Document' | 'Outbox'>,
  audit: AuditLog,
  opts: { actor: string; olderThanMs: number; now?: Date },
): Promise<RequeueResult> {
  const now = opts.now ?? new Date();
  const waiting = await m.Delivery.find({
    transport: 'queued',
    queuedAt: { $lte: new Date(now.getTime() - opts.olderThanMs) },
  })
    .select({ _id: 1, docId: 1, recipientCode: 1 })
    .lean<{ _id: string; docId: string; recipientCode: string }[]>();
  const docIds = [...new Set(waiting.map((d) => d.docId))];
  const committed = new Set<string>();
  for (const id of docIds) {
    const doc = await m.Document.findById(id).select({ state: 1 }).lean<{ state?: string }>();
    if (doc?.state === 'accepted') committed.add(id);
  }
  const todo = waiting.filter((d) => committed.has(d.docId));
  const tag = now.getTime().toString(36);
  if (todo.length)
    await m.Outbox.insertMany(
      todo.map((d) => ({
        _id: `${d._id}:requeue:${tag}`,
        docId: d.docId,
        deliveryId: d._id,
        recipientCode: d.recipientCode,
        createdAt: new Date(0), // due at once for the relay
      })),
      { ordered: false },
    );
  await audit.append({
    actor: opts.actor,
    action: 'deliveries.requeued',
    subject: 'deliveries',
    data: { requeued: todo.length, olderThanMs: opts.olderThanMs },
  });
  return { requeued: todo.length, skippedUncommitted: waiting.length - todo.length };
}
