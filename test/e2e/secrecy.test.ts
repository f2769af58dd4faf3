/** Documents marked secret travel only on cipher-protected routes (Decree 30; docs/domain.md §4 assumption). */
import { expect } from 'chai';
import type { HubApiError } from '../../src/sdk/client.ts';
import { secrecyLevel } from '../../src/documents/submission.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

describe('secret documents', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startTestHub('secrecy');
  });
  after(async () => {
    await t?.close();
  });

  const secret = (level: string) => {
    const m = documentMessage('H29.001', ['H41.001']);
    m.otherInfo.securityLevel = level;
    return m;
  };

  it('recognises the markings with or without diacritics', () => {
    expect(
      ['MẬT', 'mat', 'Tối mật', 'TUYET MAT', '2', 'thường', undefined].map((s) => secrecyLevel(s)),
    ).to.deep.equal(['MẬT', 'MẬT', 'TỐI MẬT', 'TUYỆT MẬT', 'TỐI MẬT', null, null]);
  });

  it('refuses a document marked MẬT on an ordinary route, and stores nothing', async () => {
    const before = await t.hub.stores.models.Document.countDocuments();
    try {
      await t.client('H29.001').submit(signed(secret('MẬT'), t.signingKey('H29.001')));
      expect.fail('accepted');
    } catch (err) {
      expect((err as HubApiError).code).to.equal('SECRET_ROUTE_REQUIRED');
      expect((err as HubApiError).message)
        .to.contain('H29.001')
        .and.contain('H41.001');
    }
    expect(await t.hub.stores.models.Document.countDocuments()).to.equal(before);
  });

  it('accepts it when sender and recipient are configured as cipher-protected', async () => {
    await t.hub.stores.models.Agency.updateMany(
      { _id: { $in: ['H29.001', 'H41.001'] } },
      { $set: { 'delivery.cipherProtected': true } },
    );
    const r = await t.client('H29.001').submit(signed(secret('TỐI MẬT'), t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
  });
});
