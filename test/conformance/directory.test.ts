/**
 * The directory store (DirectoryStore, src/store/directory-store.ts) behaves the same on every
 * adapter (harness.ts): FerretDB in its own dialect (directory/ferretdb.ts) and the MongoDB
 * dialect (directory/mongodb.ts), forced on FerretDB and on a real MongoDB when MONGODB_URI is set.
 * A second store on another connection to the same database stands for a second hub process;
 * leases expire by moving that store's clock, not by waiting.
 */
import { expect } from 'chai';
import type { DirectoryWriter } from '../../src/domain/ports.ts';
import type { Agency } from '../../src/domain/types.ts';
import type { MongoDirectoryStore } from '../../src/store/directory-store.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { createMongoStores } from '../../src/store/stores.ts';
import { sampleAgency } from '../support/directory.ts';
import { describeAdapters, type AdapterContext } from './harness.ts';

const KEY = 'conformance-test-key-not-a-secret';
const LEASE_MS = 60_000;

/** A clock that stands still until moved. */
function testClock(start = Date.parse('2026-03-01T08:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

function agency(code: string, extra: Partial<Agency> = {}): Agency {
  return sampleAgency({ code, name: `Đơn vị ${code}`, ...extra });
}

/** Registers agencies as the service does: codes first, then the agencies with fresh versions. */
async function register(store: MongoDirectoryStore, list: readonly Agency[], by = 'test'): Promise<Agency[]> {
  const taken = await store.reserveCodes(
    list.flatMap((a) => [
      { code: a.code, canonical: a.code, kind: 'canonical' as const },
      ...(a.legacyCode ? [{ code: a.legacyCode, canonical: a.code, kind: 'legacy' as const }] : []),
    ]),
    by,
  );
  expect([...taken]).to.deep.equal([]);
  return store.withWriter('test registration', async (w) => {
    const from = await w.versions(list.length);
    const out = list.map((a, i) => ({ ...a, version: from + i }));
    await store.insertAgencies(out);
    return out;
  });
}

/** A promise and the function that resolves it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describeAdapters('DirectoryStore', (ctx) => {
  const extra: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of extra.splice(0)) await c.close();
  });

  async function open(c: AdapterContext, clock = testClock()): Promise<MongoDirectoryStore> {
    const stores = await createMongoStores(c.conn, KEY, {
      dialect: c.adapter.dialect,
      directory: { versionLeaseMs: LEASE_MS, now: clock.now },
    });
    return stores.agencies;
  }

  /** Another hub process: its own connection and store on the same database. */
  async function other(clock = testClock()): Promise<MongoDirectoryStore> {
    const c = ctx();
    const conn = await connectMongo(c.adapter.uri, { dbName: c.dbName });
    extra.push(conn);
    return open({ ...c, conn }, clock);
  }

  it('finds agencies by canonical and legacy code, one or many at a time', async () => {
    const store = await open(ctx());
    await register(store, [
      agency('H29.005', { legacyCode: '000.05.29.H29' }),
      agency('H29.006'),
      agency('H29.007', { status: 'closed', successors: ['H29.006'] }),
    ]);
    expect((await store.findByCode('H29.005'))!.legacyCode).to.equal('000.05.29.H29');
    expect((await store.findByCode('000.05.29.H29'))!.code).to.equal('H29.005');
    expect((await store.findByCode('H29.007'))!.successors).to.deep.equal(['H29.006']);
    expect(await store.findByCode('H29.999')).to.equal(null);
    expect(await store.findByCode('000.99.29.H29')).to.equal(null);
    const many = await store.findMany(['H29.006', '000.05.29.H29', 'H29.999', 'H29.006', '000.98.29.H29']);
    expect([...many.keys()].sort()).to.deep.equal(['000.05.29.H29', 'H29.006']);
    expect(many.get('000.05.29.H29')!.code).to.equal('H29.005');
    expect(await store.count()).to.equal(3);
    const exported: string[] = [];
    for await (const a of store.exportAll()) exported.push(a.code);
    expect(exported).to.deep.equal(['H29.005', 'H29.006', 'H29.007']);
  });

  it('seeds only the agencies not there yet, with their codes and fresh versions', async () => {
    const store = await open(ctx());
    const [kept] = await register(store, [agency('H29', { name: 'UBND Hà Nội', parentCode: null })]);
    const seed = [
      { ...agency('H29', { name: 'other name', parentCode: null }) },
      { ...agency('H29.005', { legacyCode: '000.05.29.H29' }) },
      { ...agency('H41', { parentCode: null, province: 'H41' }) },
    ].map(({ version: _v, updatedAt: _u, ...a }) => a);
    expect(await store.upsertSeed(seed)).to.equal(2);
    expect((await store.findByCode('H29'))!).to.deep.include({ name: 'UBND Hà Nội', version: kept!.version });
    expect((await store.findByCode('000.05.29.H29'))!.code).to.equal('H29.005');
    expect([...(await store.issued(['H29.005', '000.05.29.H29', 'H41']))]).to.have.length(3);
    const versions = (await store.changes(kept!.version, 10)).items.map((a) => a.version);
    expect(versions).to.deep.equal([kept!.version + 1, kept!.version + 2]);
    expect(await store.upsertSeed(seed)).to.equal(0);
  });

  it('searches by code prefix, name words, block, province, status and parent, a page at a time', async () => {
    const store = await open(ctx());
    await register(store, [
      agency('H29', { name: 'UBND Thành phố Hà Nội', parentCode: null, kind: 'province-people-committee' }),
      agency('H29.005', { name: 'UBND phường Tân Định', shortName: 'Tân Định' }),
      agency('H29.006', { name: 'UBND phường Bến Nghé', status: 'closed', successors: [] }),
      agency('H29.007', { name: 'UBND xã Tân Lập' }),
      agency('H41', { name: 'UBND tỉnh Nghệ An', parentCode: null, province: 'H41' }),
      agency('D29', { name: 'Thành ủy Hà Nội', block: 'party', parentCode: null }),
    ]);
    const codes = async (q: Parameters<MongoDirectoryStore['search']>[0]) =>
      (await store.search(q)).map((a) => a.code);
    expect(await codes({ limit: 10, codePrefix: 'H29.' })).to.deep.equal(['H29.005', 'H29.006', 'H29.007']);
    expect(await codes({ limit: 10, nameWords: ['tan'] })).to.deep.equal(['H29.005', 'H29.007']);
    expect(await codes({ limit: 10, nameWords: ['tan', 'dinh'] })).to.deep.equal(['H29.005']);
    expect(await codes({ limit: 10, block: 'party' })).to.deep.equal(['D29']);
    expect(await codes({ limit: 10, province: 'H41' })).to.deep.equal(['H41']);
    expect(await codes({ limit: 10, status: 'closed' })).to.deep.equal(['H29.006']);
    expect(await codes({ limit: 10, parentCode: 'H29', status: 'active' })).to.deep.equal([
      'H29.005',
      'H29.007',
    ]);
    expect(await codes({ limit: 10, topLevel: true, block: 'state' })).to.deep.equal(['H29', 'H41']);
    expect(await codes({ limit: 2 })).to.deep.equal(['D29', 'H29']);
    expect(await codes({ limit: 2, after: 'H29' })).to.deep.equal(['H29.005', 'H29.006']);
    expect(await codes({ limit: 2, after: 'H29.007' })).to.deep.equal(['H41']);
  });

  it('feeds changes in version order up to the watermark, holding back a write in progress', async () => {
    const store = await open(ctx());
    const reader = await other();
    const [a, b] = await register(store, [agency('H29.005'), agency('H29.006')]);
    const feed = await reader.changes(0, 10);
    expect(feed.items.map((x) => [x.code, x.version])).to.deep.equal([
      ['H29.005', a!.version],
      ['H29.006', b!.version],
    ]);
    expect(feed).to.deep.include({ watermark: b!.version, stalled: false });
    expect((await reader.changes(0, 1)).items.map((x) => x.code)).to.deep.equal(['H29.005']);
    expect((await reader.changes(b!.version, 10)).items).to.deep.equal([]);

    let during: { items: Agency[]; watermark: number } | undefined;
    await store.withWriter('slow writer', async (w) => {
      const v = await w.versions(2);
      expect(await store.update('H29.005', a!.version, v, { set: { kind: 'changed' } })).to.not.equal(null);
      during = await reader.changes(b!.version, 10);
    });
    expect(during!.items).to.deep.equal([]);
    expect(during!.watermark).to.equal(b!.version);
    const after = await reader.changes(b!.version, 10);
    expect(after.items.map((x) => x.code)).to.deep.equal(['H29.005']);
    expect(after.watermark).to.equal(b!.version + 2);
  });

  it('serializes writers of one process and of two processes', async () => {
    const store = await open(ctx());
    const second = await other();
    const log: string[] = [];
    const held = gate();
    const entered = gate();
    const first = store.withWriter('first', async (w) => {
      entered.open();
      log.push('first in');
      await w.versions(1);
      await held.opened;
      log.push('first out');
    });
    await entered.opened;
    // Another process cannot get in while the lock is held: it gives up after its timeout.
    const refused: unknown = await second
      .withWriter('second', () => Promise.resolve(log.push('second in')), 300)
      .catch((e: unknown) => e);
    expect(refused).to.have.property('code', 'UNAVAILABLE');
    // A writer of the same process waits its turn, as does the other process.
    const same = store.withWriter('same process', () => Promise.resolve(log.push('same in')));
    const later = second.withWriter('second again', () => Promise.resolve(log.push('second in')));
    held.open();
    await Promise.all([first, same, later]);
    expect(log.slice(0, 2)).to.deep.equal(['first in', 'first out']);
    expect([...log.slice(2)].sort()).to.deep.equal(['same in', 'second in']);
    // The dialect asked for is the one that ran: only FerretDB's keeps a chain of lock documents.
    const { conn, adapter } = ctx();
    const links = await conn.db!.collection('directory_locks').countDocuments();
    expect(links > 0).to.equal(adapter.dialect === 'id-only');
  });

  it('hands out distinct, gapless versions to writers racing from two processes', async function () {
    if (ctx().adapter.name === 'mongodb-on-ferretdb')
      // FerretDB 1.24 runs findAndModify as read-then-write without a lock (measured: 100 racing
      // `$inc` end at 88), so the MongoDB dialect's lock is exclusive only on MongoDB itself.
      this.skip();
    const stores = [await open(ctx()), await other()];
    const versions = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        stores[i % 2]!.withWriter(`racer ${i}`, (w: DirectoryWriter) => w.versions(1), 60_000),
      ),
    );
    expect([...versions].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('reports a writer that stopped renewing as stalled, and lets the next writer take over', async () => {
    const clock = testClock();
    const store = await open(ctx(), clock);
    const reader = await other(clock);
    const [a] = await register(store, [agency('H29.005')]);
    const held = gate();
    const entered = gate();
    let lost: unknown;
    const dead = store.withWriter('dying writer', async (w) => {
      await w.versions(1);
      entered.open();
      await held.opened;
      lost = await w.renew().catch((e: unknown) => e);
    });
    await entered.opened;
    expect(await reader.watermark()).to.deep.equal({ watermark: a!.version, stalled: false });
    clock.advance(LEASE_MS + 1);
    expect(await reader.watermark()).to.deep.equal({ watermark: a!.version, stalled: true });
    // The next writer takes the lock over; the feed is no longer held by the dead one.
    const v = await reader.withWriter('next writer', (w) => w.versions(1), 5_000);
    expect(v).to.equal(a!.version + 2);
    expect(await reader.watermark()).to.deep.equal({ watermark: a!.version + 2, stalled: false });
    held.open();
    await dead;
    expect(lost).to.be.instanceOf(Error);
    expect((lost as Error).message).to.match(/lost the directory lock/);
    // Its late release frees nothing it no longer holds: the lock still works.
    expect(await reader.withWriter('after', (w) => w.versions(1), 5_000)).to.equal(a!.version + 3);
    expect(await store.watermark()).to.deep.equal({ watermark: a!.version + 3, stalled: false });
  });

  it('takes ordinals from per-parent counters and gives back only the last ones taken', async () => {
    const store = await open(ctx());
    expect(await store.lastOrdinal('H29')).to.equal(0);
    expect(await store.takeOrdinals('H29', 3)).to.equal(1);
    expect(await store.takeOrdinals('H29', 2)).to.equal(4);
    expect(await store.takeOrdinals('H41', 1)).to.equal(1);
    expect(await store.lastOrdinal('H29')).to.equal(5);
    expect(await store.returnOrdinals('H29', 1, 3)).to.equal(false); // others were taken since
    expect(await store.lastOrdinal('H29')).to.equal(5);
    expect(await store.returnOrdinals('H29', 4, 5)).to.equal(true);
    expect(await store.lastOrdinal('H29')).to.equal(3);
    expect(await store.takeOrdinals('H29', 1)).to.equal(4);
    expect(await store.lastOrdinal('H41')).to.equal(1);
  });

  it('issues a code once: reservations, drops of unused ones, and the register of issued codes', async () => {
    const store = await open(ctx());
    const taken = await store.reserveCodes(
      [
        { code: 'H29.005', canonical: 'H29.005', kind: 'canonical' },
        { code: '000.05.29.H29', canonical: 'H29.005', kind: 'legacy' },
        { code: 'H29.006', canonical: 'H29.006', kind: 'canonical' },
      ],
      'writer-a',
    );
    expect([...taken]).to.deep.equal([]);
    const again = await store.reserveCodes(
      [
        { code: 'H29.006', canonical: 'H29.006', kind: 'canonical' },
        { code: 'H29.007', canonical: 'H29.007', kind: 'canonical' },
      ],
      'writer-b',
    );
    expect([...again]).to.deep.equal(['H29.006']);
    expect(
      [...(await store.issued(['H29.005', '000.05.29.H29', 'H29.008', 'H29.007']))].sort(),
    ).to.deep.equal(['000.05.29.H29', 'H29.005', 'H29.007']);
    // Many codes at once (an import) give the same answer.
    const many = Array.from({ length: 150 }, (_, i) => `H29.${String(i + 1).padStart(3, '0')}`);
    expect([...(await store.issued(many))].sort()).to.deep.equal(['H29.005', 'H29.006', 'H29.007']);
    // Only the reserving writer's codes that no agency carries are dropped.
    await store.withWriter('insert', async (w) => {
      await store.insertAgencies([agency('H29.005', { version: await w.versions(1) })]);
    });
    await store.dropReservations(['H29.005', 'H29.006', 'H29.007'], 'writer-a');
    expect([...(await store.issued(['H29.005', 'H29.006', 'H29.007']))].sort()).to.deep.equal([
      'H29.005',
      'H29.007',
    ]);
    // A code carried by an agency is never issued again.
    expect([
      ...(await store.reserveCodes([{ code: 'H29.005', canonical: 'H29.005', kind: 'canonical' }], 'x')),
    ]).to.deep.equal(['H29.005']);
  });

  it('updates an agency only at the version its writer read', async () => {
    const store = await open(ctx());
    const [a] = await register(store, [
      agency('H29.005', { shortName: 'Tân Định', successors: ['H29.101'], contact: { email: 'a@x.vn' } }),
    ]);
    const [v1, v2, v3] = await store.withWriter('updates', async (w) => {
      const v = await w.versions(3);
      return [v, v + 1, v + 2];
    });
    const renamed = await store.update('H29.005', a!.version, v1, {
      set: { name: 'UBND phường Sài Gòn', shortName: undefined },
    });
    expect(renamed).to.deep.include({ name: 'UBND phường Sài Gòn', version: v1 });
    expect(renamed).to.not.have.property('shortName');
    expect(renamed!.contact).to.deep.equal({ email: 'a@x.vn' });
    expect((await store.search({ limit: 5, nameWords: ['sai', 'gon'] })).map((x) => x.code)).to.deep.equal([
      'H29.005',
    ]);
    expect(await store.search({ limit: 5, nameWords: ['dinh'] })).to.deep.equal([]);
    // A writer that read the agency before that change gets null, and changes nothing.
    expect(await store.update('H29.005', a!.version, v2, { set: { kind: 'stale' } })).to.equal(null);
    expect(await store.update('H29.999', 1, v2, { set: { kind: 'x' } })).to.equal(null);
    const closed = await store.update('H29.005', v1, v2, {
      set: { status: 'closed', closedAt: new Date('2026-03-01T00:00:00Z') },
      addSuccessors: ['H29.101', 'H29.102', 'H29.103'],
    });
    expect(closed).to.deep.include({ status: 'closed', kind: 'commune-people-committee', version: v2 });
    expect(closed!.successors).to.deep.equal(['H29.101', 'H29.102', 'H29.103']);
    const corrected = await store.update('H29.005', v2, v3, { set: {}, replaceSuccessors: ['H29.104'] });
    expect(corrected!.successors).to.deep.equal(['H29.104']);
    expect(await store.findByCode('H29.005')).to.deep.include({ version: v3, name: 'UBND phường Sài Gòn' });
  });

  it('keeps the journal of an import, finds an abandoned one, and keeps its records in order', async () => {
    const clock = testClock();
    const store = await open(ctx(), clock);
    const startedAt = clock.now();
    for (const id of ['imp-1', 'imp-2', 'imp-3'])
      await store.startImport({ id, actor: 'admin', fileSha256: 'abc', rows: 2, startedAt });
    expect(await store.getImport('imp-1')).to.deep.include({ state: 'applying', rows: 2, actor: 'admin' });
    expect(await store.getImport('nope')).to.equal(null);
    clock.advance(10_000);
    await store.heartbeatImport('imp-2');
    await store.finishImport('imp-1', 'done', { created: 2 });
    const stale = await store.staleImports(new Date(startedAt.getTime() + 5_000));
    expect(stale.map((j) => j.id)).to.deep.equal(['imp-3']);
    expect(await store.getImport('imp-1')).to.deep.include({ state: 'done', created: 2 });
    const records = Array.from({ length: 2_345 }, (_, i) => ({ line: i + 2, code: `H29.${i}` }));
    await store.saveImportRecords('imp-1', records);
    expect(await store.importRecords('imp-1')).to.deep.equal(records);
    expect(await store.importRecords('imp-2')).to.deep.equal([]);
  });

  it('rolls an import back: changed agencies restored, created ones removed, given codes freed', async () => {
    const store = await open(ctx());
    const [pred, other1] = await register(store, [agency('H29.005'), agency('H29.006')]);
    await store.startImport({ id: 'imp', actor: 'admin', fileSha256: 'x', rows: 2, startedAt: new Date() });
    await store.reserveCodes(
      [
        { code: 'H29.100', canonical: 'H29.100', kind: 'canonical' },
        { code: 'H29.200', canonical: 'H29.200', kind: 'canonical', given: true },
      ],
      'imp',
    );
    await store.withWriter('import', async (w) => {
      const from = await w.versions(4);
      await store.saveUndo('imp', [
        { before: pred!, appliedVersion: from + 2 },
        { before: other1!, appliedVersion: from + 3 },
      ]);
      await store.insertAgencies(
        [agency('H29.100', { version: from }), agency('H29.200', { version: from + 1 })],
        'imp',
      );
      await store.update(pred!.code, pred!.version, from + 2, {
        set: { status: 'closed' },
        addSuccessors: ['H29.100'],
      });
      await store.update(other1!.code, other1!.version, from + 3, { set: { kind: 'by import' } });
    });
    await store.saveImportRecords('imp', [{ code: 'H29.100' }, { code: 'H29.200' }]);
    // Someone changed H29.006 after the import: it is not the import's to restore.
    const now006 = (await store.findByCode('H29.006'))!;
    await store.withWriter('later change', async (w) => {
      await store.update('H29.006', now006.version, await w.versions(1), { set: { kind: 'later' } });
    });
    const undone = await store.withWriter('rollback', (w) => store.rollbackImport('imp', w));
    expect(undone).to.deep.equal({ restored: 1, removed: 2 });
    expect(await store.findByCode('H29.005')).to.deep.include({ status: 'active', kind: pred!.kind });
    expect((await store.findByCode('H29.005'))!.successors).to.deep.equal([]);
    expect((await store.findByCode('H29.006'))!.kind).to.equal('later');
    expect(await store.findMany(['H29.100', 'H29.200'])).to.have.property('size', 0);
    // The code the hub assigned stays burnt; the code the file gave is free for a corrected file.
    expect([...(await store.issued(['H29.100', 'H29.200']))]).to.deep.equal(['H29.100']);
    expect(await store.importRecords('imp')).to.deep.equal([]);
    // The restored agency carries a new version, shown by the feed.
    const feed = await store.changes(0, 100);
    expect(feed.items.at(-1)!.code).to.equal('H29.005');
    await store.clearUndo('imp');
    const again = await store.withWriter('rollback again', (w) => store.rollbackImport('imp', w));
    expect(again).to.deep.equal({ restored: 0, removed: 0 });
  });
});
