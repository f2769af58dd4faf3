/**
 * Administration of agency-system credentials (the `systems` collection, also read by the
 * CredentialStore in stores.ts): list, insert, rotate the secret, enable/disable. Secrets are
 * sealed with AES-256-GCM (secret-box.ts, key from configuration) and never read back here.
 * Written through the driver so that administrative dates are kept alongside the schema's fields.
 */
import type { Connection, mongo } from 'mongoose';
import { SecretBox } from './secret-box.ts';
import type { SystemRecord, SystemStore } from '../systems/service.ts';

interface SystemDoc {
  _id: string;
  secretEnc: string;
  agencyCodes: string[];
  rights: ('send' | 'admin')[];
  active: boolean;
  createdAt: Date;
  rotatedAt?: Date;
  disabledAt?: Date;
}

function toRecord(d: SystemDoc): SystemRecord {
  return {
    systemId: d._id,
    agencyCodes: d.agencyCodes ?? [],
    rights: d.rights ?? ['send'],
    active: d.active !== false,
    ...(d.createdAt ? { createdAt: new Date(d.createdAt) } : {}),
    ...(d.rotatedAt ? { rotatedAt: new Date(d.rotatedAt) } : {}),
    ...(d.disabledAt && d.active === false ? { disabledAt: new Date(d.disabledAt) } : {}),
  };
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

const NO_SECRET = { projection: { secretEnc: 0 } } as const;

export class MongoSystemStore implements SystemStore {
  readonly #c: mongo.Collection<SystemDoc>;
  readonly #box: SecretBox;

  constructor(conn: Connection, credentialsKey: string) {
    if (!conn.db) throw new Error('MongoDB connection not open');
    this.#c = conn.db.collection<SystemDoc>('systems');
    this.#box = new SecretBox(credentialsKey);
  }

  async list(): Promise<SystemRecord[]> {
    const rows = await this.#c.find({}, NO_SECRET).sort({ _id: 1 }).toArray();
    return rows.map(toRecord);
  }

  async get(systemId: string): Promise<SystemRecord | null> {
    const d = await this.#c.findOne({ _id: systemId }, NO_SECRET);
    return d ? toRecord(d) : null;
  }

  async insert(rec: Omit<SystemRecord, 'createdAt'> & { createdAt: Date }, secret: string): Promise<boolean> {
    try {
      await this.#c.insertOne({
        _id: rec.systemId,
        secretEnc: this.#box.seal(secret),
        agencyCodes: [...rec.agencyCodes],
        rights: [...rec.rights],
        active: rec.active,
        createdAt: rec.createdAt,
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async setSecret(systemId: string, secret: string, at: Date): Promise<SystemRecord | null> {
    const r = await this.#c.updateOne(
      { _id: systemId },
      { $set: { secretEnc: this.#box.seal(secret), rotatedAt: at } },
    );
    return r.matchedCount === 1 ? this.get(systemId) : null;
  }

  /** Opens one stored secret (the most recent): null when it opens or none is stored. */
  async checkKey(): Promise<{ systemId: string; error: string } | null> {
    const d = await this.#c.findOne({ secretEnc: { $type: 'string' } }, { sort: { createdAt: -1 } });
    if (!d) return null;
    try {
      this.#box.open(d.secretEnc);
      return null;
    } catch (err) {
      return { systemId: d._id, error: (err as Error).message };
    }
  }

  async setActive(systemId: string, active: boolean, at: Date): Promise<SystemRecord | null> {
    const r = await this.#c.updateOne(
      { _id: systemId },
      active ? { $set: { active }, $unset: { disabledAt: '' } } : { $set: { active, disabledAt: at } },
    );
    return r.matchedCount === 1 ? this.get(systemId) : null;
  }
}
