/**
 * `fn` over `items` with at most `limit` calls in flight; results in the order of `items`. Used for
 * independent store lookups by `_id` (FerretDB pushes down only a lone `_id` equality, so one lookup
 * per key rather than one `$in`; on MongoDB both are index lookups). The first failure rejects at
 * once; calls already in flight finish unobserved (use it for reads, which leave nothing behind).
 */
/** Store lookups in flight at once for one request (a 20-recipient document waits for ~2 rounds, not 20). */
export const LOOKUP_CONCURRENCY = 16;

export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
