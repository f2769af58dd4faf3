/**
 * Remote units: agencies served by a federation peer live in the directory with delivery mode
 * `peer` and `delivery.peer` naming the owner. They are visible, searchable and addressable like any
 * unit; they are changed only by the peer's agency list (remote-directory.ts), never edited here.
 */
import { HubError } from '../domain/errors.ts';
import type { Agency } from '../domain/types.ts';

/** The peer that owns this unit, or undefined for a local unit. */
export function remotePeerOf(a: Pick<Agency, 'delivery'>): string | undefined {
  return a.delivery.mode === 'peer' ? a.delivery.peer : undefined;
}

/** Edits of a remote unit are refused with a stable code (the peer's list is its source). */
export function assertLocalUnit(a: Pick<Agency, 'code' | 'delivery'>): void {
  const peer = remotePeerOf(a);
  if (peer)
    throw new HubError(
      'REMOTE_UNIT_READ_ONLY',
      `${a.code} is served by federation peer ${peer}; it changes only through that peer's agency list`,
      { peer },
    );
}

/**
 * What the directory offers a caller of /vdxp's agency lists: everything to an agency system; to a
 * federation peer only this hub's own units (never the units of the peer itself or of other peers:
 * a hub does not re-advertise what it would not relay).
 */
export function offeredTo(caller: { readonly peer?: string }): (a: Pick<Agency, 'delivery'>) => boolean {
  return caller.peer ? (a) => !remotePeerOf(a) : () => true;
}
