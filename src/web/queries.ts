/**
 * What the web UI reads, and who may read it: clerks see only documents their agencies sent or
 * received (and, as recipients, only their own deliveries); administrators and auditors see the
 * whole hub. Lists, the document page and the dashboard are built here from the stores.
 */
import { actsFor, agencyScope, userParty, visibleDocument } from '../access/policy.ts';
import { normalizeCode } from '../domain/codes.ts';
import { isOverdue } from '../domain/deadlines.ts';
import { parseEdxml } from '../domain/edxml/index.ts';
import { HubError } from '../domain/errors.ts';
import type { DirectoryStore, DocumentStore } from '../domain/ports.ts';
import { foldVietnamese } from '../domain/text.ts';
import type { Agency, DeliveryRecord, DocumentRecord } from '../domain/types.ts';
import { isEncrypted } from '../crypto/encryption.ts';
import type { Originals } from '../documents/originals.ts';
import type { DocumentListQuery, ListSort, MongoWebQueryStore } from '../store/web-store.ts';
import type { UserView } from '../users/types.ts';

/** Deliveries whose business state is one of these are "in progress" filters of the lists. */
export const STATUS_FILTERS = ['none', '01', '02', '03', '04', '05', '06', 'recalled'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export interface ListFilters {
  readonly number?: string;
  readonly subject?: string;
  readonly counterpart?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly status?: StatusFilter;
  readonly priority?: number;
  readonly overdue?: boolean;
  /** One of the viewer's agencies (clerks), or any agency (administrators, auditors). */
  readonly agency?: string;
  readonly sort?: ListSort;
  readonly page: number;
}

export interface ListRow {
  readonly doc: DocumentRecord;
  /** Received: the deliveries to the viewer's agencies; sent: every delivery. */
  readonly deliveries: readonly DeliveryRecord[];
  readonly overdue: boolean;
}

export interface ListResult {
  readonly rows: readonly ListRow[];
  readonly total: number;
  readonly page: number;
  readonly pages: number;
  /** The status/overdue filter matched more deliveries than are looked at: the list may be partial. */
  readonly truncated: boolean;
  readonly names: ReadonlyMap<string, string>;
  /** The name typed as sender/recipient matched more units than are looked at. */
  readonly counterpartTruncated: boolean;
}

export interface AttachmentInfo {
  readonly name: string;
  readonly contentType: string;
  readonly size?: number;
  readonly description?: string;
}

export interface DocumentPage {
  readonly doc: DocumentRecord;
  readonly deliveries: readonly DeliveryRecord[];
  /** The viewer acts for the sender (sees every recipient), or is an administrator/auditor. */
  readonly seesAll: boolean;
  readonly names: ReadonlyMap<string, string>;
  readonly details: {
    readonly typeName?: string;
    readonly signerName?: string;
    readonly signerPosition?: string;
    readonly place?: string;
    readonly encrypted: boolean;
    readonly attachments: readonly AttachmentInfo[] | null;
  };
  /** Later revoke / update / replace messages about this document. */
  readonly chain: readonly { entry: NonNullable<DocumentRecord['chain']>[number]; doc?: DocumentRecord }[];
  /** For a revoke / update / replace: the document it is about. */
  readonly original?: DocumentRecord;
  readonly duplicateOf?: DocumentRecord;
  /** The status message documents that moved the timelines. */
  readonly statusDocs: ReadonlyMap<string, DocumentRecord>;
}

export interface Dashboard {
  readonly days: readonly { day: string; n: number }[];
  readonly latency: {
    readonly samples: number;
    readonly p50?: number;
    readonly p90?: number;
    readonly p99?: number;
    readonly max?: number;
  };
  readonly refusals: readonly { code: string; n: number }[];
  readonly recipientRefusals: readonly { reason: string; n: number }[];
  readonly deadLetters: number;
  readonly overdue: number;
  readonly byBlock: readonly { block: string; sent: number; received: number }[];
  readonly byProvince: readonly { province: string; name?: string; sent: number; received: number }[];
  readonly since: Date;
}

export const PAGE_SIZE = 25;
const MAX_FILTER_DOCS = 5000;
/** Units a sender/recipient name may resolve to (issue 19 §3): a broader name says "refine". */
export const MAX_COUNTERPART_CODES = 200;
/** Rows of a CSV export: a filter matching more is refused rather than cut short. */
export const MAX_EXPORT_ROWS = 10_000;

/**
 * A typed sender/recipient is a code or code prefix ("H29", "h29.001", "000.00.00.H29") when it is
 * one word of letters, digits, dots and dashes with a digit in it; otherwise words of a name.
 */
export function looksLikeCode(s: string): boolean {
  const v = s.trim();
  return /^[A-Za-z0-9.-]+$/.test(v) && /\d/.test(v);
}

export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export interface WebQueryDeps {
  readonly store: MongoWebQueryStore;
  readonly documents: Pick<DocumentStore, 'get' | 'getPayload'>;
  /** The original a status or a revoke/update/replace refers to, by sender and DocumentId. */
  readonly originals: Pick<Originals, 'of'>;
  readonly deliveries: { forDocument(docId: string): Promise<DeliveryRecord[]> };
  readonly agencies: Pick<DirectoryStore, 'findMany' | 'search'>;
  readonly now?: () => Date;
}

export class WebQueries {
  readonly #d: WebQueryDeps;
  readonly #now: () => Date;

  constructor(deps: WebQueryDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** The agencies a list covers: null = the whole hub. */
  scopeOf(viewer: UserView, agency?: string): string[] | null {
    return agencyScope(userParty(viewer), agency ? normalizeCode(agency) : undefined);
  }

  async names(codes: Iterable<string>): Promise<Map<string, string>> {
    const list = [...new Set(codes)].filter(Boolean);
    const found = list.length ? await this.#d.agencies.findMany(list) : new Map<string, Agency>();
    return new Map([...found.entries()].map(([k, a]) => [k, a.name]));
  }

  /** The sender/recipient typed: a code prefix, or the codes of the units whose names match. */
  async #counterpart(
    typed: string,
  ): Promise<{ match: NonNullable<DocumentListQuery['counterpart']>; truncated: boolean }> {
    if (looksLikeCode(typed)) return { match: { prefix: normalizeCode(typed), codes: [] }, truncated: false };
    const words = foldVietnamese(typed).split(' ').filter(Boolean);
    const found = await this.#d.agencies.search({ nameWords: words, limit: MAX_COUNTERPART_CODES + 1 });
    return {
      match: { codes: found.slice(0, MAX_COUNTERPART_CODES).map((a) => a.code) },
      truncated: found.length > MAX_COUNTERPART_CODES,
    };
  }

  async list(
    viewer: UserView,
    direction: 'sent' | 'received',
    f: ListFilters,
    window: { skip: number; limit: number } = {
      skip: (Math.max(1, f.page) - 1) * PAGE_SIZE,
      limit: PAGE_SIZE,
    },
  ): Promise<ListResult> {
    const scope = this.scopeOf(viewer, f.agency);
    const now = this.#now();
    let docIds: string[] | undefined;
    let truncated = false;
    if (f.status || f.overdue) {
      docIds = await this.#d.store.deliveryDocIds({
        side: direction === 'sent' ? 'sender' : 'recipient',
        scope,
        ...(f.status ? { businessCode: f.status === 'none' ? null : f.status } : {}),
        ...(f.overdue ? { overdueAt: now } : {}),
        limit: MAX_FILTER_DOCS,
      });
      truncated = docIds.length >= MAX_FILTER_DOCS;
    }
    const page = Math.max(1, f.page);
    const counterpart = f.counterpart ? await this.#counterpart(f.counterpart) : undefined;
    const empty =
      (docIds !== undefined && docIds.length === 0) ||
      (counterpart !== undefined && !counterpart.match.prefix && counterpart.match.codes.length === 0);
    const words = f.subject ? foldVietnamese(f.subject).split(' ').filter(Boolean) : [];
    const { items, total } = empty
      ? { items: [], total: 0 }
      : await this.#d.store.listDocuments({
          direction,
          scope,
          ...(f.number ? { number: f.number } : {}),
          ...(words.length ? { subjectWords: words } : {}),
          ...(counterpart ? { counterpart: counterpart.match } : {}),
          ...(f.from ? { from: f.from } : {}),
          ...(f.to ? { to: f.to } : {}),
          ...(f.priority !== undefined ? { priority: f.priority } : {}),
          ...(docIds ? { docIds } : {}),
          ...(f.sort ? { sort: f.sort } : {}),
          ...window,
        });
    const deliveries = await this.#d.store.deliveriesOf(items.map((d) => d.id));
    const byDoc = new Map<string, DeliveryRecord[]>();
    for (const d of deliveries) byDoc.set(d.docId, [...(byDoc.get(d.docId) ?? []), d]);
    const rows = items.map((doc) => {
      let ds = byDoc.get(doc.id) ?? [];
      if (direction === 'received' && scope) ds = ds.filter((d) => scope.includes(d.recipientCode));
      return { doc, deliveries: ds, overdue: ds.some((d) => isOverdue(d.deadline, d.business.code, now)) };
    });
    const codes = rows.flatMap((r) => [r.doc.senderCode, ...r.deliveries.map((d) => d.recipientCode)]);
    return {
      rows,
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      truncated,
      names: await this.names(codes),
      counterpartTruncated: counterpart?.truncated ?? false,
    };
  }

  /** Every row the filter matches, for the CSV export; a larger result is refused, never cut short. */
  async exportRows(viewer: UserView, direction: 'sent' | 'received', f: ListFilters): Promise<ListResult> {
    const result = await this.list(viewer, direction, f, { skip: 0, limit: MAX_EXPORT_ROWS + 1 });
    if (result.rows.length > MAX_EXPORT_ROWS)
      throw new HubError('EXPORT_TOO_LARGE', `${result.total} documents; at most ${MAX_EXPORT_ROWS}`);
    return result;
  }

  /**
   * The viewer opened the document page: the deliveries to the agencies a clerk acts for are no
   * longer "new". Administrators and auditors opening a document change nothing.
   */
  async markOpened(viewer: UserView, p: Pick<DocumentPage, 'deliveries'>): Promise<void> {
    const party = userParty(viewer);
    const ids = p.deliveries
      .filter((d) => !d.openedAt && d.messageType === 'edoc' && actsFor(party, d.recipientCode))
      .map((d) => d.id);
    await this.#d.store.markOpened(ids, this.#now(), viewer.username);
  }

  /** Received documents not yet opened by the clerk's agencies (the navigation's count); 0 for others. */
  unopened(viewer: UserView): Promise<number> {
    return viewer.role === 'clerk' ? this.#d.store.unopenedCount(viewer.agencies) : Promise.resolve(0);
  }

  /**
   * The document as the viewer may see it (src/access/policy.ts). A clerk who is neither the sender
   * nor a recipient gets NOT_FOUND, as for a document that does not exist: nothing leaks about other
   * agencies' traffic.
   */
  async access(
    viewer: UserView,
    docId: string,
  ): Promise<{ doc: DocumentRecord; deliveries: DeliveryRecord[]; seesAll: boolean }> {
    const doc = /^[0-9a-f-]{36}$/.test(docId) ? await this.#d.documents.get(docId) : null;
    const all = doc && doc.state === 'accepted' ? await this.#d.deliveries.forDocument(doc.id) : [];
    const { deliveries, seesAll } = visibleDocument(userParty(viewer), docId, doc, all);
    return { doc: doc!, deliveries, seesAll };
  }

  async document(viewer: UserView, docId: string): Promise<DocumentPage> {
    const { doc, deliveries, seesAll } = await this.access(viewer, docId);
    const details = await this.#details(doc);
    const chainDocs = await this.#d.store.documentsByIds((doc.chain ?? []).map((c) => c.docId));
    const chain = (doc.chain ?? []).map((entry) => {
      const d = chainDocs.find((x) => x.id === entry.docId);
      return d ? { entry, doc: d } : { entry };
    });
    const original = (await this.#d.originals.of(doc)) ?? undefined;
    const duplicateOf = doc.probableDuplicateOf
      ? ((await this.#d.documents.get(doc.probableDuplicateOf)) ?? undefined)
      : undefined;
    const statusIds = deliveries.flatMap((d) =>
      d.timeline.map((e) => e.statusDocId).filter((x): x is string => !!x),
    );
    const statusDocs = new Map((await this.#d.store.documentsByIds(statusIds)).map((d) => [d.id, d]));
    const codes = [
      doc.senderCode,
      ...deliveries.flatMap((d) => [d.recipientCode, d.requestedCode ?? '']),
      ...doc.recipients.map((r) => r.code),
      ...(original ? [original.senderCode] : []),
    ];
    return {
      doc,
      deliveries,
      seesAll,
      names: await this.names(codes),
      details,
      chain,
      ...(original && (await this.#mayReference(viewer, original)) ? { original } : {}),
      ...(duplicateOf && (await this.#mayReference(viewer, duplicateOf)) ? { duplicateOf } : {}),
      statusDocs,
    };
  }

  async #mayReference(viewer: UserView, d: DocumentRecord): Promise<boolean> {
    try {
      await this.access(viewer, d.id);
      return true;
    } catch {
      return false;
    }
  }

  /** Details read from the signed bytes: document type, signer, attachments (names, types, sizes). */
  async #details(doc: DocumentRecord): Promise<DocumentPage['details']> {
    if (doc.messageType !== 'edoc' || doc.size > 30 * 1024 * 1024)
      return { encrypted: false, attachments: null };
    const bytes = await this.#d.documents.getPayload(doc.id);
    if (!bytes) return { encrypted: false, attachments: null };
    const xml = bytes.toString('utf8');
    const encrypted = isEncrypted(xml);
    try {
      const m = parseEdxml(xml);
      if (m.kind !== 'edoc') return { encrypted, attachments: null };
      const attachments = m.attachments.length
        ? m.attachments.map((a) => ({
            name: a.attachmentName,
            contentType: a.contentType,
            size:
              Math.floor((a.contentBase64.length * 3) / 4) - (a.contentBase64.match(/=+$/)?.[0].length ?? 0),
            ...(a.description ? { description: a.description } : {}),
          }))
        : m.manifest.map((r) => ({
            name: r.attachmentName ?? r.contentId,
            contentType: r.contentType ?? 'application/octet-stream',
            ...(r.description ? { description: r.description } : {}),
          }));
      return {
        encrypted,
        attachments,
        ...(m.documentType?.typeName ? { typeName: m.documentType.typeName } : {}),
        ...(m.signerInfo?.fullName ? { signerName: m.signerInfo.fullName } : {}),
        ...(m.signerInfo?.position ? { signerPosition: m.signerInfo.position } : {}),
        ...(m.promulgationInfo.place ? { place: m.promulgationInfo.place } : {}),
      };
    } catch {
      return { encrypted, attachments: null };
    }
  }

  /**
   * The dashboard over `days` Vietnam days from `start` (00:00 Vietnam time); by default the last
   * 30 days up to today. Counts, refusals and volumes cover the period; latency the last 7 days.
   */
  async dashboard(range: { start?: Date; days?: number } = {}): Promise<Dashboard> {
    const now = this.#now();
    const dayMs = 86_400_000;
    const days = range.days ?? 30;
    // Day boundaries at midnight Vietnam time (UTC+7).
    const todayStart = new Date(Math.floor((now.getTime() + 7 * 3_600_000) / dayMs) * dayMs - 7 * 3_600_000);
    const first = range.start ?? new Date(todayStart.getTime() - (days - 1) * dayMs);
    const bounds = Array.from({ length: days + 1 }, (_, i) => new Date(first.getTime() + i * dayMs));
    const since = bounds[0]!;
    const until = bounds.at(-1)!;
    const [counts, samples, refusals, recipientRefusals, deadLetters, overdue, volumes] = await Promise.all([
      this.#d.store.documentsPerInterval(bounds),
      this.#d.store.latencySamples(new Date(now.getTime() - 7 * dayMs), 20_000),
      this.#d.store.refusalsByCode(since, until),
      this.#d.store.recipientRefusals(since, until),
      this.#d.store.deadLetterCount(),
      this.#d.store.overdueCount(now),
      this.#d.store.volumes(since, until),
    ]);
    const sorted = [...samples].sort((a, b) => a - b);
    const codes = [...new Set([...volumes.sent.keys(), ...volumes.received.keys()])];
    const agencies = codes.length ? await this.#d.agencies.findMany(codes) : new Map<string, Agency>();
    const blocks = new Map<string, { sent: number; received: number }>();
    const provinces = new Map<string, { sent: number; received: number }>();
    const add = (
      m: Map<string, { sent: number; received: number }>,
      k: string,
      key: 'sent' | 'received',
      n: number,
    ) => {
      const e = m.get(k) ?? { sent: 0, received: 0 };
      e[key] += n;
      m.set(k, e);
    };
    for (const [side, map] of [
      ['sent', volumes.sent],
      ['received', volumes.received],
    ] as const)
      for (const [code, n] of map) {
        const a = agencies.get(code);
        add(blocks, a?.block ?? 'other', side, n);
        add(provinces, a?.province ?? (a && !a.parentCode ? code : '—'), side, n);
      }
    const provinceNames = await this.names([...provinces.keys()].filter((p) => p !== '—'));
    return {
      days: counts.map((n, i) => ({ day: dayKey(bounds[i]!), n })),
      latency: {
        samples: sorted.length,
        ...(sorted.length
          ? {
              p50: percentile(sorted, 50),
              p90: percentile(sorted, 90),
              p99: percentile(sorted, 99),
              max: sorted.at(-1),
            }
          : {}),
      },
      refusals,
      recipientRefusals,
      deadLetters,
      overdue,
      byBlock: [...blocks.entries()]
        .map(([block, v]) => ({ block, ...v }))
        .sort((a, b) => b.sent + b.received - a.sent - a.received),
      byProvince: [...provinces.entries()]
        .map(([province, v]) => ({
          province,
          ...(provinceNames.get(province) ? { name: provinceNames.get(province)! } : {}),
          ...v,
        }))
        .sort((a, b) => b.sent + b.received - a.sent - a.received),
      since,
    };
  }
}

function dayKey(d: Date): string {
  return new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
}
