/**
 * Ports of the web UI's accounts (issue 20): users, sessions, login attempts (declared with the
 * account services in src/users/types.ts) and the progress of long UI jobs. Adapter:
 * src/store/user-store.ts. The web UI and src/users depend on these types, never on the classes.
 */
export type { LoginAttemptStore, SessionStore, UserStore } from '../../users/types.ts';

/** A long job started from the web UI (a bulk import), with its progress. */
export interface UiJob {
  readonly id: string;
  readonly kind: string;
  readonly actor: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly phase?: string;
  readonly done: number;
  readonly total: number;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  readonly finishedAt?: Date;
  readonly result?: Record<string, unknown>;
  readonly error?: {
    code: string;
    message: string;
    messageVi?: string;
    errors?: { line: number; reason: string; code?: string }[];
  };
  readonly resultCsv?: string;
}

export interface UiJobStore {
  /** Records a running job; returns its id. */
  start(kind: string, actor: string, total: number): Promise<string>;
  progress(id: string, p: { phase: string; done: number; total: number }): Promise<void>;
  finish(
    id: string,
    outcome:
      | { state: 'done'; result: Record<string, unknown>; resultCsv?: string }
      | { state: 'failed'; error: UiJob['error'] },
  ): Promise<void>;
  get(id: string): Promise<UiJob | null>;
  /** The latest jobs of a kind, newest first, without their CSV result. */
  recent(kind: string, limit: number): Promise<UiJob[]>;
}
