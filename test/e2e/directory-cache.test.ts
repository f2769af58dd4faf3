/**
 * The directory cache of the hot path (src/directory/cache.ts) in a running hub, with entries kept far
 * longer than the test: changes made through this hub apply at once; a recipient the cache would refuse
 * is read again, so a unit reopened by another process is accepted at once; a change made
 * elsewhere to an agency the cache accepts is seen within directory.cacheRefreshMs (the documented bound).
 */
import { expect } from 'chai';
import type { HubApiError } from '../../src/sdk/client.ts';
import { hubctl } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('directory cache on the hot path', function () {
  this.timeout(120_000);
  let t: TestHub;
  before(async () => {
    t = await startTestHub('dircache', { directory: { cacheRefreshMs: 600_000 } });
  });
  after(async () => {
    await t?.close();
  });

  const send = (to: string) =>
    t.client('H29.001').submit(signed(documentMessage('H29.001', [to]), t.signingKey('H29.001')));
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (err: unknown) => (err as HubApiError).code,
    );
  const ctl = (...args: string[]) => hubctl([...args, '--db', t.dbName]);

  it('a unit closed through this hub is routed as closed at once', async () => {
    expect((await send('M41.001')).recipients[0]).to.include({ outcome: 'accepted' }); // cached now
    await t.hub.directory.close('test', 'M41.001', { successors: ['H41.001'] });
    expect((await send('M41.001')).recipients[0]).to.include({ outcome: 'rerouted', deliveredTo: 'H41.001' });
  });

  it('a refusal is decided on the store: a unit reopened elsewhere is accepted at once', async () => {
    expect((await send('D41.001')).recipients[0]).to.include({ outcome: 'accepted' }); // cached now
    const split = ctl('directory', 'close', 'D41.001', '--successors', 'H41.001;M29.001');
    expect(split.code, split.err).to.equal(0);
    // Another process closed it: this hub may still accept it until the entry is refreshed (the bound).
    expect(await refusal(send('D41.001'))).to.equal('accepted');
    t.hub.services.directoryCache.invalidate();
    expect(await refusal(send('D41.001'))).to.equal('UNKNOWN_RECIPIENT'); // cached now: split, refused
    // Another process reopens it (a direct write: no command does): the cached refusal is read again.
    await t.hub.stores.models.Agency.updateOne(
      { _id: 'D41.001' },
      { $set: { status: 'active', successors: [] }, $unset: { closedAt: 1 } },
    );
    expect((await send('D41.001')).recipients[0]).to.include({ outcome: 'accepted' });
  });
});
