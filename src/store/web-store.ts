/**
 * Read-only queries of the web UI (src/web): document lists with their filters, the dashboard's
 * aggregates, delivery endpoints and the audit log. Only what FerretDB 1.24 supports is used:
 * find with $in/$regex/$or/$exists, sort/skip/limit, countDocuments, and aggregate with
 * $match/$unwind/$group/$sort/$limit ($dateToString is not implemented there, so per-day counts are
 * bucketed here from a projection).
 */
import type { Models } from './models.ts';
import type { AuditEntry, DeliveryRecord, DocumentMeta, DocumentRecord } from '../domain/types.ts';
import { findAuditEntries } from './audit-log.ts';
import type { AuditQuery } from '../domain/ports/audit.ts';
import { escapeRegex, foldVietnamese, numberKey, numberKeyPattern } from '../domain/text.ts';

type Doc = Record<string, unknown> & { _id: unknown };

function withoutNulls(d: Doc): Record<string, unknown> {
  const { _id: _i, ...rest } = d;
  for (const [k, v] of Object.entries(rest)) if (v === null) delete rest[k];
  return rest;
}

function toDocument(d: Doc): DocumentRecord {
  return { id: String(d._id), ...withoutNulls(d) } as unknown as DocumentRecord;
}

function toDelivery(d: Doc): DeliveryRecord {
  const r = { id: String(d._id), ...withoutNulls(d) } as unknown as DeliveryRecord & {
    timeline?: DeliveryRecord['timeline'];
  };
  return {
    ...r,
    timeline: r.timeline ?? [],
    business: r.business ?? { code: null, pending: null },
    version: r.version ?? 0,
  };
}

/** The sortable columns of the lists (a whitelist: nothing else reaches the store's sort). */
export const SORT_KEYS = ['received', 'number', 'subject', 'counterpart', 'priority'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export interface ListSort {
  readonly key: SortKey;
  readonly dir: 'asc' | 'desc';
}

const SORT_FIELDS: Record<SortKey, string> = {
  received: 'receivedAt',
  number: 'meta.numberKey',
  subject: 'meta.subjectFolded',
  counterpart: 'senderCode',
  priority: 'meta.priority',
};

/** The store's sort of a list: the column, then _id as the stable tiebreak. */
export function sortSpec(s: ListSort | undefined): Record<string, 1 | -1> {
  const key = s ?? { key: 'received', dir: 'desc' };
  return { [SORT_FIELDS[key.key]]: key.dir === 'asc' ? 1 : -1, _id: 1 };
}

/** Which documents a list shows. Every criterion is optional except the direction. */
export interface DocumentListQuery {
  /** sent: the scope's agencies sent them; received: they were delivered to one of them. */
  readonly direction: 'sent' | 'received';
  /** Agency codes; null = the whole hub (administrators, auditors). */
  readonly scope: readonly string[] | null;
  /** Number and/or notation ("12/UBND-VP", "12", "UBND"), or part of the DocumentId. */
  readonly number?: string;
  /** Folded words that must all occur in the subject. */
  readonly subjectWords?: readonly string[];
  /** The other party: a code prefix, and/or the codes of the units whose names matched. */
  readonly counterpart?: { readonly prefix?: string; readonly codes: readonly string[] };
  /** Column and direction; ties are broken by _id so pages never overlap. Default: newest first. */
  readonly sort?: ListSort;
  readonly from?: Date;
  readonly to?: Date;
  readonly priority?: number;
  /** Restricts to these documents (status and overdue filters, resolved on deliveries first). */
  readonly docIds?: readonly string[];
  readonly skip: number;
  readonly limit: number;
}

export interface DeliveryDocFilter {
  readonly side: 'sender' | 'recipient';
  readonly scope: readonly string[] | null;
  /** Business code of the delivery: '01'…'06', 'recalled', or null (no status yet). */
  readonly businessCode?: string | null;
  /** Only overdue deliveries at this moment. */
  readonly overdueAt?: Date;
  readonly limit: number;
}

export type { AuditQuery } from '../domain/ports/audit.ts';

export interface EndpointRow {
  readonly code: string;
  readonly name: string;
  readonly status: string;
  readonly mode: string;
  readonly url?: string;
  readonly cipherProtected?: boolean;
}

/** The filter of overdue deliveries (same rule as DeliveryStore.overdue and domain/deadlines.ts). */
function overdueFilter(now: Date): Record<string, unknown> {
  return {
    deadline: { $lt: now },
    messageType: 'edoc',
    'business.code': { $in: [null, '01'] },
    transport: { $nin: ['failed'] },
  };
}

/** [since, until) on a date field; open-ended without `until`. */
function period(since: Date, until?: Date): Record<string, Date> {
  return { $gte: since, ...(until ? { $lt: until } : {}) };
}

export class MongoWebQueryStore {
  readonly #m: Pick<Models, 'Document' | 'Delivery' | 'Audit' | 'DeadLetter' | 'Agency'>;

  constructor(models: Pick<Models, 'Document' | 'Delivery' | 'Audit' | 'DeadLetter' | 'Agency'>) {
    this.#m = models;
  }

  async listDocuments(q: DocumentListQuery): Promise<{ items: DocumentRecord[]; total: number }> {
    const and: Record<string, unknown>[] = [{ messageType: 'edoc' }, { state: 'accepted' }];
    if (q.scope)
      and.push(
        q.direction === 'sent'
          ? { senderCode: { $in: [...q.scope] } }
          : { 'recipients.deliveredTo': { $in: [...q.scope] } },
      );
    if (q.docIds) and.push({ _id: { $in: [...q.docIds] } });
    if (q.number) {
      // The folded key (issue 19 §3) ignores case and diacritics; documents stored before it was
      // recorded (until the start-up backfill reaches them) are matched on number and notation as written.
      const text = q.number.trim();
      const pattern = numberKeyPattern(text);
      const slash = text.indexOf('/');
      const legacy: Record<string, unknown>[] = [];
      if (slash > 0) {
        legacy.push({ 'meta.codeNumber': text.slice(0, slash).trim() });
        const notation = text.slice(slash + 1).trim();
        if (notation)
          legacy.push({ 'meta.codeNotation': { $regex: `^${escapeRegex(notation)}`, $options: 'i' } });
      } else {
        const rx = { $regex: escapeRegex(text), $options: 'i' };
        legacy.push({ $or: [{ 'meta.codeNumber': text }, { 'meta.codeNotation': rx }] });
      }
      and.push({
        $or: [
          ...(pattern ? [{ 'meta.numberKey': { $regex: pattern } }] : []),
          { 'meta.numberKey': { $exists: false }, $and: legacy },
          { documentId: { $regex: escapeRegex(text), $options: 'i' } },
        ],
      });
    }
    for (const w of q.subjectWords ?? []) {
      const rx = escapeRegex(w);
      // Documents accepted before folded subjects were stored are matched on their subject as written.
      and.push({
        $or: [
          { 'meta.subjectFolded': { $regex: rx } },
          { 'meta.subjectFolded': { $exists: false }, 'meta.subject': { $regex: rx, $options: 'i' } },
        ],
      });
    }
    if (q.counterpart) {
      // A code prefix, or one of the codes whose names matched (resolved through the directory).
      const matches: unknown[] = [
        ...(q.counterpart.prefix ? [{ $regex: `^${escapeRegex(q.counterpart.prefix)}` }] : []),
        ...(q.counterpart.codes.length ? [{ $in: [...q.counterpart.codes] }] : []),
      ];
      const fields = q.direction === 'sent' ? ['recipients.deliveredTo', 'recipients.code'] : ['senderCode'];
      and.push({ $or: fields.flatMap((f) => matches.map((m) => ({ [f]: m }))) });
    }
    if (q.from || q.to)
      and.push({ receivedAt: { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lte: q.to } : {}) } });
    if (q.priority !== undefined) and.push({ 'meta.priority': q.priority });
    const filter = { $and: and };
    const [rows, total] = await Promise.all([
      this.#m.Document.find(filter, { receipt: 0, payload: 0 })
        .sort(sortSpec(q.sort))
        .skip(q.skip)
        .limit(q.limit)
        .lean<Doc[]>(),
      this.#m.Document.countDocuments(filter),
    ]);
    return { items: rows.map(toDocument), total };
  }

  /** Documents whose deliveries match a status or overdue filter (at most `limit`). */
  async deliveryDocIds(f: DeliveryDocFilter): Promise<string[]> {
    const filter: Record<string, unknown> = f.overdueAt
      ? overdueFilter(f.overdueAt)
      : { messageType: 'edoc' };
    if (f.scope) filter[f.side === 'sender' ? 'senderCode' : 'recipientCode'] = { $in: [...f.scope] };
    if (f.businessCode !== undefined) filter['business.code'] = f.businessCode;
    const rows = await this.#m.Delivery.find(filter, { docId: 1 }).limit(f.limit).lean<{ docId: string }[]>();
    return [...new Set(rows.map((r) => r.docId))];
  }

  async deliveriesOf(docIds: readonly string[]): Promise<DeliveryRecord[]> {
    if (docIds.length === 0) return [];
    const rows = await this.#m.Delivery.find({ docId: { $in: [...docIds] } })
      .sort({ recipientCode: 1 })
      .lean<Doc[]>();
    return rows.map(toDelivery);
  }

  async documentsByIds(ids: readonly string[]): Promise<DocumentRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.#m.Document.find({ _id: { $in: [...ids] } }, { receipt: 0, payload: 0 }).lean<
      Doc[]
    >();
    return rows.map(toDocument);
  }

  /** Accepted documents per interval (e.g. one per day), from one projection of the period. */
  async documentsPerInterval(bounds: readonly Date[], cap = 500_000): Promise<number[]> {
    const counts = new Array<number>(Math.max(0, bounds.length - 1)).fill(0);
    if (bounds.length < 2) return counts;
    const rows = await this.#m.Document.find(
      { messageType: 'edoc', state: 'accepted', receivedAt: { $gte: bounds[0], $lt: bounds.at(-1) } },
      { receivedAt: 1, _id: 0 },
    )
      .limit(cap)
      .lean<{ receivedAt: Date }[]>();
    for (const r of rows) {
      const t = new Date(r.receivedAt).getTime();
      let lo = 0;
      let hi = bounds.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (bounds[mid]!.getTime() <= t) lo = mid;
        else hi = mid;
      }
      counts[lo]! += 1;
    }
    return counts;
  }

  /** Documents sent per sender and received per recipient since `since` ($group). */
  async volumes(
    since: Date,
    until?: Date,
  ): Promise<{ sent: Map<string, number>; received: Map<string, number> }> {
    const match = {
      $match: { messageType: 'edoc', state: 'accepted', receivedAt: period(since, until) },
    };
    const [sent, received] = await Promise.all([
      this.#m.Document.aggregate<{ _id: string; n: number }>([
        match,
        { $group: { _id: '$senderCode', n: { $sum: 1 } } },
      ]),
      this.#m.Document.aggregate<{ _id: string | null; n: number }>([
        match,
        { $unwind: '$recipients' },
        { $group: { _id: '$recipients.deliveredTo', n: { $sum: 1 } } },
      ]),
    ]);
    return {
      sent: new Map(sent.map((r) => [r._id, r.n])),
      received: new Map(received.filter((r) => r._id).map((r) => [r._id!, r.n])),
    };
  }

  /** Milliseconds from acceptance to availability at the recipient, most recent first. */
  async latencySamples(since: Date, limit: number): Promise<number[]> {
    const rows = await this.#m.Delivery.find(
      { messageType: 'edoc', availableAt: { $gte: since } },
      { queuedAt: 1, availableAt: 1, _id: 0 },
    )
      .sort({ availableAt: -1 })
      .limit(limit)
      .lean<{ queuedAt: Date; availableAt: Date }[]>();
    return rows.map((r) => new Date(r.availableAt).getTime() - new Date(r.queuedAt).getTime());
  }

  /** Submissions refused since `since`, by error code (from the audit log: refusals store nothing else). */
  async refusalsByCode(since: Date, until?: Date): Promise<{ code: string; n: number }[]> {
    const rows = await this.#m.Audit.aggregate<{ _id: string | null; n: number }>([
      { $match: { action: 'submission.refused', at: period(since, until) } },
      { $group: { _id: '$data.code', n: { $sum: 1 } } },
      { $sort: { n: -1 } },
    ]);
    return rows.map((r) => ({ code: r._id ?? 'UNKNOWN', n: r.n }));
  }

  /** Deliveries refused by the recipient (status 02) since `since`, by the reason they gave. */
  async recipientRefusals(since: Date, until?: Date, limit = 5000): Promise<{ reason: string; n: number }[]> {
    const rows = await this.#m.Delivery.find(
      { messageType: 'edoc', 'business.code': '02', queuedAt: period(since, until) },
      { timeline: 1, lastError: 1, _id: 0 },
    )
      .limit(limit)
      .lean<{ timeline?: { code: string; description?: string }[]; lastError?: string }[]>();
    const by = new Map<string, number>();
    for (const r of rows) {
      const e = [...(r.timeline ?? [])].reverse().find((t) => t.code === '02');
      const reason = (e?.description ?? r.lastError ?? '').trim() || '—';
      by.set(reason, (by.get(reason) ?? 0) + 1);
    }
    return [...by.entries()].map(([reason, n]) => ({ reason, n })).sort((a, b) => b.n - a.n);
  }

  /** Names of these agencies (codes not in the directory are left out). */
  async agencyNames(codes: readonly string[]): Promise<Map<string, string>> {
    const list = [...new Set(codes)].filter(Boolean);
    if (list.length === 0) return new Map();
    const rows = await this.#m.Agency.find({ _id: { $in: list } }, { name: 1 }).lean<
      { _id: string; name: string }[]
    >();
    return new Map(rows.map((r) => [r._id, r.name]));
  }

  overdueCount(now: Date): Promise<number> {
    return this.#m.Delivery.countDocuments(overdueFilter(now));
  }

  deadLetterCount(): Promise<number> {
    return this.#m.DeadLetter.countDocuments({ replayedAt: { $exists: false } });
  }

  /** Agencies that receive by push or AMQP (the others poll their inbox). */
  async endpoints(): Promise<EndpointRow[]> {
    const rows = await this.#m.Agency.find(
      { 'delivery.mode': { $in: ['push', 'amqp'] } },
      { name: 1, status: 1, delivery: 1 },
    )
      .sort({ _id: 1 })
      .limit(5000)
      .lean<
        {
          _id: string;
          name: string;
          status: string;
          delivery: { mode: string; url?: string; cipherProtected?: boolean };
        }[]
      >();
    return rows.map((r) => ({
      code: r._id,
      name: r.name,
      status: r.status,
      mode: r.delivery.mode,
      ...(r.delivery.url ? { url: r.delivery.url } : {}),
      ...(r.delivery.cipherProtected ? { cipherProtected: true } : {}),
    }));
  }

  /** Deliveries still on their way to these recipients: count and the last error seen. */
  async backlog(
    recipients: readonly string[],
  ): Promise<Map<string, { waiting: number; dead: number; lastError?: string }>> {
    const out = new Map<string, { waiting: number; dead: number; lastError?: string }>();
    if (recipients.length === 0) return out;
    const rows = await this.#m.Delivery.find(
      { recipientCode: { $in: [...recipients] }, transport: { $in: ['queued', 'dead-lettered'] } },
      { recipientCode: 1, transport: 1, lastError: 1, _id: 0 },
    )
      .limit(20_000)
      .lean<{ recipientCode: string; transport: string; lastError?: string }[]>();
    for (const r of rows) {
      const e = out.get(r.recipientCode) ?? { waiting: 0, dead: 0 };
      if (r.transport === 'queued') e.waiting++;
      else e.dead++;
      if (r.lastError) e.lastError = r.lastError;
      out.set(r.recipientCode, e);
    }
    return out;
  }

  auditPage(q: AuditQuery): Promise<AuditEntry[]> {
    return findAuditEntries(this.#m.Audit.collection as never, q); // the audit log's query (audit-log.ts)
  }

  /**
   * Stores the folded subject (diacritic-free, lower-case) on documents accepted before it was
   * recorded at submission, so that subject search works on them too. Idempotent; batches of 500.
   */
  backfillFoldedSubjects(max = 100_000): Promise<number> {
    return this.#backfill({ 'meta.subject': { $exists: true } }, 'subjectFolded', max, (m) =>
      foldVietnamese(m.subject ?? ''),
    );
  }

  /** The same for the number/notation search key (issue 19 §3): documents stored without it get it. */
  backfillNumberKeys(max = 100_000): Promise<number> {
    const has = {
      $or: [{ 'meta.codeNumber': { $exists: true } }, { 'meta.codeNotation': { $exists: true } }],
    };
    return this.#backfill(has, 'numberKey', max, (m) => numberKey(m.codeNumber, m.codeNotation));
  }

  async #backfill(
    has: Record<string, unknown>,
    target: 'subjectFolded' | 'numberKey',
    max: number,
    value: (meta: DocumentMeta) => string | undefined,
  ): Promise<number> {
    let n = 0;
    while (n < max) {
      const rows = await this.#m.Document.find(
        { messageType: 'edoc', ...has, [`meta.${target}`]: { $exists: false } },
        { meta: 1 },
      )
        .limit(500)
        .lean<{ _id: string; meta: DocumentMeta }[]>();
      if (rows.length === 0) break;
      for (const r of rows)
        await this.#m.Document.updateOne(
          { _id: r._id },
          { $set: { [`meta.${target}`]: value(r.meta) ?? '' } },
        );
      n += rows.length;
    }
    return n;
  }

  /**
   * Records the first time a clerk of the recipient opened each of these deliveries (the lists'
   * "new" mark). Only unset values are written: the first opening stays.
   */
  async markOpened(deliveryIds: readonly string[], at: Date, by: string): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.#m.Delivery.updateMany(
      { _id: { $in: [...deliveryIds] }, openedAt: { $exists: false } },
      { $set: { openedAt: at, openedBy: by } },
    );
  }

  /** Documents delivered to these recipients that none of their clerks has opened yet. */
  unopenedCount(recipients: readonly string[]): Promise<number> {
    if (recipients.length === 0) return Promise.resolve(0);
    return this.#m.Delivery.countDocuments({
      recipientCode: { $in: [...recipients] },
      messageType: 'edoc',
      transport: { $nin: ['queued', 'failed'] },
      openedAt: { $exists: false },
    });
  }
}
