/**
 * The credential cache of request authentication (src/systems/credential-cache.ts) over a counting
 * in-memory store, with an injected clock: hits within the TTL, refusals read the store again,
 * changes in this process forget the entry.
 */
import { expect } from 'chai';
import type { CredentialStore } from '../../../src/domain/ports.ts';
import type { SystemCredential } from '../../../src/domain/types.ts';
import { CredentialCache, withCredentials } from '../../../src/systems/credential-cache.ts';

class CountingStore implements CredentialStore {
  readonly rows = new Map<string, SystemCredential>();
  reads = 0;
  find(systemId: string): Promise<SystemCredential | null> {
    this.reads++;
    return Promise.resolve(this.rows.get(systemId) ?? null);
  }
  upsert(c: SystemCredential): Promise<void> {
    this.rows.set(c.systemId, c);
    return Promise.resolve();
  }
}

const cred = (secret: string, active = true): SystemCredential => ({
  systemId: 'dms-H29.001',
  secret,
  agencyCodes: ['H29.001'],
  rights: ['send'],
  active,
});

/** The check a request makes: refused unless the credential is active with this secret. */
const signedWith = (secret: string) => (lookup: (id: string) => Promise<SystemCredential | null>) =>
  lookup('dms-H29.001').then((c) => {
    if (!c || !c.active || c.secret !== secret) throw new Error('refused');
    return c;
  });

describe('credential cache', () => {
  let store: CountingStore;
  let now: number;
  let cache: CredentialCache;
  beforeEach(() => {
    store = new CountingStore();
    store.rows.set('dms-H29.001', cred('one'));
    now = 1_000_000;
    cache = new CredentialCache(store, { ttlMs: 5000, now: () => now });
  });

  it('never keeps a read-through system (a federation peer’s caller): each request reads the store', async () => {
    const peerAware = new CredentialCache(store, {
      ttlMs: 5000,
      now: () => now,
      readThrough: (id) => id === 'dms-H29.001',
    });
    for (let i = 0; i < 3; i++) await peerAware.authenticate(signedWith('one'));
    expect(store.reads).to.equal(3);
    store.rows.set('dms-H29.001', { ...cred('one'), agencyCodes: ['H29.001', 'H29.002'] });
    expect((await peerAware.find('dms-H29.001'))?.agencyCodes).to.deep.equal(['H29.001', 'H29.002']);
  });

  it('reads a system once within the TTL, again after it', async () => {
    for (let i = 0; i < 5; i++) await cache.authenticate(signedWith('one'));
    expect(store.reads).to.equal(1);
    now += 5000;
    await cache.authenticate(signedWith('one'));
    expect(store.reads).to.equal(2);
  });

  it('a secret rotated elsewhere works at once: the refused cached one is read again', async () => {
    await cache.authenticate(signedWith('one'));
    store.rows.set('dms-H29.001', cred('two')); // another process rotated it
    expect((await cache.authenticate(signedWith('two'))).secret).to.equal('two');
    expect(store.reads).to.equal(2);
    // The new secret is now the cached one; the old one is refused after one more read.
    await cache.authenticate(signedWith('two'));
    expect(store.reads).to.equal(2);
    let refused: unknown;
    await cache.authenticate(signedWith('one')).catch((e: unknown) => (refused = e));
    expect(refused).to.be.an('error');
    expect(store.reads).to.equal(3);
  });

  it('disabled elsewhere: accepted from the cache until the TTL ends (the documented bound)', async () => {
    await cache.authenticate(signedWith('one'));
    store.rows.set('dms-H29.001', cred('one', false));
    await cache.authenticate(signedWith('one'));
    now += 5000;
    let refused: unknown;
    await cache.authenticate(signedWith('one')).catch((e: unknown) => (refused = e));
    expect(refused).to.be.an('error');
  });

  it('a change in this process is seen at once', async () => {
    await cache.authenticate(signedWith('one'));
    store.rows.set('dms-H29.001', cred('one', false));
    cache.invalidate('dms-H29.001');
    let refused: unknown;
    await cache.authenticate(signedWith('one')).catch((e: unknown) => (refused = e));
    expect(refused).to.be.an('error');
    await cache.upsert(cred('three'));
    expect((await cache.authenticate(signedWith('three'))).secret).to.equal('three');
  });

  it('unknown systems are not cached; a refusal without a cached entry reads once', async () => {
    let refused: unknown;
    await cache
      .authenticate((lookup) => lookup('dms-nobody').then((c) => c ?? Promise.reject(new Error('unknown'))))
      .catch((e: unknown) => (refused = e));
    expect(refused).to.be.an('error');
    expect(store.reads).to.equal(1);
  });

  it('a read begun before an invalidation does not fill the cache', async () => {
    const pending = cache.find('dms-H29.001');
    store.rows.set('dms-H29.001', cred('two'));
    cache.invalidate('dms-H29.001');
    await pending;
    expect((await cache.find('dms-H29.001'))!.secret).to.equal('two');
  });

  it('TTL 0 reads every time; a plain store is read by withCredentials', async () => {
    const off = new CredentialCache(store, { ttlMs: 0 });
    await off.authenticate(signedWith('one'));
    await off.authenticate(signedWith('one'));
    expect(store.reads).to.equal(2);
    await withCredentials(store, signedWith('one'));
    expect(store.reads).to.equal(3);
  });
});
