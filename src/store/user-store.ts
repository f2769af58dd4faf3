/**
 * MongoDB persistence of the web UI's accounts (src/users): users, sessions, failed login attempts,
 * and the progress of long UI jobs (bulk imports). FerretDB 1.x compatible: lookups by `_id`,
 * single-document writes, unique inserts; no TTL indexes there, so expired records are purged by
 * the services.
 */
import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { HubError } from '../domain/errors.ts';
import { isDuplicateKey } from './errors.ts';
import type { UiJob, UiJobStore } from '../domain/ports/users.ts';
import type { LoginAttemptStore, Session, SessionStore, User, UserStore } from '../users/types.ts';

const userSchema = new Schema(
  {
    _id: { type: String }, // user name
    displayName: String,
    role: { type: String, required: true },
    agencies: { type: [String], default: [] },
    passwordHash: { type: String, required: true },
    active: { type: Boolean, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    passwordChangedAt: { type: Date, required: true },
    lastLoginAt: Date,
  },
  { versionKey: false },
);

const sessionSchema = new Schema(
  {
    _id: { type: String }, // SHA-256 of the cookie token
    username: { type: String, required: true },
    csrf: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeenAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    ip: String,
    userAgent: String,
  },
  { versionKey: false },
);
sessionSchema.index({ username: 1 });
sessionSchema.index({ expiresAt: 1 });

/** `_id` = `<key>#<n>`: the n-th attempt under the key (see MongoLoginAttemptStore.reserve). */
const attemptSchema = new Schema(
  {
    _id: { type: String },
    key: { type: String, required: true },
    n: Number,
    at: { type: Date, required: true },
    released: Boolean,
  },
  { versionKey: false },
);
attemptSchema.index({ key: 1, at: 1 });
attemptSchema.index({ at: 1 });

/** A long job started from the UI (bulk import): its progress, polled by the page, and its outcome. */
const uiJobSchema = new Schema(
  {
    _id: { type: String },
    kind: { type: String, required: true },
    actor: { type: String, required: true },
    state: { type: String, required: true }, // running | done | failed
    phase: String,
    done: { type: Number, default: 0 },
    total: { type: Number, default: 0 },
    startedAt: { type: Date, required: true },
    heartbeatAt: { type: Date, required: true },
    finishedAt: Date,
    result: { type: Object },
    error: { type: Object },
    resultCsv: String,
  },
  { versionKey: false, minimize: false },
);
uiJobSchema.index({ startedAt: -1 });

function models(conn: Connection) {
  // Registered once per connection (the CLI and the hub may both open the stores on one connection).
  const once = <T>(name: string, make: () => T): T => (conn.models[name] as T | undefined) ?? make();
  return {
    User: once('User', () => conn.model('User', userSchema, 'users')),
    UiSession: once('UiSession', () => conn.model('UiSession', sessionSchema, 'ui_sessions')),
    LoginAttempt: once('LoginAttempt', () => conn.model('LoginAttempt', attemptSchema, 'login_attempts')),
    UiJob: once('UiJob', () => conn.model('UiJob', uiJobSchema, 'ui_jobs')),
  };
}
type UserModels = ReturnType<typeof models>;

type Doc = Record<string, unknown> & { _id: string };

function toUser(d: Doc): User {
  const { _id, ...rest } = d;
  return {
    username: _id,
    ...(typeof rest.displayName === 'string' && rest.displayName ? { displayName: rest.displayName } : {}),
    role: rest.role as User['role'],
    agencies: (rest.agencies as string[] | undefined) ?? [],
    passwordHash: rest.passwordHash as string,
    active: rest.active as boolean,
    createdAt: new Date(rest.createdAt as Date),
    updatedAt: new Date(rest.updatedAt as Date),
    passwordChangedAt: new Date(rest.passwordChangedAt as Date),
    ...(rest.lastLoginAt ? { lastLoginAt: new Date(rest.lastLoginAt as Date) } : {}),
  };
}

function toSession(d: Doc): Session {
  return {
    id: d._id,
    username: d.username as string,
    csrf: d.csrf as string,
    createdAt: new Date(d.createdAt as Date),
    lastSeenAt: new Date(d.lastSeenAt as Date),
    expiresAt: new Date(d.expiresAt as Date),
    ...(d.ip ? { ip: d.ip as string } : {}),
    ...(d.userAgent ? { userAgent: d.userAgent as string } : {}),
  };
}

class MongoUserStore implements UserStore {
  readonly #m: UserModels;
  constructor(m: UserModels) {
    this.#m = m;
  }

  async get(username: string) {
    const d = await this.#m.User.findById(username).lean<Doc>();
    return d ? toUser(d) : null;
  }

  async insert(u: User): Promise<boolean> {
    const { username, ...rest } = u;
    try {
      await this.#m.User.create({ _id: username, ...rest, agencies: [...rest.agencies] });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async update(username: string, set: Partial<Omit<User, 'username' | 'createdAt'>>) {
    const $set = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
    const d = await this.#m.User.findOneAndUpdate(
      { _id: username },
      { $set },
      { returnDocument: 'after' },
    ).lean<Doc>();
    return d ? toUser(d) : null;
  }

  async list() {
    const ds = await this.#m.User.find().sort({ _id: 1 }).lean<Doc[]>();
    return ds.map(toUser);
  }
}

class MongoSessionStore implements SessionStore {
  readonly #m: UserModels;
  constructor(m: UserModels) {
    this.#m = m;
  }

  async create(s: Session) {
    const { id, ...rest } = s;
    await this.#m.UiSession.create({ _id: id, ...rest });
  }

  async get(id: string) {
    const d = await this.#m.UiSession.findById(id).lean<Doc>();
    return d ? toSession(d) : null;
  }

  async touch(id: string, at: Date) {
    await this.#m.UiSession.updateOne({ _id: id }, { $set: { lastSeenAt: at } });
  }

  async delete(id: string) {
    await this.#m.UiSession.deleteOne({ _id: id });
  }

  async deleteForUser(username: string) {
    return (await this.#m.UiSession.deleteMany({ username })).deletedCount;
  }

  async purgeExpired(now: Date, idleBefore: Date) {
    const r = await this.#m.UiSession.deleteMany({
      $or: [{ expiresAt: { $lte: now } }, { lastSeenAt: { $lt: idleBefore } }],
    });
    return r.deletedCount;
  }
}

/**
 * Login attempts, reserved atomically on MongoDB and FerretDB 1.x alike. FerretDB's updates read,
 * change and write back without a lock: 25 parallel `findOneAndUpdate({n: {$lt: 5}}, {$inc})` on one
 * document gave 12 winners and a final count of 5 (measured on 1.24.2), so a counter cannot hold a
 * limit there. An insert against the unique `_id` is atomic, so attempts are numbered: the n-th
 * attempt under a key is the document `<key>#<n>`, taken only by whoever read `n - 1` as the last
 * one AND saw fewer than `max` live attempts; a contender that lost the insert reads again. Numbers
 * are taken in order, so the winner of `n` has seen every attempt before it: no more than `max`
 * unreleased attempts ever fall inside a window.
 */
class MongoLoginAttemptStore implements LoginAttemptStore {
  readonly #m: UserModels;
  constructor(m: UserModels) {
    this.#m = m;
  }

  async reserve(key: string, at: Date, since: Date, max: number) {
    for (let tries = 0; tries < 100; tries++) {
      const ds = await this.#m.LoginAttempt.find({ key }, { n: 1, at: 1, released: 1 }).lean<
        { n?: number; at: Date; released?: boolean }[]
      >();
      const last = ds.reduce((m, d) => Math.max(m, d.n ?? 0), 0);
      const live = ds
        .filter((d) => !d.released && new Date(d.at) >= since)
        .map((d) => new Date(d.at))
        .sort((a, b) => a.getTime() - b.getTime());
      if (live.length >= max) return { locked: live };
      const id = `${key}#${last + 1}`;
      try {
        await this.#m.LoginAttempt.create({ _id: id, key, n: last + 1, at });
        return { id, count: live.length + 1 };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // another attempt took this number: read again
      }
    }
    throw new HubError('UNAVAILABLE', 'too many logins at once; try again');
  }

  async release(id: string) {
    await this.#m.LoginAttempt.updateOne({ _id: id }, { $set: { released: true } });
  }

  async since(key: string, since: Date) {
    const ds = await this.#m.LoginAttempt.find(
      { key, at: { $gte: since }, released: { $ne: true } },
      { at: 1 },
    )
      .sort({ at: 1 })
      .limit(1000)
      .lean<{ at: Date }[]>();
    return ds.map((d) => new Date(d.at));
  }

  async clear(key: string) {
    // Marked, not deleted: the numbers stay taken, so the order reserve() relies on holds.
    await this.#m.LoginAttempt.updateMany({ key, released: { $ne: true } }, { $set: { released: true } });
  }

  async purge(before: Date) {
    return (await this.#m.LoginAttempt.deleteMany({ at: { $lt: before } })).deletedCount;
  }
}

export class MongoUiJobStore implements UiJobStore {
  readonly #m: UserModels;
  constructor(m: UserModels) {
    this.#m = m;
  }

  async start(kind: string, actor: string, total: number): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await this.#m.UiJob.create({
      _id: id,
      kind,
      actor,
      state: 'running',
      done: 0,
      total,
      startedAt: now,
      heartbeatAt: now,
    });
    return id;
  }

  async progress(id: string, p: { phase: string; done: number; total: number }) {
    await this.#m.UiJob.updateOne({ _id: id }, { $set: { ...p, heartbeatAt: new Date() } });
  }

  async finish(
    id: string,
    outcome:
      | { state: 'done'; result: Record<string, unknown>; resultCsv?: string }
      | { state: 'failed'; error: UiJob['error'] },
  ) {
    const now = new Date();
    await this.#m.UiJob.updateOne({ _id: id }, { $set: { ...outcome, finishedAt: now, heartbeatAt: now } });
  }

  async get(id: string): Promise<UiJob | null> {
    const d = await this.#m.UiJob.findById(id).lean<Doc>();
    if (!d) return null;
    const { _id, ...rest } = d;
    return { id: _id, ...(rest as Omit<UiJob, 'id'>) };
  }

  async recent(kind: string, limit: number): Promise<UiJob[]> {
    const ds = await this.#m.UiJob.find({ kind }, { resultCsv: 0 })
      .sort({ startedAt: -1 })
      .limit(limit)
      .lean<Doc[]>();
    return ds.map(({ _id, ...rest }) => ({ id: _id, ...(rest as Omit<UiJob, 'id'>) }));
  }
}

export interface UserStores {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly attempts: LoginAttemptStore;
  readonly jobs: UiJobStore;
}

/** Registers the models on the connection (once) and creates their collections and indexes. */
export async function openUserStores(conn: Connection): Promise<UserStores> {
  const m = models(conn);
  for (const model of Object.values(m)) {
    await model.createCollection().catch(() => undefined);
    await model.createIndexes();
  }
  return {
    users: new MongoUserStore(m),
    sessions: new MongoSessionStore(m),
    attempts: new MongoLoginAttemptStore(m),
    jobs: new MongoUiJobStore(m),
  };
}
