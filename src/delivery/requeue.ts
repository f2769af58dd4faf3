/**
 * Re-sends delivery tasks for deliveries still `queued` after a while: the repair step after a
 * MongoDB restore (the broker's queues do not match the restored data: tasks already consumed leave
 * restored deliveries waiting forever) or after the loss of a broker's queue contents. Each waiting
 * delivery of a committed document gets a new outbox entry; the outbox relay of a worker publishes it.
 * Harmless when the task is in fact still queued: consumers are idempotent on (document, recipient),
 * and a delivery past `queued` is left alone.
 */
import type { AuditLog, Stores } from '../domain/ports.ts';

export interface RequeueResult {
  readonly requeued: number;
  readonly skippedUncommitted: number;
}

export async function requeueWaitingDeliveries(
  stores: Pick<Stores, 'deliveries' | 'documents' | 'outbox'>,
  audit: AuditLog,
  opts: { actor: string; olderThanMs: number; now?: Date },
): Promise<RequeueResult> {
  const now = opts.now ?? new Date();
  const waiting = await stores.deliveries.waiting(new Date(now.getTime() - opts.olderThanMs));
  const docIds = [...new Set(waiting.map((d) => d.docId))];
  const committed = new Set<string>();
  for (const id of docIds) if ((await stores.documents.get(id))?.state === 'accepted') committed.add(id);
  const todo = waiting.filter((d) => committed.has(d.docId));
  const tag = now.getTime().toString(36);
  await stores.outbox.insertMany(
    todo.map((d) => ({
      id: `${d.id}:requeue:${tag}`,
      docId: d.docId,
      deliveryId: d.id,
      recipientCode: d.recipientCode,
      createdAt: new Date(0), // due at once for the relay
    })),
  );
  await audit.append({
    actor: opts.actor,
    action: 'deliveries.requeued',
    subject: 'deliveries',
    data: { requeued: todo.length, olderThanMs: opts.olderThanMs },
  });
  return { requeued: todo.length, skippedUncommitted: waiting.length - todo.length };
}
