/** The credential store behaves the same on every adapter (harness.ts). */
import { expect } from 'chai';
import { createMongoStores } from '../../src/store/stores.ts';
import { MongoSystemStore } from '../../src/store/system-store.ts';
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

  it('keeps the defaults of older records and reads them the same through the admin store', async () => {
    const { conn, adapter } = ctx();
    const stores = await createMongoStores(conn, KEY, { dialect: adapter.dialect });
    const admin = new MongoSystemStore(conn, KEY);
    expect(
      await admin.insert(
        {
          systemId: 'dms-y',
          agencyCodes: ['H29.001'],
          rights: ['send', 'admin'],
          active: true,
          createdAt: new Date('2026-01-01T00:00:00Z'),
        },
        'pw',
      ),
    ).to.equal(true);
    expect(
      await admin.insert(
        { systemId: 'dms-y', agencyCodes: [], rights: ['send'], active: true, createdAt: new Date() },
        'x',
      ),
    ).to.equal(false);
    const c = await stores.credentials.find('dms-y');
    expect(c).to.deep.include({ systemId: 'dms-y', secret: 'pw', active: true });
    expect(c!.rights).to.deep.equal(['send', 'admin']);
    // a record written before rights and active existed
    await conn.db!.collection('systems').insertOne({
      _id: 'dms-old' as never,
      secretEnc: (await conn.db!.collection('systems').findOne({ _id: 'dms-y' as never }))!
        .secretEnc as string,
      agencyCodes: ['H29.002'],
    });
    const old = await stores.credentials.find('dms-old');
    expect(old).to.deep.include({ active: true, secret: 'pw' });
    expect(old!.rights).to.deep.equal(['send']);
    expect(await admin.get('dms-old')).to.deep.include({ systemId: 'dms-old', active: true });
  });
});
