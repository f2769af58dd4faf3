/** The query side of the audit log (web audit page, its export). Adapter: src/store/audit-log.ts. */
import type { AuditEntry } from '../types.ts';

export interface AuditQuery {
  readonly beforeSeq?: number;
  /** Prefixes of the action, actor and subject. */
  readonly action?: string;
  readonly actor?: string;
  readonly subject?: string;
  /** Entries at or after `from` and before `until`. */
  readonly from?: Date;
  readonly until?: Date;
  readonly limit: number;
}

export interface AuditSearch {
  /** Entries matching `q`, newest first. */
  page(q: AuditQuery): Promise<AuditEntry[]>;
}
