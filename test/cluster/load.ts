/**
 * Load for the cluster test: senders submitting signed documents (several recipients each) round-robin
 * over the api processes, and one agent per recipient that, like a DMS, polls its inbox, downloads each
 * document (checking the exact bytes), reports status 01 and acknowledges it. Every call is retried on
 * the next api process when an api process or the broker is away (submissions are idempotent: the
 * same bytes again get the original receipt). Everything accepted or seen is timestamped, so
 * throughput and stalls can be computed per phase afterwards.
 */
import { createHash } from 'node:crypto';
import { HubApiError, HubClient } from '../../src/sdk/client.ts';
import { SdkError } from '../../src/sdk/errors.ts';
import type { EdocMessage } from '../../src/domain/edxml/index.ts';
import { devSigningKey } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secret = (code: string) => `DEV-ONLY-secret-${code}`;

/**
 * Clients for one agency system, one per api process, used round-robin; an api process that could
 * not be reached is left out for a second (a load balancer's passive health check).
 */
class RoundRobin {
  readonly #clients: HubClient[];
  readonly #downUntil: number[];
  #next = 0;
  retries = 0;
  readonly errors = new Map<string, number>();

  constructor(apiUrls: readonly string[], code: string) {
    this.#clients = apiUrls.map(
      // One attempt per call: retrying is this class's job, on the next api process.
      (baseUrl) => new HubClient({ baseUrl, systemId: `dms-${code}`, secret: secret(code), retry: false }),
    );
    this.#downUntil = apiUrls.map(() => 0);
  }

  #pick(): number {
    const now = Date.now();
    for (let k = 0; k < this.#clients.length; k++) {
      const i = this.#next++ % this.#clients.length;
      if (this.#downUntil[i]! <= now) return i;
    }
    return this.#next++ % this.#clients.length;
  }

  /**
   * Runs fn on the next api process; on a connection error or a 5xx, on the one after, until it
   * succeeds or the deadline passes. A 4xx is an answer and is thrown.
   */
  async call<T>(fn: (c: HubClient) => Promise<T>, deadlineMs = 180_000): Promise<T> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const i = this.#pick();
      try {
        return await fn(this.#clients[i]!);
      } catch (err) {
        const status = err instanceof HubApiError ? err.status : undefined;
        if ((status !== undefined && status < 500) || Date.now() > end) throw err;
        if (status === undefined) this.#downUntil[i] = Date.now() + 1000;
        this.retries++;
        const kind = kindOf(err);
        this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
        await sleep(150);
      }
    }
  }
}

export interface LoadOptions {
  readonly apiUrls: readonly string[];
  readonly sender: string;
  readonly recipients: readonly string[];
  /** Offered load: documents per second (a steady schedule; late ones are sent as soon as possible). */
  readonly rate: number;
  /** Concurrent document senders (how fast a backlog is caught up after a stall). */
  readonly senders: number;
  /** Concurrent status reports per recipient agent. */
  readonly agentConcurrency: number;
}

export class ClusterLoad {
  readonly o: LoadOptions;
  /** documentId → message, bytes and acceptance time. */
  readonly accepted = new Map<string, { msg: EdocMessage; wire: string; docId: string; at: number }>();
  /** Acceptance times of documents and of statuses (ms). */
  readonly docTimes: number[] = [];
  readonly statusTimes: number[] = [];
  /** `recipient:documentId` → times seen in the inbox after being acknowledged (duplicates). */
  readonly duplicates = new Map<string, number>();
  /** Per recipient: documentIds processed (downloaded, status 01 accepted, acknowledged). */
  readonly done = new Map<string, Set<string>>();
  readonly byteMismatches: string[] = [];
  #sending = false;
  #agentsStop = false;
  #senderLoops: Promise<void>[] = [];
  #agentLoops: Promise<void>[] = [];
  readonly #senderRR: RoundRobin;
  readonly #agentRR = new Map<string, RoundRobin>();

  constructor(o: LoadOptions) {
    this.o = o;
    this.#senderRR = new RoundRobin(o.apiUrls, o.sender);
    for (const r of o.recipients) {
      this.#agentRR.set(r, new RoundRobin(o.apiUrls, r));
      this.done.set(r, new Set());
    }
  }

  get retries(): number {
    return this.#senderRR.retries + [...this.#agentRR.values()].reduce((n, r) => n + r.retries, 0);
  }

  get errors(): Map<string, number> {
    const out = new Map<string, number>();
    for (const rr of [this.#senderRR, ...this.#agentRR.values()])
      for (const [k, v] of rr.errors) out.set(k, (out.get(k) ?? 0) + v);
    return out;
  }

  start(): void {
    this.#sending = true;
    const key = devSigningKey(this.o.sender);
    const t0 = Date.now();
    let seq = 0;
    for (let i = 0; i < this.o.senders; i++) {
      this.#senderLoops.push(
        (async () => {
          while (this.#sending) {
            const due = t0 + (seq++ * 1000) / this.o.rate;
            if (due > Date.now()) await sleep(due - Date.now());
            if (!this.#sending) return;
            const msg = documentMessage(this.o.sender, [...this.o.recipients]);
            const wire = signed(msg, key);
            const r = await this.#senderRR.call((c) => c.submit(wire));
            const at = Date.now();
            this.accepted.set(msg.documentId, { msg, wire, docId: r.docId, at });
            this.docTimes.push(at);
          }
        })(),
      );
    }
    for (const code of this.o.recipients) this.#agentLoops.push(this.#agent(code));
  }

  /** Stops submitting new documents; the agents go on until `stopAgents`. */
  async stopSending(): Promise<void> {
    this.#sending = false;
    await Promise.all(this.#senderLoops);
  }

  async stopAgents(): Promise<void> {
    this.#agentsStop = true;
    await Promise.all(this.#agentLoops);
  }

  /** Whether every accepted document has been processed by every recipient agent. */
  allProcessed(): boolean {
    return [...this.done.values()].every((s) => s.size === this.accepted.size);
  }

  async #agent(code: string): Promise<void> {
    const rr = this.#agentRR.get(code)!;
    const key = devSigningKey(code);
    const done = this.done.get(code)!;
    const acked = new Set<string>(); // inbox item ids acknowledged
    const statusSent = new Set<string>();
    while (!this.#agentsStop) {
      const page = await rr.call((c) => c.inbox({ type: 'edoc', limit: 100 }));
      if (page.items.length === 0) {
        await sleep(300);
        continue;
      }
      const items = [...page.items];
      let progressed = 0;
      const work = async () => {
        for (let it = items.shift(); it; it = items.shift()) {
          const item = it;
          if (acked.has(item.id)) {
            // Acknowledged items leave the inbox: seeing one again would be a second delivery.
            const k = `${code}:${item.documentId}`;
            this.duplicates.set(k, (this.duplicates.get(k) ?? 0) + 1);
            continue;
          }
          const sent = this.accepted.get(item.documentId);
          // Accepted by the hub but the sender has not got its answer yet: next poll.
          if (!sent) continue;
          const bytes = await rr.call((c) => c.download(item.id));
          if (createHash('sha256').update(bytes).digest('hex') !== sha256(sent.wire))
            this.byteMismatches.push(`${code}:${item.documentId}`);
          if (!statusSent.has(item.documentId)) {
            await rr.call((c) => c.submit(signed(statusMessage(code, sent.msg, '01'), key)));
            statusSent.add(item.documentId);
            this.statusTimes.push(Date.now());
          }
          await rr.call((c) => c.ack(item.id, 'done'));
          acked.add(item.id);
          done.add(item.documentId);
          progressed++;
        }
      };
      await Promise.all(Array.from({ length: this.o.agentConcurrency }, work));
      if (progressed === 0) await sleep(300);
    }
  }
}

/** `HTTP 503`, `HUB_UNREACHABLE ECONNREFUSED`, … */
function kindOf(err: unknown): string {
  if (err instanceof HubApiError) return `HTTP ${err.status}`;
  if (err instanceof SdkError) {
    const reason = (err.details as { reason?: unknown } | undefined)?.reason;
    return typeof reason === 'string' ? `${err.code} ${reason}` : err.code;
  }
  return (err as Error).message.slice(0, 40);
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export interface PhaseStats {
  readonly name: string;
  readonly seconds: number;
  readonly docs: number;
  readonly docsPerSecond: number;
  readonly statuses: number;
  readonly statusesPerSecond: number;
  readonly deliveries: number;
  readonly deliveriesPerSecond: number;
  /** Longest time in the phase without any document accepted. */
  readonly longestDocGapSeconds: number;
}

const inWindow = (ts: readonly number[], a: number, b: number) => ts.filter((t) => t >= a && t < b);

/** Longest interval within [a, b) with no timestamp (the ends count as boundaries). */
export function longestGap(ts: readonly number[], a: number, b: number): { seconds: number; at: number } {
  const xs = [a, ...inWindow(ts, a, b).sort((x, y) => x - y), b];
  let best = { seconds: 0, at: a };
  for (let i = 1; i < xs.length; i++) {
    const g = (xs[i]! - xs[i - 1]!) / 1000;
    if (g > best.seconds) best = { seconds: g, at: xs[i - 1]! };
  }
  return best;
}

export function phaseStats(
  name: string,
  a: number,
  b: number,
  docTimes: readonly number[],
  statusTimes: readonly number[],
  deliveryTimes: readonly number[],
): PhaseStats {
  const s = (b - a) / 1000;
  const docs = inWindow(docTimes, a, b).length;
  const statuses = inWindow(statusTimes, a, b).length;
  const deliveries = inWindow(deliveryTimes, a, b).length;
  return {
    name,
    seconds: Math.round(s * 10) / 10,
    docs,
    docsPerSecond: Math.round((docs / s) * 100) / 100,
    statuses,
    statusesPerSecond: Math.round((statuses / s) * 100) / 100,
    deliveries,
    deliveriesPerSecond: Math.round((deliveries / s) * 100) / 100,
    longestDocGapSeconds: Math.round(longestGap(docTimes, a, b).seconds * 10) / 10,
  };
}
