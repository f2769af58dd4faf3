/**
 * The directory cache of the hot path (src/directory/cache.ts) over a counting in-memory store with an
 * injected clock: hits within the refresh interval, misses never kept, invalidation by this process's
 * writes, and a read begun before an invalidation does not fill the cache.
 */
import { expect } from 'chai';
import { CERTIFICATE_WRITES, DirectoryCache, invalidatingWrites } from '../../../src/directory/cache.ts';
import type { Agency } from '../../../src/domain/types.ts';
import { sampleAgency } from '../../support/directory.ts';

const agency = (code: string, extra: Partial<Agency> = {}): Agency =>
  sampleAgency({ code, name: code, kind: 'test', parentCode: null, province: undefined, ...extra });

class CountingDirectory {
  readonly rows = new Map<string, Agency>([
    ['H29.001', agency('H29.001')],
    ['H41.001', agency('H41.001')],
  ]);
  reads = 0;
  findByCode(code: string): Promise<Agency | null> {
    this.reads++;
    return Promise.resolve(this.rows.get(code) ?? null);
  }
  findMany(codes: readonly string[]): Promise<Map<string, Agency>> {
    this.reads++;
    return Promise.resolve(new Map(codes.flatMap((c) => (this.rows.has(c) ? [[c, this.rows.get(c)!]] : []))));
  }
  update(code: string, a: Agency): Promise<void> {
    this.rows.set(code, a);
    return Promise.resolve();
  }
}

describe('directory cache of the hot path', () => {
  let store: CountingDirectory;
  let now: number;
  let cache: DirectoryCache;
  beforeEach(() => {
    store = new CountingDirectory();
    now = 1_000_000;
    cache = new DirectoryCache(store, { refreshMs: 1000, now: () => now });
  });

  it('answers from memory within the refresh interval, reads again after it', async () => {
    await cache.findMany(['H29.001', 'H41.001']);
    expect(store.reads).to.equal(1);
    expect((await cache.findByCode('H41.001'))!.code).to.equal('H41.001');
    expect((await cache.findMany(['H29.001', 'H41.001'])).size).to.equal(2);
    expect(store.reads).to.equal(1);
    now += 1000;
    await cache.findByCode('H41.001');
    expect(store.reads).to.equal(2);
  });

  it('keeps no miss: an unknown code reads the store every time', async () => {
    expect(await cache.findByCode('H99.001')).to.equal(null);
    store.rows.set('H99.001', agency('H99.001'));
    expect((await cache.findByCode('H99.001'))!.code).to.equal('H99.001');
    expect(store.reads).to.equal(2);
  });

  it("this process's writes through invalidatingWrites empty it at once", async () => {
    const writer = invalidatingWrites(store, cache);
    await cache.findByCode('H41.001');
    await writer.update('H41.001', agency('H41.001', { status: 'closed' }));
    expect((await cache.findByCode('H41.001'))!.status).to.equal('closed');
    expect(store.reads).to.equal(2);
  });

  it('refresh reads one code now and keeps what it found for the next lookups', async () => {
    await cache.findByCode('H41.001');
    store.rows.set('H41.001', agency('H41.001', { status: 'closed' }));
    expect((await cache.findByCode('H41.001'))!.status).to.equal('active'); // stale, within the bound
    expect((await cache.refresh('H41.001'))!.status).to.equal('closed');
    expect((await cache.findByCode('H41.001'))!.status).to.equal('closed');
    expect(store.reads).to.equal(2);
  });

  it("this process's certificate writes (pin, revoke) empty it, its reads do not", async () => {
    const certs = {
      add: () => Promise.resolve(null),
      revoke: () => Promise.resolve(null),
      list: () => Promise.resolve([]),
    };
    const writer = invalidatingWrites(certs, cache, CERTIFICATE_WRITES);
    for (const write of [() => writer.add(), () => writer.revoke()]) {
      await cache.findByCode('H41.001');
      const reads = store.reads;
      await writer.list();
      await cache.findByCode('H41.001');
      expect(store.reads).to.equal(reads);
      await write();
      await cache.findByCode('H41.001');
      expect(store.reads).to.equal(reads + 1);
    }
  });

  it('a read begun before an invalidation does not fill the cache', async () => {
    const pending = cache.findByCode('H41.001');
    store.rows.set('H41.001', agency('H41.001', { status: 'closed' }));
    cache.invalidate();
    await pending;
    expect((await cache.findByCode('H41.001'))!.status).to.equal('closed');
  });

  it('refresh interval 0: every lookup reads', async () => {
    const off = new DirectoryCache(store, { refreshMs: 0 });
    await off.findByCode('H41.001');
    await off.findByCode('H41.001');
    expect(store.reads).to.equal(2);
  });
});
