/** Period leases of cluster-wide periodic jobs (src/ops/periodic.ts). Adapter: src/store/lease-store.ts. */
export interface PeriodLease {
  /** True for exactly one caller per (job, periodStart), across processes. */
  acquire(job: string, periodStart: Date, holder: string): Promise<boolean>;
}
