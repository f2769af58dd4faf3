/**
 * The per-peer jobs of a worker (agency sync, polling), kept in step with the peers as
 * administrators add, change, disable and remove them (src/federation/service.ts refresh): a new or
 * changed peer (its built object changes with its version) gets fresh jobs, a removed or disabled
 * one has its jobs stopped. Runs of a job in flight finish before it stops.
 */
import type { Peer, PeerRegistry } from './peers.ts';

export interface PeerJob {
  start(firstDelayMs?: number): void;
  stop(): Promise<void>;
}

export class PeerJobs {
  readonly #make: (peer: Peer) => PeerJob[];
  readonly #running = new Map<string, { peer: Peer; jobs: PeerJob[] }>();
  #stopped = false;

  constructor(make: (peer: Peer) => PeerJob[]) {
    this.#make = make;
  }

  apply(peers: PeerRegistry): void {
    if (this.#stopped) return;
    const wanted = new Map(peers.list().map((p) => [p.id, p]));
    for (const [id, r] of this.#running)
      if (wanted.get(id) !== r.peer) {
        this.#running.delete(id);
        for (const j of r.jobs) void j.stop();
      }
    for (const [id, peer] of wanted)
      if (!this.#running.has(id)) {
        const jobs = this.#make(peer);
        this.#running.set(id, { peer, jobs });
        for (const j of jobs) j.start(0);
      }
  }

  /** The ids of the peers whose jobs run (tests, diagnostics). */
  ids(): string[] {
    return [...this.#running.keys()].sort();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#running.values()].flatMap((r) => r.jobs);
    this.#running.clear();
    await Promise.all(all.map((j) => j.stop()));
  }
}
