/** The hash-chained audit log detects tampering done directly in the database. */
import { expect } from 'chai';
import { hubctl } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('audit chain', function () {
  this.timeout(60_000);
  let t: TestHub;

  before(async () => {
    t = await startTestHub('audit');
    const A = t.client('H29.001');
    for (let i = 0; i < 5; i++)
      await A.submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
  });
  after(async () => {
    await t?.close();
  });
  // The tests edit and delete entries: each puts the chain back as it found it (shuffled runs).
  let saved: Record<string, unknown>[] = [];
  beforeEach(async () => {
    saved = await t.hub.stores.models.Audit.find().lean<Record<string, unknown>[]>();
  });
  afterEach(async () => {
    await t.hub.stores.models.Audit.deleteMany({});
    if (saved.length) await t.hub.stores.models.Audit.collection.insertMany(saved);
    expect((await t.hub.stores.audit.verify()).ok, 'chain restored').to.equal(true);
  });

  it('verifies an untouched chain, from the API and from hubctl', async () => {
    const r = await t.hub.stores.audit.verify();
    expect(r.ok).to.equal(true);
    expect(r.count).to.be.greaterThanOrEqual(3);
    const cli = hubctl(['--json', 'audit', 'verify', '--db', t.dbName]);
    expect(cli.code, cli.out).to.equal(0);
    expect(JSON.parse(cli.out)).to.deep.include({ ok: true, count: r.count });
  });

  it('reports the first broken link after an entry is edited in the database', async () => {
    await t.hub.stores.models.Audit.updateOne({ _id: 2 }, { $set: { actor: 'someone-else' } });
    const r = await t.hub.stores.audit.verify();
    expect(r).to.include({ ok: false, brokenAt: 2 });
    expect(r.reason).to.contain('does not match its hash');
    const cli = hubctl(['audit', 'verify', '--db', t.dbName]);
    expect(cli.code).to.equal(1);
    expect(cli.out).to.contain('BROKEN at entry 2');
  });

  it('reports a deleted entry', async () => {
    await t.hub.stores.models.Audit.deleteOne({ _id: 3 });
    const r = await t.hub.stores.audit.verify();
    expect(r).to.include({ ok: false, brokenAt: 4 });
    expect(r.reason).to.equal('missing entry 3');
    // With an earlier entry edited too, the first broken link is reported.
    await t.hub.stores.models.Audit.updateOne({ _id: 2 }, { $set: { actor: 'someone-else' } });
    expect((await t.hub.stores.audit.verify()).brokenAt).to.equal(2);
  });
});
