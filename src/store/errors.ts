/**
 * The one duplicate-key check of the store (issue 21: five copies had drifted apart). Every adapter
 * calls these; nothing else in the store tests error code 11000.
 */

interface WriteError {
  readonly index: number;
  readonly code?: number;
}

/** The per-document errors of a bulk write (the driver gives a list, some versions one object). */
function writeErrorsOf(err: unknown): readonly WriteError[] | undefined {
  const w = (err as { writeErrors?: WriteError[] | WriteError } | null | undefined)?.writeErrors;
  if (w === undefined || w === null) return undefined;
  return Array.isArray(w) ? w : [w];
}

/**
 * True when the write failed only because a unique key was already taken. A bulk error counts only
 * when it lists errors and every one is a duplicate: a bulk error with an empty `writeErrors` (a
 * write-concern or network failure) is NOT a duplicate — `[].every()` is true, and taking it for one
 * would silently drop the write.
 */
export function isDuplicateKey(err: unknown): boolean {
  const list = writeErrorsOf(err);
  if (list !== undefined) return list.length > 0 && list.every((w) => w.code === 11000);
  return (err as { code?: unknown } | null | undefined)?.code === 11000;
}

/**
 * The indexes (in the batch of `size` documents) of the entries of an unordered insertMany that
 * failed as duplicates. Rethrows `err` when anything else failed, or when a duplicate cannot be
 * attributed to an entry (no per-document errors on a batch of more than one).
 */
export function duplicateIndexes(err: unknown, size: number): number[] {
  if (!isDuplicateKey(err)) throw err;
  const list = writeErrorsOf(err);
  if (list) return list.map((w) => w.index);
  if (size === 1) return [0];
  throw err;
}
