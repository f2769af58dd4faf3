/**
 * Administration of agency-system credentials (the `systems` collection, also read by the
 * CredentialStore in stores.ts): list, insert, rotate the secret, enable/disable. Secrets are
 * sealed with AES-256-GCM (secret-box.ts, key from configuration) and never read back here.
 * Written through the driver so that administrative dates are kept alongside the schema's fields.
 */
import type { Connection, mongo } from 'mongoose';
import { resealed, SecretBox, type CredentialKeys } from './secret-box.ts';
import type { SystemRecord, SystemStore } from '../systems/service.ts';
import { HubError } from '../domain/errors.ts';
import { isDuplicateKey } from './errors.ts';
import { systemAccess, systemsCollection, type SystemDoc } from './credential-store.ts';

function toRecord(d: SystemDoc): SystemRecord {
  return {
    ...systemAccess(d),
    ...(d.createdAt ? { createdAt: new Date(d.createdAt) } : {}),
    ...(d.rotatedAt ? { rotatedAt: new Date(d.rotatedAt) } : {}),
    ...(d.disabledAt && d.active === false ? { disabledAt: new Date(d.disabledAt) } : {}),
  };
}

const NO_SECRET = { projection: { secretEnc: 0 } } as const;

export class MongoSystemStore implements SystemStore {
  readonly #c: mongo.Collection<SystemDoc>;
  readonly #box: SecretBox;

  constructor(conn: Connection, credentialsKey: CredentialKeys) {
    this.#c = systemsCollection(conn);
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

/**
 * Key rotation (docs/deployment.md ## Key rotation): re-seals every stored secret from the key `from`
 * to the key `to`. Secrets already sealed with `to` are left alone (a second run, or secrets issued
 * by processes that already seal with the new key). Every secret is opened before anything is
 * written: if one opens with neither key, CREDENTIALS_KEY_MISMATCH and nothing changes. Each write is
 * conditional on the sealed value it replaces, so a secret rotated meanwhile is not overwritten.
 */
export async function resealSecrets(
  conn: Connection,
  from: string,
  to: string,
): Promise<{ resealed: number; alreadyCurrent: number; changedMeanwhile: number }> {
  const c = conn.db!.collection<SystemDoc>('systems');
  const oldBox = new SecretBox(from);
  const newBox = new SecretBox(to);
  const plan: { id: string; old: string; sealed: string }[] = [];
  let alreadyCurrent = 0;
  for await (const d of c.find({}, { projection: { _id: 1, secretEnc: 1 } })) {
    if (typeof d.secretEnc !== 'string') continue;
    let sealed: string | null;
    try {
      sealed = resealed(d.secretEnc, oldBox, newBox);
    } catch {
      throw new HubError('CREDENTIALS_KEY_MISMATCH', `the secret of ${d._id} opens with neither key`);
    }
    if (sealed === null) alreadyCurrent++;
    else plan.push({ id: d._id, old: d.secretEnc, sealed });
  }
  let changedMeanwhile = 0;
  for (const p of plan) {
    const r = await c.updateOne({ _id: p.id, secretEnc: p.old }, { $set: { secretEnc: p.sealed } });
    if (r.modifiedCount !== 1) changedMeanwhile++;
  }
  return { resealed: plan.length - changedMeanwhile, alreadyCurrent, changedMeanwhile };
}
