/**
 * The directory's records as stored (directory-store.ts), their mapping to and from the domain's
 * `Agency`, and what both dialects (ferretdb.ts, mongodb.ts) share.
 */
import { toRegisteredCertificate, type CertificateDoc } from '../certificate-store.ts';
import type { mongo } from 'mongoose';
import type { AgencyPatch, DirectoryWriter, ImportJob } from '../../domain/ports.ts';
import type { Agency } from '../../domain/types.ts';
import { foldVietnamese } from '../../domain/text.ts';

export type Collection<T extends mongo.Document> = mongo.Collection<T>;

export interface AgencyDoc extends Omit<Agency, 'code'> {
  _id: string;
  nameFolded: string;
  importId?: string;
}

export interface CodeDoc {
  _id: string;
  canonical: string;
  kind: 'canonical' | 'legacy';
  issuedAt: Date;
  by: string;
  given?: boolean;
}

/**
 * `code:<parent>` ordinals and `version`, the change-feed counter. In the MongoDB dialect the
 * version counter also carries the writer lock (mongodb.ts).
 */
export interface CounterDoc {
  _id: string;
  seq: number;
  lock?: {
    owner: string;
    label: string;
    acquiredAt: Date;
    heartbeatAt: Date;
    /** The first change-feed version taken under this lock. */
    from?: number;
  };
}

/** A link of the FerretDB dialect's lock chain (ferretdb.ts). */
export interface LockDoc {
  _id: string;
  n: number;
  owner: string;
  label: string;
  acquiredAt: Date;
  heartbeatAt: Date;
  releasedAt?: Date;
  /** The first change-feed version taken under this lock. */
  from?: number;
}

export interface ImportDoc extends Omit<ImportJob, 'id'> {
  _id: string;
}

export interface RecordsDoc {
  _id: string;
  importId: string;
  part: number;
  records: Record<string, unknown>[];
}

export interface UndoDoc {
  _id: string;
  importId: string;
  code: string;
  /** The agency before the import changed it, and the version the import gave it. */
  before: AgencyDoc;
  appliedVersion: number;
}

/** The directory's collections (directory-store.ts creates them). */
export interface DirectoryCollections {
  readonly agencies: Collection<AgencyDoc>;
  readonly codes: Collection<CodeDoc>;
  readonly counters: Collection<CounterDoc>;
  readonly imports: Collection<ImportDoc>;
  readonly undo: Collection<UndoDoc>;
  readonly locks: Collection<LockDoc>;
  readonly records: Collection<RecordsDoc>;
}

export const VERSION_COUNTER = 'version';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits a little longer after each failed attempt to take the writer lock. */
export const lockBackoff = (attempt: number) => sleep(5 + Math.random() * Math.min(50, 5 * attempt));

/** Which of these codes are in the register: `$in` queries of at most 10,000 codes each. */
export async function registeredAmong(register: Collection<CodeDoc>, codes: readonly string[]) {
  const out = new Set<string>();
  for (let i = 0; i < codes.length; i += 10_000) {
    const docs = await register
      .find({ _id: { $in: codes.slice(i, i + 10_000) } }, { projection: { _id: 1 } })
      .toArray();
    for (const d of docs) out.add(d._id);
  }
  return out;
}

/** The store's one duplicate-key check (errors.ts), for the dialects. */
export { isDuplicateKey } from '../errors.ts';

export function searchText(name: string, shortName?: string): string {
  return foldVietnamese(shortName ? `${name} | ${shortName}` : name);
}

export function toDoc(a: Agency, importId?: string): AgencyDoc {
  const { code, ...rest } = a;
  const doc: AgencyDoc = {
    _id: code,
    ...rest,
    successors: [...a.successors],
    ...(a.predecessors ? { predecessors: [...a.predecessors] } : {}),
    certificates: [...a.certificates],
    nameFolded: searchText(a.name, a.shortName),
    ...(importId ? { importId } : {}),
  };
  for (const [k, v] of Object.entries(doc))
    if (v === undefined) delete (doc as unknown as Record<string, unknown>)[k];
  return doc;
}

export function toAgency(d: AgencyDoc): Agency {
  const { _id, nameFolded: _f, importId: _i, ...rest } = d;
  const out: Record<string, unknown> = { code: _id, ...rest };
  for (const [k, v] of Object.entries(out)) if (v === null && k !== 'parentCode') delete out[k];
  out.parentCode ??= null;
  out.successors ??= [];
  out.contact ??= {};
  out.delivery ??= { mode: 'pull' };
  out.certificates = ((out.certificates ?? []) as CertificateDoc[]).map(toRegisteredCertificate);
  return out as unknown as Agency;
}

/**
 * The `$set`/`$unset` of a patch, without the successors and the folded name (which depend on the
 * dialect: computed from the record read, or expressed as update operators).
 */
export function patchFields(patch: AgencyPatch, version: number, now: Date) {
  const set: Record<string, unknown> = { version, updatedAt: now };
  const unset: Record<string, ''> = {};
  for (const [k, v] of Object.entries(patch.set)) {
    if (v === undefined) unset[k] = '';
    else set[k] = v;
  }
  return { set, unset };
}

/** The update of an agency: `$set`, and `$unset` only when there is something to unset. */
export function agencyUpdate(
  set: Record<string, unknown>,
  unset: Record<string, ''>,
  more: mongo.UpdateFilter<AgencyDoc> = {},
): mongo.UpdateFilter<AgencyDoc> {
  return {
    ...more,
    $set: set as Partial<AgencyDoc>,
    ...(Object.keys(unset).length ? { $unset: unset } : {}),
  };
}

/** A held writer lock (DirectoryWriter) and how to let it go. */
export interface HeldLock extends DirectoryWriter {
  release(): Promise<void>;
}

/** What the two dialects do differently (ferretdb.ts, mongodb.ts); the rest is directory-store.ts. */
export interface DirectoryDialect {
  /** A lookup by canonical or legacy code. */
  findByCode(code: string): Promise<AgencyDoc | null>;
  /** Lookups by canonical or legacy code; keyed by the requested code, misses left out. */
  findMany(codes: readonly string[]): Promise<Map<string, AgencyDoc>>;
  /** Which of these (distinct) codes are in the register. */
  issued(codes: readonly string[]): Promise<Set<string>>;
  /** Takes the shared writer lock, waiting until `deadline` (`Date.now()` time, not the lease clock) at the most. */
  lock(label: string, deadline: number): Promise<HeldLock>;
  watermark(): Promise<{ watermark: number; stalled: boolean }>;
  /** The conditional update of DirectoryStore.update. */
  update(
    code: string,
    expectedVersion: number,
    version: number,
    patch: AgencyPatch,
  ): Promise<AgencyDoc | null>;
  /** Puts back an agency as it was before an import, if the import's version is still its version. */
  restore(code: string, appliedVersion: number, doc: Omit<AgencyDoc, '_id'>): Promise<boolean>;
  takeOrdinals(parent: string, n: number): Promise<number>;
  returnOrdinals(parent: string, first: number, last: number): Promise<boolean>;
  staleImports(staleBefore: Date): Promise<ImportDoc[]>;
  /** The parts of an import's records, in order. */
  importRecords(importId: string): Promise<RecordsDoc[]>;
  /** Deletes every record matching `filter`; returns how many. */
  deleteAll<T extends { _id: string }>(coll: Collection<T>, filter: mongo.Filter<T>): Promise<number>;
}

/** How long a lock lives without renewal, and the clock it is measured with. */
export interface LockTiming {
  readonly leaseMs: number;
  readonly now: () => Date;
}

/** What a dialect works on: the collections and the lock's timing. */
export abstract class DialectBase {
  protected readonly c: DirectoryCollections;
  protected readonly t: LockTiming;

  constructor(collections: DirectoryCollections, timing: LockTiming) {
    this.c = collections;
    this.t = timing;
  }

  /** A lock renewed within the lease: its holder is alive. */
  protected fresh(lock: { heartbeatAt: Date }): boolean {
    return this.t.now().getTime() - new Date(lock.heartbeatAt).getTime() <= this.t.leaseMs;
  }

  /**
   * The feed stops below the first version the holder of an unreleased lock took (the watermark);
   * `stalled` when that holder is dead.
   */
  protected watermarkOf(seq: number, held: { from?: number; heartbeatAt: Date } | null | undefined) {
    if (held?.from === undefined) return { watermark: seq, stalled: false };
    return { watermark: Math.min(seq, held.from - 1), stalled: !this.fresh(held) };
  }
}
