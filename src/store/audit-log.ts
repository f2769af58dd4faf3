/**
 * The hash-chained audit log (port: AuditLog), collection `audit`, `_id` = the sequence number.
 * The same statements on every engine: the unique `_id` insert is what orders writers (atomic on
 * FerretDB and MongoDB alike), so there is no dialect-specific path.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Connection, mongo } from 'mongoose';
import type { AuditLog } from '../domain/ports.ts';
import type { AuditQuery, AuditSearch } from '../domain/ports/audit.ts';
import type { AuditEntry, AuditEvent } from '../domain/types.ts';
import { GroupCommit } from './group-commit.ts';
import { isDuplicateKey } from './errors.ts';
import { escapeRegex } from '../domain/text.ts';

export const AUDIT_COLLECTION = 'audit';

export interface AuditDoc extends Omit<AuditEntry, 'seq'> {
  _id: number;
}

/** The one mapping from a stored audit record to the domain's AuditEntry. */
export function toAuditEntry(d: AuditDoc): AuditEntry {
  return {
    seq: d._id,
    at: new Date(d.at),
    actor: d.actor,
    action: d.action,
    subject: d.subject,
    ...(d.data === undefined || d.data === null ? {} : { data: d.data }),
    prevHash: d.prevHash,
    hash: d.hash,
  };
}

export const GENESIS_HASH = '0'.repeat(64);

export function auditHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const body = canonicalize({
    seq: e.seq,
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    data: e.data ?? null,
  });
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(body ?? '')
    .digest('hex');
}

/**
 * Hash-chained audit log. The sequence number is the _id, so two writers can never fork the chain:
 * the loser of a race gets a duplicate-key error and retries on the new head.
 */
/** The audit entries matching `q`, newest first (the audit log's query side; web-store.ts too). */
export async function findAuditEntries(
  col: mongo.Collection<AuditDoc>,
  q: AuditQuery,
): Promise<AuditEntry[]> {
  const filter: Record<string, unknown> = {};
  if (q.beforeSeq !== undefined) filter._id = { $lt: q.beforeSeq };
  if (q.action) filter.action = { $regex: `^${escapeRegex(q.action)}` };
  if (q.actor) filter.actor = { $regex: `^${escapeRegex(q.actor)}` };
  if (q.subject) filter.subject = { $regex: `^${escapeRegex(q.subject)}` };
  if (q.from) filter.at = { $gte: q.from, ...(q.until ? { $lt: q.until } : {}) };
  else if (q.until) filter.at = { $lt: q.until };
  const rows = await col
    .find(filter as mongo.Filter<AuditDoc>)
    .sort({ _id: -1 })
    .limit(q.limit)
    .toArray();
  return rows.map(toAuditEntry);
}

export class MongoAuditLog implements AuditLog, AuditSearch {
  readonly #audit: mongo.Collection<AuditDoc>;
  /** The last entry this process wrote or saw; the chain's real head may be ahead (other processes). */
  #head: { seq: number; hash: string } | null = null;
  /**
   * Appends of this process, one statement at a time (they would only collide with each other: each
   * group is chained on the head the previous one left); those that arrive while one is in flight are
   * chained and inserted together (group-commit.ts).
   */
  readonly #group = new GroupCommit<AuditEvent, AuditEntry>((events) => this.#appendAll(events), {
    maxSize: 200,
    inFlight: 1,
  });
  constructor(conn: Connection) {
    if (!conn.db) throw new Error('MongoDB connection not open');
    this.#audit = conn.db.collection<AuditDoc>(AUDIT_COLLECTION);
  }

  async #readHead(): Promise<{ seq: number; hash: string }> {
    const [head] = await this.#audit
      .find({}, { projection: { hash: 1 } })
      .sort({ _id: -1 })
      .limit(1)
      .toArray();
    return { seq: head?._id ?? 0, hash: head?.hash ?? GENESIS_HASH };
  }

  append(event: AuditEvent): Promise<AuditEntry> {
    return this.#group.run(event);
  }

  /**
   * The chain's head, from an entry known to be in it. Sequence numbers have no holes (each is
   * inserted in order), so the head is the last number present: found by doubling the step, then
   * halving — 2·log₂(gap) lookups by `_id`. A process that rarely writes (the CLI, a benchmark, a
   * quiet role) may be thousands of entries behind; following them one by one took minutes.
   */
  async #headFrom(known: { seq: number; hash: string }): Promise<{ seq: number; hash: string }> {
    const at = (seq: number) => this.#audit.findOne({ _id: seq }, { projection: { hash: 1 } });
    let lo = known; // present
    let hi: number; // absent, once the first loop ends
    for (let step = 1; ; step *= 2) {
      hi = lo.seq + step;
      const e = await at(hi);
      if (!e) break;
      lo = { seq: hi, hash: e.hash };
    }
    while (hi - lo.seq > 1) {
      const mid = lo.seq + Math.floor((hi - lo.seq) / 2);
      const e = await at(mid);
      if (e) lo = { seq: mid, hash: e.hash };
      else hi = mid;
    }
    return lo;
  }

  /**
   * The sequence number is the `_id`: the unique insert of seq n+1 is what orders writers, so the
   * chain cannot fork. The head is found once (a sort) and then, when another process wrote in
   * between, searched for by `_id` lookups (#headFrom). A group is chained on the head and inserted
   * in order; when another process took a number, the entries of ours that did get in are kept and
   * the rest are chained again on the new head.
   */
  async #appendAll(events: readonly AuditEvent[]): Promise<AuditEntry[]> {
    type Head = { seq: number; hash: string };
    const done: AuditEntry[] = [];
    let start: Head = (this.#head ??= await this.#readHead());
    for (let attempt = 0; done.length < events.length; attempt++) {
      let head: Head = start;
      const entries: AuditEntry[] = [];
      for (const event of events.slice(done.length)) {
        const base = { seq: head.seq + 1, at: new Date(), ...event };
        const entry: AuditEntry = { ...base, prevHash: head.hash, hash: auditHash(head.hash, base) };
        entries.push(entry);
        head = { seq: entry.seq, hash: entry.hash };
      }
      try {
        await this.#audit.insertMany(
          entries.map(({ seq, ...rest }) => ({ _id: seq, ...rest })),
          { ordered: true },
        );
        this.#head = start = head;
        done.push(...entries);
      } catch (err) {
        if (!isDuplicateKey(err) || attempt > 1000) {
          this.#head = null; // unknown outcome: find the head again next time
          throw err;
        }
        // Someone else took a number: keep ours that got in (same hash), follow the chain by `_id`.
        let last: Head = start;
        for (const e of entries) {
          const there = await this.#audit.findOne({ _id: e.seq }, { projection: { hash: 1 } });
          if (!there) break;
          last = { seq: e.seq, hash: there.hash };
          if (there.hash !== e.hash) break;
          done.push(e);
        }
        this.#head = start = await this.#headFrom(last);
        if (attempt > 20) await new Promise((r) => setTimeout(r, Math.random() * 20));
      }
    }
    return done;
  }

  page(q: AuditQuery): Promise<AuditEntry[]> {
    return findAuditEntries(this.#audit, q);
  }

  async verify() {
    let prevHash = GENESIS_HASH;
    let expected = 1;
    let count = 0;
    const cursor = this.#audit.find().sort({ _id: 1 });
    for await (const d of cursor) {
      const seq = d._id;
      const e = toAuditEntry(d);
      if (seq !== expected) return { ok: false, count, brokenAt: seq, reason: `missing entry ${expected}` };
      if (d.prevHash !== prevHash)
        return { ok: false, count, brokenAt: seq, reason: 'prevHash does not match the previous entry' };
      if (auditHash(prevHash, e) !== d.hash)
        return { ok: false, count, brokenAt: seq, reason: 'entry content does not match its hash' };
      prevHash = d.hash;
      expected++;
      count++;
    }
    return { ok: true, count };
  }
}
