/** A stored message's bytes, read a chunk at a time (the store keeps them in chunks of a few MiB). */
export interface PayloadStream {
  /** In order; throws when a chunk is missing (the download then fails rather than truncates). */
  readonly chunks: AsyncIterable<Buffer>;
}

/** The whole payload in one buffer, for callers that need it at once (publish, push, base64). */
export async function readPayload(p: PayloadStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of p.chunks) parts.push(c);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
