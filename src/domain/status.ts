/**
 * Business status lifecycle of one delivery (one document to one recipient), from the status
 * codes of QCVN 102 / Decree 30/2020 (see docs/domain.md §3):
 *
 *   01 arrived, 02 refused, 03 accepted, 04 assigned, 05 processing, 06 completed — reported by the
 *   recipient to the sender; 13 recall requested — sent by the original sender to the recipient;
 *   15 / 16 recall-or-update agreed / refused — the recipient's answer to a 13 or to an update.
 *
 * Transition table (documented in docs/status-lifecycle.md):
 *
 *   from \ code | 01 02 03 04 05 06 13 15 16
 *   (none)      |  x  x  x  .  .  .  x  .  .
 *   01          |  =  x  x  .  .  .  x  .  .
 *   02          |  .  =  .  .  .  .  .  .  .      02 ends the delivery
 *   03          |  .  .  =  x  x  x  x  .  .
 *   04, 05      |  .  .  .  x  x  x  x  .  .
 *   06          |  .  .  .  .  .  =  x  .  .      nothing after 06 except the recall flow
 *   recalled    |  .  .  .  .  .  .  .  .  .      15 answering a 13 ends the delivery
 *
 *   '=' repeating the current code is accepted as a no-op; 15/16 are accepted only while a recall
 *   (13) or an update is pending, whatever the current code; 16 leaves the state as it was.
 */
import { HubError } from './errors.ts';

export const BUSINESS_CODES = ['01', '02', '03', '04', '05', '06', '13', '15', '16'] as const;
export type BusinessCode = (typeof BUSINESS_CODES)[number];

export type PendingRequest = 'recall' | 'update' | null;

export interface BusinessState {
  /** Last progress code reported (01..06), or 'recalled', or null before any report. */
  readonly code: '01' | '02' | '03' | '04' | '05' | '06' | 'recalled' | null;
  readonly pending: PendingRequest;
}

export const INITIAL_BUSINESS_STATE: BusinessState = { code: null, pending: null };

const PROGRESS: Record<string, readonly string[]> = {
  none: ['01', '02', '03'],
  '01': ['01', '02', '03'],
  '02': ['02'],
  '03': ['03', '04', '05', '06'],
  '04': ['04', '05', '06'],
  '05': ['04', '05', '06'],
  '06': ['06'],
  recalled: [],
};

export function isBusinessCode(s: string): s is BusinessCode {
  return (BUSINESS_CODES as readonly string[]).includes(s);
}

/** Which side of the exchange may send a code: 13 comes from the sender, all others from the recipient. */
export function statusDirection(code: BusinessCode): 'from-sender' | 'from-recipient' {
  return code === '13' ? 'from-sender' : 'from-recipient';
}

export function isTerminal(state: BusinessState): boolean {
  return state.code === '02' || state.code === 'recalled';
}

/** Applies a status code to a delivery's business state, or refuses it with STATUS_TRANSITION_INVALID. */
export function applyBusinessStatus(state: BusinessState, code: BusinessCode): BusinessState {
  const from = state.code ?? 'none';
  const refuse = (why: string): never => {
    throw new HubError('STATUS_TRANSITION_INVALID', `${code} after ${state.code ?? 'no status'}: ${why}`, {
      from: state.code,
      pending: state.pending,
      code,
    });
  };
  const noPendingRequest = (): never => {
    throw new HubError('STATUS_NO_PENDING_REQUEST', `${code} after ${state.code ?? 'no status'}`, {
      from: state.code,
      pending: state.pending,
      code,
    });
  };
  if (isTerminal(state)) refuse('the delivery has ended');
  switch (code) {
    case '13':
      if (state.pending === 'recall') refuse('a recall is already pending');
      return { code: state.code, pending: 'recall' };
    case '15':
      if (!state.pending) noPendingRequest();
      return state.pending === 'recall'
        ? { code: 'recalled', pending: null }
        : { code: state.code, pending: null };
    case '16':
      if (!state.pending) noPendingRequest();
      return { code: state.code, pending: null };
    default: {
      const allowed = PROGRESS[from] ?? [];
      if (!allowed.includes(code)) refuse(`allowed next codes: ${allowed.join(', ') || 'none'}`);
      return { code, pending: state.pending };
    }
  }
}
