/**
 * The document aggregate (DocumentStore, domain/ports.ts): one record per submission carrying its
 * routing, signer, receipt and — up to PAYLOAD_INLINE bytes — its signed payload; larger payloads go
 * to `payload_chunks`. Inserted once, already accepted: the deduplication claim and the commit point
 * in one statement (docs/architecture.md, "Write model").
 */
import type { mongo } from 'mongoose';
import type { DocumentStore } from '../domain/ports.ts';
import type { ChainEntry, DocumentRecord } from '../domain/types.ts';
import { docIdFor, edocKey, ownedRecipients } from '../domain/ids.ts';
import { readPayload, type PayloadStream } from '../domain/payload.ts';
import type { Models } from './models.ts';
import { GroupCommit } from './group-commit.ts';
import { insertAbsent, insertGrouped, strip, type Doc } from './records.ts';

/** Chunk size of large payloads: well under the 16 MiB BSON document limit. */
const PAYLOAD_CHUNK = 4 * 1024 * 1024;
/** Payloads up to this size travel inside the document record (no chunk write, no chunk read). */
export const PAYLOAD_INLINE = PAYLOAD_CHUNK;

/** Reads of the record leave the payload out (lists and checks never need it). */
const NO_PAYLOAD = { payload: 0 } as const;

type StoredChunk = { data: { buffer: Uint8Array } | Buffer; of?: number };

/** Bytes as stored, as a view of what the driver decoded, not a copy. */
function bytesOf(data: { buffer: Uint8Array } | Buffer): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const b = data.buffer;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export class MongoDocumentStore implements DocumentStore {
  private readonly m: Models;
  /** Commit points of concurrent submissions in one `update` command (group-commit.ts). */
  readonly #commits: GroupCommit<{ id: string; set: Record<string, unknown> }, undefined>;

  constructor(m: Models) {
    this.m = m;
    this.#commits = new GroupCommit(
      async (requests) => {
        await m.Document.collection.bulkWrite(
          requests.map((r) => ({
            updateOne: {
              filter: { _id: r.id } as unknown as mongo.Filter<mongo.Document>,
              update: { $set: r.set },
            },
          })),
          { ordered: false },
        );
        return requests.map(() => undefined);
      },
      { maxSize: 500 },
    );
  }

  /** By `_id`: a document's id is derived from its key (domain/ids.ts). */
  async findByKey(key: string) {
    const d = await this.m.Document.findById(docIdFor(key), NO_PAYLOAD).lean<Doc>();
    return d && d.key === key ? strip<DocumentRecord>(d, 'id') : null;
  }

  async get(id: string) {
    const d = await this.m.Document.findById(id, NO_PAYLOAD).lean<Doc>();
    return d ? strip<DocumentRecord>(d, 'id') : null;
  }

  async findBySenderAndDocumentId(senderCode: string, documentId: string) {
    const d = await this.m.Document.findById(
      docIdFor(edocKey(senderCode, documentId)),
      NO_PAYLOAD,
    ).lean<Doc>();
    return d && d.messageType === 'edoc' && d.state === 'accepted' ? strip<DocumentRecord>(d, 'id') : null;
  }

  /**
   * The commit point: the record as given (accepted, with its receipt) and its payload inline, in
   * one insert group-committed with concurrent submissions; false when the key exists. A payload over
   * PAYLOAD_INLINE goes to chunks first under a pending claim, then the record is committed: chunks
   * of two submissions under one key never mix. A retry of such an interrupted submission (same
   * bytes, still pending) completes its chunks and answers false: the caller commits it.
   */
  async insert(doc: DocumentRecord, payload: Uint8Array): Promise<boolean> {
    if (payload.byteLength <= PAYLOAD_INLINE) return this.#insertRecord(doc, payload);
    const { receipt, acceptedAt, probableDuplicateOf, ...claim } = doc;
    const claimed = await this.#insertRecord({ ...claim, state: 'pending' }, null);
    if (!claimed) {
      const there = await this.m.Document.findById(doc.id, { sha256: 1, state: 1 }).lean<Doc>();
      if (there?.sha256 === doc.sha256 && there.state === 'pending') await this.#putChunks(doc.id, payload);
      return false;
    }
    await this.#putChunks(doc.id, payload);
    await this.commit(doc.id, receipt ?? '', acceptedAt ?? doc.receivedAt, {
      ...(probableDuplicateOf ? { probableDuplicateOf } : {}),
    });
    return true;
  }

  /** One record, cast and validated as the schema describes it; false when its `_id` is taken. */
  async #insertRecord(doc: DocumentRecord, inline: Uint8Array | null): Promise<boolean> {
    const { id, ...rest } = doc;
    const payload = inline ? Buffer.from(inline.buffer, inline.byteOffset, inline.byteLength) : undefined;
    const record: Record<string, unknown> = {
      _id: id,
      ...rest,
      recipients: [...rest.recipients],
      ...(rest.chain ? { chain: [...rest.chain] } : {}),
      ...(payload ? { payload } : {}),
    };
    const model = new this.m.Document(record);
    await model.validate();
    const cast = model.toObject() as Record<string, unknown>;
    if (payload) cast.payload = payload;
    const [taken] = await insertGrouped(this.m.Document.collection, [cast]);
    return !taken;
  }

  /**
   * The first accepted document with the same issuer, number, notation and year under another
   * DocumentId. Kept as a register keyed by that tuple (one `_id` lookup, not a search): the first
   * document claims the entry (an insert, group-committed); an entry left by a document that was
   * never accepted is taken over.
   */
  async findProbableDuplicate(doc: Pick<DocumentRecord, 'id' | 'senderCode' | 'documentId' | 'meta'>) {
    const { codeNumber, codeNotation, year } = doc.meta;
    if (!codeNumber || !codeNotation || !year) return null;
    const _id = `${doc.senderCode}|${codeNumber}|${codeNotation}|${year}`;
    const claim = { docId: doc.id, documentId: doc.documentId };
    const [taken] = await insertGrouped(this.m.DocumentNumber.collection, [{ _id, ...claim }]);
    if (!taken) return null;
    const entry = await this.m.DocumentNumber.findById(_id).lean<{ docId: string; documentId: string }>();
    if (!entry || entry.documentId === doc.documentId) return null;
    const first = await this.m.Document.findById(entry.docId, NO_PAYLOAD).lean<Doc>();
    if (first && first.state === 'accepted') return strip<DocumentRecord>(first, 'id');
    if (!first) await this.m.DocumentNumber.replaceOne({ _id }, claim);
    return null;
  }

  async appendChain(id: string, entry: ChainEntry): Promise<void> {
    const d = await this.m.Document.findById(id, { chain: 1 }).lean<{ chain?: ChainEntry[] }>();
    if (d?.chain?.some((c) => c.docId === entry.docId)) return;
    await this.m.Document.updateOne({ _id: id }, { $push: { chain: entry } });
  }

  async commit(
    id: string,
    receipt: string,
    acceptedAt: Date,
    found: { readonly probableDuplicateOf?: string } = {},
  ): Promise<void> {
    await this.#commits.run({ id, set: { state: 'accepted', receipt, acceptedAt, ...found } });
  }

  /**
   * What a submission wrote under this id before its commit point and no committed document owns:
   * with no document (or a pending one: never acknowledged), its deliveries, tasks and chunks; with
   * an accepted one (a replay or a conflict, or a commit that landed while its answer was lost),
   * only the queued deliveries and tasks to recipients that document does not have.
   */
  async discardUncommitted(id: string): Promise<void> {
    await this.m.Document.deleteOne({ _id: id, state: 'pending' });
    const doc = await this.m.Document.findById(id, { state: 1, recipients: 1 }).lean<Doc>();
    if (!doc) {
      await this.m.Outbox.deleteMany({ docId: id });
      await this.m.Delivery.deleteMany({ docId: id });
      await this.m.PayloadChunk.deleteMany({ docId: id });
      return;
    }
    const own = ownedRecipients(doc.recipients as DocumentRecord['recipients']);
    await this.m.Outbox.deleteMany({ docId: id, recipientCode: { $nin: own } });
    await this.m.Delivery.deleteMany({ docId: id, recipientCode: { $nin: own }, transport: 'queued' });
  }

  async #putChunks(id: string, bytes: Uint8Array): Promise<void> {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ops = [];
    const of = Math.max(1, Math.ceil(buf.length / PAYLOAD_CHUNK));
    for (let n = 0, off = 0; n < of; n++, off += PAYLOAD_CHUNK) {
      const data = buf.subarray(off, off + PAYLOAD_CHUNK);
      // A replay carries the same bytes (the id derives from the key, the key's bytes are checked).
      ops.push({ _id: `${id}:${n}`, docId: id, n, data, ...(n === 0 ? { of } : {}) });
    }
    await insertAbsent(this.m.PayloadChunk, ops);
  }

  /** The record and its payload in one read (the payload streams from chunks when it is large). */
  async open(id: string): Promise<{ document: DocumentRecord; payload: PayloadStream | null } | null> {
    const d = await this.m.Document.findById(id).lean<Doc & { payload?: StoredChunk['data'] }>();
    if (!d) return null;
    const { payload, ...rest } = d;
    return {
      document: strip<DocumentRecord>(rest, 'id'),
      payload: payload ? { chunks: one(bytesOf(payload)) } : await this.#openChunks(id),
    };
  }

  async openPayload(id: string): Promise<PayloadStream | null> {
    const d = await this.m.Document.findById(id, { payload: 1 }).lean<{ payload?: StoredChunk['data'] }>();
    if (d?.payload) return { chunks: one(bytesOf(d.payload)) };
    return this.#openChunks(id);
  }

  /** A payload kept in chunks (large payloads, and every payload stored before inline payloads). */
  async #openChunks(id: string): Promise<PayloadStream | null> {
    const first = await this.m.PayloadChunk.findById(`${id}:0`).lean<StoredChunk>();
    if (!first) return null;
    const m = this.m;
    const of = first.of;
    async function* chunks(): AsyncGenerator<Buffer> {
      yield bytesOf(first!.data);
      if (of) {
        // One chunk in memory at a time: a 5 MB document read by twenty recipients is not held
        // twenty times over.
        for (let n = 1; n < of; n++) {
          const c = await m.PayloadChunk.findById(`${id}:${n}`).lean<StoredChunk>();
          if (!c) throw new Error(`payload of ${id} is incomplete (chunk ${n} of ${of})`);
          yield bytesOf(c.data);
        }
        return;
      }
      // written before chunk counts were recorded
      for await (const c of m.PayloadChunk.find({ docId: id, n: { $gt: 0 } })
        .sort({ n: 1 })
        .lean<StoredChunk[]>()
        .cursor())
        yield bytesOf(c.data);
    }
    return { chunks: chunks() };
  }

  async getPayload(id: string): Promise<Buffer | null> {
    const p = await this.openPayload(id);
    return p ? readPayload(p) : null;
  }
}

/** A payload held in one buffer, as a stream of one chunk. */
function one(b: Buffer): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      let done = false;
      return {
        next: () => {
          const r = done ? { done: true as const, value: undefined } : { done: false as const, value: b };
          done = true;
          return Promise.resolve(r);
        },
      };
    },
  };
}
