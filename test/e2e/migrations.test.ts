/**
 * Data migrations (src/store/migrations.ts) on the real store: pending on a database that never ran
 * them, run once in registry order with their progress, recorded, and a second run does nothing.
 * Opening the stores migrates nothing (they used to, on every start and every hubctl call).
 */
import { expect } from 'chai';
import {
  MIGRATIONS,
  pendingMigrations,
  runMigrations,
  type MigrationProgress,
} from '../../src/store/migrations.ts';
import { openTestDirectory, type TestDirectory } from '../support/directory.ts';

describe('data migrations (registry, hubctl migrate, migrateOnStart)', function () {
  this.timeout(120_000);
  let t: TestDirectory;

  beforeEach(async () => {
    t = await openTestDirectory('migrations');
  });
  afterEach(async () => {
    await t?.close();
  });

  it('runs the pending ones once, in order, with progress, and records them', async () => {
    const db = t.mongo.db!;
    const { models } = t.stores;
    expect((await pendingMigrations(models)).map((m) => m.name)).to.deep.equal(MIGRATIONS.map((m) => m.name));

    // Data written by earlier versions: a directory without its code register and version counter,
    // a document without its folded search keys.
    const versions = await db
      .collection('agencies')
      .find({}, { projection: { version: 1 } })
      .toArray();
    const maxVersion = Math.max(...versions.map((a) => Number(a.version ?? 0)));
    expect(versions.length).to.be.greaterThan(0);
    await db.collection('agency_codes').deleteMany({});
    await db.collection<{ _id: string }>('directory_counters').deleteOne({ _id: 'version' });
    await db.collection<{ _id: string }>('documents').insertOne({
      _id: 'legacy-doc',
      messageType: 'edoc',
      meta: { subject: 'Về việc Đà Nẵng', codeNumber: '12', codeNotation: 'QĐ-UBND' },
    } as never);

    // Opening the stores again (a hub start, a hubctl call) changes none of it.
    const other = await t.attach();
    await other.close();
    expect(await db.collection('agency_codes').countDocuments()).to.equal(0);

    const progress: MigrationProgress[] = [];
    const ran = await runMigrations(t.stores, { onProgress: (p) => progress.push(p) });
    expect(ran).to.deep.equal(MIGRATIONS.map((m) => m.name));
    expect(progress.map((p) => `${p.event} ${p.name}`)).to.deep.equal(
      MIGRATIONS.flatMap((m) => [`start ${m.name}`, `done ${m.name}`]),
    );

    expect(await db.collection('agency_codes').countDocuments()).to.be.at.least(versions.length);
    const counter = await db
      .collection<{ _id: string; seq: number }>('directory_counters')
      .findOne({ _id: 'version' });
    expect(counter?.seq).to.equal(maxVersion);
    const doc = await db.collection<{ _id: string; meta: Record<string, string> }>('documents').findOne({
      _id: 'legacy-doc',
    });
    expect(doc?.meta.subjectFolded).to.equal('ve viec da nang');
    expect(doc?.meta.numberKey).to.be.a('string').and.not.equal('');

    expect(await pendingMigrations(models)).to.deep.equal([]);
    expect(await runMigrations(t.stores)).to.deep.equal([]);
    expect(await models.Migration.countDocuments({})).to.equal(MIGRATIONS.length);
  });

  it('leaves a failed migration pending and those before it recorded', async () => {
    const registry = [
      MIGRATIONS[0]!,
      { name: 'test-fails', description: 'fails', run: () => Promise.reject(new Error('boom')) },
    ];
    const err = await runMigrations(t.stores, { registry }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.equal('boom');
    expect((await pendingMigrations(t.stores.models, registry)).map((m) => m.name)).to.deep.equal([
      'test-fails',
    ]);
  });

  it('lets two runs race: both finish, each migration recorded once', async () => {
    const [a, b] = await Promise.all([runMigrations(t.stores), runMigrations(t.stores)]);
    expect(a.length + b.length).to.be.at.least(MIGRATIONS.length);
    expect(await t.stores.models.Migration.countDocuments({})).to.equal(MIGRATIONS.length);
  });
});
