/**
 * Agency-system credentials as the API reads them (port: CredentialStore), collection `systems`
 * (administered by system-store.ts). Secrets are sealed (secret-box.ts). One upsert by `_id` on every
 * engine: no dialect-specific path.
 */
import type { Connection, mongo } from 'mongoose';
import type { CredentialStore } from '../domain/ports.ts';
import type { SystemCredential } from '../domain/types.ts';
import type { SecretBox } from './secret-box.ts';

export const SYSTEM_COLLECTION = 'systems';

export interface SystemDoc {
  _id: string;
  secretEnc: string;
  agencyCodes?: string[];
  rights?: ('send' | 'admin')[];
  active?: boolean;
  createdAt?: Date;
  rotatedAt?: Date;
  disabledAt?: Date;
}

/** The one mapping of a stored system's access fields (with the defaults of older records). */
export function systemAccess(
  d: SystemDoc,
): Pick<SystemCredential, 'systemId' | 'agencyCodes' | 'rights' | 'active'> {
  return {
    systemId: d._id,
    agencyCodes: d.agencyCodes ?? [],
    rights: d.rights ?? ['send'],
    active: d.active !== false,
  };
}

/** The `systems` collection of an open connection (this store's and system-store.ts's). */
export function systemsCollection(conn: Connection): mongo.Collection<SystemDoc> {
  if (!conn.db) throw new Error('MongoDB connection not open');
  return conn.db.collection<SystemDoc>(SYSTEM_COLLECTION);
}

export class MongoCredentialStore implements CredentialStore {
  readonly #systems: mongo.Collection<SystemDoc>;
  readonly #box: SecretBox;

  constructor(conn: Connection, box: SecretBox) {
    this.#systems = systemsCollection(conn);
    this.#box = box;
  }

  async find(systemId: string): Promise<SystemCredential | null> {
    const d = await this.#systems.findOne({ _id: systemId });
    return d ? { ...systemAccess(d), secret: this.#box.open(d.secretEnc) } : null;
  }

  async upsert(c: SystemCredential): Promise<void> {
    await this.#systems.updateOne(
      { _id: c.systemId },
      {
        $set: {
          secretEnc: this.#box.seal(c.secret),
          agencyCodes: [...c.agencyCodes],
          rights: [...c.rights],
          active: c.active,
        },
        $setOnInsert: { createdAt: new Date() },
      },
      { upsert: true },
    );
  }
}
