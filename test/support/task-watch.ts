/**
 * Follows a test hub's delivery tasks from their publish to the end of their handling, so that a test
 * can wait until nothing is left to happen (issue 21: no sleeping "long enough" for a late duplicate):
 * `settled()` resolves once every task published since the watch began (to the deliver exchange or a
 * retry exchange) has been taken by the worker, no handler and no outbox relay pass is running, and
 * the outbox holds nothing unsent. From then on the hub makes no delivery by itself, so what the test
 * sees is final. A task still waiting in a retry queue keeps it unsettled, as it should.
 *
 * It wraps the hub's `broker.publish`, `worker.deliver` and `relay.runOnce` on the instances (the hub
 * calls them through `this`); `stop()` puts them back. One watch per hub at a time.
 */
import type { Hub } from '../../src/app.ts';

export interface TaskWatch {
  /** Waits (on the broker's `idle` event and the counts, bounded by `timeoutMs`) until settled. */
  settled(timeoutMs?: number): Promise<void>;
  /** Tasks published since the watch began, by delivery id. */
  readonly published: ReadonlyMap<string, number>;
  stop(): void;
}

export function watchTasks(hub: Hub): TaskWatch {
  const { broker, worker, relay, topology } = hub;
  if (!worker) throw new Error('watchTasks needs a hub that runs the worker role');
  const taskExchanges = new Set(topology.allExchanges().filter((x) => x !== topology.deadExchange));
  const published = new Map<string, number>();
  const taken = new Map<string, number>();
  let relayPasses = 0;
  const count = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);

  const publish = broker.publish.bind(broker);
  broker.publish = (exchange, routingKey, content, opts) => {
    if (taskExchanges.has(exchange)) count(published, String(opts?.messageId ?? content.toString('utf8')));
    return publish(exchange, routingKey, content, opts);
  };
  const deliver = worker.deliver.bind(worker);
  worker.deliver = (task) => {
    count(taken, task.deliveryId);
    return deliver(task);
  };
  const runOnce = relay?.runOnce.bind(relay);
  if (relay && runOnce)
    relay.runOnce = async () => {
      relayPasses++;
      try {
        return await runOnce();
      } finally {
        relayPasses--;
      }
    };

  const allTaken = () => [...published].every(([id, n]) => (taken.get(id) ?? 0) >= n);

  return {
    published,
    async settled(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const unsent = await hub.stores.outbox.due(new Date(8.64e15), 1);
        // drain() resolves at once when no handler runs, else on the broker's `idle` event. What
        // follows runs before any new message can be handed to a handler (that needs a socket event).
        await broker.drain(Math.max(0, deadline - Date.now()));
        if (unsent.length === 0 && relayPasses === 0 && allTaken()) return;
        if (Date.now() > deadline) {
          const waiting = [...published].filter(([id, n]) => (taken.get(id) ?? 0) < n).map(([id]) => id);
          throw new Error(
            `delivery tasks not settled after ${timeoutMs} ms: ${unsent.length} unsent in the outbox, ` +
              `${relayPasses} relay passes running, tasks not taken yet for ${waiting.join(', ') || 'none'}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50)); // the next look (a bounded wait, not a sleep to pass)
      }
    },
    stop() {
      // The prototype's methods show through again (one watch per hub at a time).
      Reflect.deleteProperty(broker, 'publish');
      Reflect.deleteProperty(worker, 'deliver');
      if (relay) Reflect.deleteProperty(relay, 'runOnce');
    },
  };
}
