/**
 * Who may see and act on what: the one access policy of /v1, /vdxp and /ui (docs/security.md
 * ## Access policy). Pure functions over domain types; the surfaces read the records, ask here, and
 * answer what it decides.
 *
 * - A party is an agency system (acting for its agency codes) or a web user (a clerk acting for its
 *   agencies; an administrator or auditor, who read the whole hub).
 * - The sender sees everything about its document (every delivery); a recipient sees its own
 *   deliveries only. A rerouted delivery belongs to the agency it was rerouted to (`recipientCode`),
 *   not to the code the sender addressed (`requestedCode`).
 * - Only the recipient acts on a delivery (download, acknowledge, answer with a status), once it is
 *   available (not still `queued`). Administrators and auditors read; they act for no agency.
 * - Absent and not yours look the same: NOT_FOUND, so nothing leaks about other agencies' traffic.
 */
import { HubError } from '../domain/errors.ts';
import type { DeliveryRecord, DocumentRecord, SystemCredential } from '../domain/types.ts';
import type { Role, UserView } from '../users/types.ts';

export type Party =
  | { readonly kind: 'system'; readonly id: string; readonly agencies: readonly string[] }
  | {
      readonly kind: 'user';
      readonly id: string;
      readonly role: Role;
      /** The agencies a clerk acts for; empty for administrators and auditors. */
      readonly agencies: readonly string[];
    };

export const systemParty = (c: Pick<SystemCredential, 'systemId' | 'agencyCodes'>): Party => ({
  kind: 'system',
  id: c.systemId,
  agencies: c.agencyCodes,
});

export const userParty = (u: Pick<UserView, 'username' | 'role' | 'agencies'>): Party => ({
  kind: 'user',
  id: u.username,
  role: u.role,
  agencies: u.role === 'clerk' ? u.agencies : [],
});

/** Administrators and auditors read the whole hub; systems and clerks read their agencies' traffic. */
export const readsWholeHub = (p: Party): boolean => p.kind === 'user' && p.role !== 'clerk';

/** Administrators change the hub's settings; auditors see the same pages read-only. */
export const administers = (p: Party): boolean => p.kind === 'user' && p.role === 'admin';

export const actsFor = (p: Party, code: string): boolean => p.agencies.includes(code);

/** One of the party's agencies sent it (it sees every delivery). */
export const isSender = (p: Party, doc: Pick<DocumentRecord, 'senderCode'>): boolean =>
  actsFor(p, doc.senderCode);

const who = (p: Party) => (p.kind === 'system' ? `system ${p.id}` : `user ${p.id}`);

/**
 * The agencies a list covers: the one asked for, or all the party acts for; null = the whole hub
 * (administrators and auditors, no agency asked). Naming an agency the party does not act for is
 * FORBIDDEN (the party knows which agencies it acts for: nothing leaks).
 */
export function agencyScope(p: Party, agency?: string): string[] | null {
  if (readsWholeHub(p)) return agency ? [agency] : null;
  if (agency === undefined) return [...p.agencies];
  if (!actsFor(p, agency)) throw new HubError('FORBIDDEN', `${who(p)} does not act for ${agency}`);
  return [agency];
}

export interface DocumentView<D> {
  /** The deliveries the party may see: all of them (sender, whole hub) or its own. */
  readonly deliveries: D[];
  /** The party sees every recipient (sender, administrator, auditor). */
  readonly seesAll: boolean;
}

/**
 * What the party may see of a document and its deliveries; null when nothing (absent, not accepted,
 * or neither sent nor received by the party's agencies).
 */
export function documentView<D extends Pick<DeliveryRecord, 'recipientCode'>>(
  p: Party,
  doc: Pick<DocumentRecord, 'senderCode' | 'state'> | null,
  deliveries: readonly D[],
): DocumentView<D> | null {
  if (!doc || doc.state !== 'accepted') return null;
  if (readsWholeHub(p) || isSender(p, doc)) return { deliveries: [...deliveries], seesAll: true };
  const own = deliveries.filter((d) => actsFor(p, d.recipientCode));
  return own.length ? { deliveries: own, seesAll: false } : null;
}

/** documentView, or NOT_FOUND (the same answer as for a document that does not exist). */
export function visibleDocument<D extends Pick<DeliveryRecord, 'recipientCode'>>(
  p: Party,
  docId: string,
  doc: Pick<DocumentRecord, 'senderCode' | 'state'> | null,
  deliveries: readonly D[],
): DocumentView<D> {
  const view = documentView(p, doc, deliveries);
  if (!view) throw new HubError('NOT_FOUND', `no document ${docId}`);
  return view;
}

/**
 * The delivery is in the party's inbox: to one of its agencies and made available. Only then may it
 * be downloaded, acknowledged or answered.
 */
export const receives = (p: Party, d: Pick<DeliveryRecord, 'recipientCode' | 'transport'> | null): boolean =>
  !!d && d.transport !== 'queued' && actsFor(p, d.recipientCode);

/** The delivery if it is in the party's inbox, else NOT_FOUND (absent and not yours alike). */
export function inboxItem<D extends Pick<DeliveryRecord, 'recipientCode' | 'transport'>>(
  p: Party,
  deliveryId: string,
  d: D | null,
): D {
  if (!d || !receives(p, d)) throw new HubError('NOT_FOUND', `no inbox item ${deliveryId}`);
  return d;
}
