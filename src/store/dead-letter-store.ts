/** Dead letters (DeadLetterStore, domain/ports.ts): the `dead_letters` collection. */
import type { DeadLetter, DeadLetterStore } from '../domain/ports.ts';
import type { Models } from './models.ts';

type Row = {
  _id: string;
  deliveryId?: string;
  docId?: string;
  recipientCode?: string;
  reason: string;
  deadAt: Date;
  replayedAt?: Date;
  replayCount?: number;
  contentBase64: string;
};

function letterOf(r: Row): DeadLetter {
  return {
    id: r._id,
    ...(r.deliveryId ? { deliveryId: r.deliveryId } : {}),
    ...(r.docId ? { docId: r.docId } : {}),
    ...(r.recipientCode ? { recipientCode: r.recipientCode } : {}),
    reason: r.reason,
    deadAt: new Date(r.deadAt),
    ...(r.replayedAt ? { replayedAt: new Date(r.replayedAt) } : {}),
    replayCount: r.replayCount ?? 0,
    content: Buffer.from(r.contentBase64, 'base64'),
  };
}

export class MongoDeadLetterStore implements DeadLetterStore {
  private readonly m: Models;
  constructor(m: Models) {
    this.m = m;
  }

  async record(letter: Omit<DeadLetter, 'replayedAt' | 'replayCount'>): Promise<DeadLetter> {
    const { id, content, ...fields } = letter;
    await this.m.DeadLetter.updateOne(
      { _id: id },
      { $set: { ...fields, contentBase64: content.toString('base64') }, $unset: { replayedAt: 1 } },
      { upsert: true },
    );
    return (await this.get(id))!;
  }

  async get(id: string): Promise<DeadLetter | null> {
    const r = await this.m.DeadLetter.findById(id).lean<Row>();
    return r ? letterOf(r) : null;
  }

  async getMany(ids: readonly string[]): Promise<DeadLetter[]> {
    const rows = await this.m.DeadLetter.find({ _id: { $in: [...ids] } }).lean<Row[]>();
    return rows.map(letterOf);
  }

  async list(o: { includeReplayed: boolean; limit: number }): Promise<DeadLetter[]> {
    const rows = await this.m.DeadLetter.find(o.includeReplayed ? {} : { replayedAt: { $exists: false } })
      .sort({ deadAt: -1 })
      .limit(o.limit)
      .lean<Row[]>();
    return rows.map(letterOf);
  }

  async markReplayed(id: string, replayCount: number, at: Date): Promise<void> {
    await this.m.DeadLetter.updateOne({ _id: id }, { $set: { replayedAt: at, replayCount } });
  }

  async *withoutDelivery(): AsyncIterable<DeadLetter> {
    for await (const r of this.m.DeadLetter.find({ deliveryId: { $exists: false } })
      .lean<Row>()
      .cursor())
      yield letterOf(r);
  }

  async removeWithoutDelivery(ids: readonly string[]): Promise<number> {
    const res = await this.m.DeadLetter.deleteMany({
      _id: { $in: [...ids] },
      deliveryId: { $exists: false },
    });
    return res.deletedCount;
  }
}
