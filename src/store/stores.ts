/** MongoDB implementations of the store ports (domain/ports.ts). */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Connection } from 'mongoose';
import type { AuditLog, CredentialStore, Stores } from '../domain/ports.ts';
import type { AuditEntry, AuditEvent, SystemCredential } from '../domain/types.ts';
import { ensureIndexes, registerModels, type Models } from './models.ts';
import { SecretBox, type CredentialKeys } from './secret-box.ts';
import { MongoDirectoryStore, type DirectoryStoreOptions } from './directory-store.ts';
import { GroupCommit } from './group-commit.ts';
import { insertAbsent, isDuplicateKey, type Doc } from './records.ts';
import { dialectOf, type UpdateDialect } from './dialect.ts';
import { MongoDocumentStore } from './document-store.ts';
import { inboxEntryOf, MongoDeliveryStore, toDelivery } from './delivery-store.ts';
import { MongoOutboxStore } from './outbox-store.ts';
import { MongoDeadLetterStore } from './dead-letter-store.ts';

export type { UpdateDialect } from './dialect.ts';

class MongoCredentialStore implements CredentialStore {
  private readonly m: Models;
  private readonly box: SecretBox;
  constructor(m: Models, box: SecretBox) {
    this.m = m;
    this.box = box;
  }

  async find(systemId: string): Promise<SystemCredential | null> {
    const d = await this.m.System.findById(systemId).lean<Doc & { secretEnc: string }>();
    if (!d) return null;
    return {
      systemId: String(d._id),
      secret: this.box.open(d.secretEnc),
      agencyCodes: d.agencyCodes as string[],
      rights: d.rights as SystemCredential['rights'],
      active: d.active as boolean,
    };
  }

  async upsert(c: SystemCredential): Promise<void> {
    await this.m.System.updateOne(
      { _id: c.systemId },
      {
        $set: {
          secretEnc: this.box.seal(c.secret),
          agencyCodes: c.agencyCodes,
          rights: c.rights,
          active: c.active,
        },
        $setOnInsert: { createdAt: new Date() },
      },
      { upsert: true },
    );
  }
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
class MongoAuditLog implements AuditLog {
  private readonly m: Models;
  /** The last entry this process wrote or saw; the chain's real head may be ahead (other processes). */
  #head: { seq: number; hash: string } | null = null;
  /**
   * Appends of this process, one statement at a time (they would only collide with each other);
   * those that arrive while one is in flight are chained and inserted together (group-commit.ts).
   */
  readonly #group = new GroupCommit<AuditEvent, AuditEntry>((events) => this.#appendAll(events), {
    maxSize: 200,
  });
  constructor(m: Models) {
    this.m = m;
  }

  async #readHead(): Promise<{ seq: number; hash: string }> {
    const head = await this.m.Audit.findOne().sort({ _id: -1 }).lean<{ _id: number; hash: string }>();
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
    const at = (seq: number) => this.m.Audit.findById(seq, { hash: 1 }).lean<{ hash: string }>();
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
        await this.m.Audit.collection.insertMany(
          entries.map(({ seq, ...rest }) => ({ _id: seq, ...rest })) as never[],
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
          const there = await this.m.Audit.findById(e.seq).lean<{ hash: string }>();
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

  async verify() {
    let prevHash = GENESIS_HASH;
    let expected = 1;
    let count = 0;
    const cursor = this.m.Audit.find().sort({ _id: 1 }).lean<Doc & AuditEntry>().cursor();
    for await (const d of cursor) {
      const seq = d._id as number;
      const e = {
        seq,
        at: new Date(d.at),
        actor: d.actor,
        action: d.action,
        subject: d.subject,
        data: d.data,
      };
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

/**
 * The dialect the server speaks: FerretDB answers `buildInfo` with its own version. Tests and the
 * conformance suite force `mongodb` on FerretDB (it executes conditional updates correctly, only
 * slowly), so that the production path runs in CI.
 */
export async function detectDialect(conn: Connection): Promise<UpdateDialect> {
  const build = (await conn.db!.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: string };
  return build.ferretdbVersion ? 'id-only' : 'mongodb';
}

export interface MongoStores extends Stores {
  readonly models: Models;
  /** The agency directory (directory-store.ts): agencies, issued codes, counters, import journal. */
  readonly agencies: MongoDirectoryStore;
}

export async function createMongoStores(
  conn: Connection,
  credentialsKey: CredentialKeys,
  opts: { directory?: DirectoryStoreOptions; dialect?: UpdateDialect } = {},
): Promise<MongoStores> {
  const models = registerModels(conn);
  await ensureIndexes(models);
  const dialect = opts.dialect ?? (await detectDialect(conn));
  // Data migrations run explicitly (src/store/migrations.ts), not here.
  return {
    models,
    agencies: await MongoDirectoryStore.open(conn, opts.directory, dialect),
    credentials: new MongoCredentialStore(models, new SecretBox(credentialsKey)),
    documents: new MongoDocumentStore(models),
    deliveries: new MongoDeliveryStore(models, dialectOf(dialect)),
    outbox: new MongoOutboxStore(models),
    deadLetters: new MongoDeadLetterStore(models),
    audit: new MongoAuditLog(models),
  };
}

/**
 * Deliveries made available before the inbox entries existed get their entry, once per database
 * (idempotent: concurrent starts insert the same entries; a stale one is removed by the listing).
 */
export async function backfillInboxEntries(models: Models): Promise<void> {
  const name = 'inbox-entries-1';
  if (await models.Migration.findById(name).lean()) return;
  const cursor = models.Delivery.find({ transport: 'available' }, { timeline: 0 })
    .lean<Doc[]>()
    .cursor({ batchSize: 1000 });
  let batch: Record<string, unknown>[] = [];
  for await (const d of cursor) {
    const r = toDelivery(d);
    batch.push(inboxEntryOf({ ...r, availableAt: r.availableAt ?? r.queuedAt }));
    if (batch.length === 1000) {
      await insertAbsent(models.InboxEntry, batch);
      batch = [];
    }
  }
  await insertAbsent(models.InboxEntry, batch);
  // Two processes starting together both get here: the second finds the marker there (no error).
  await insertAbsent(models.Migration, [{ _id: name, at: new Date() }]);
}
