/** The credential store behaves the same on every adapter (harness.ts). */
import { expect } from 'chai';
import { createMongoStores } from '../../src/store/stores.ts';
import { describeAdapters } from './harness.ts';

const KEY = 'conformance-test-key-not-a-secret';

describeAdapters('CredentialStore', (ctx) => {
  it('stores a credential sealed and reads it back, and an upsert replaces it', async () => {
    const { conn, adapter } = ctx();
    const stores = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    expect(await stores.credentials.find('dms-x')).to.equal(null);
    await stores.credentials.upsert({
      systemId: 'dms-x',
      secret: 's3cret',
      agencyCodes: ['000.00.00.H29'],
      rights: ['send'],
      active: true,
    });
    const raw = await conn.db!.collection('systems').findOne({ _id: 'dms-x' as never });
    expect(JSON.stringify(raw)).not.to.contain('s3cret');
    await stores.credentials.upsert({
      systemId: 'dms-x',
      secret: 'other',
      agencyCodes: ['000.00.00.H29', '000.00.00.H30'],
      rights: ['send'],
      active: false,
    });
    const c = await stores.credentials.find('dms-x');
    expect(c).to.deep.include({ secret: 'other', active: false });
    expect(c!.agencyCodes).to.deep.equal(['000.00.00.H29', '000.00.00.H30']);
  });
});
