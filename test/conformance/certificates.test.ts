/**
 * The certificate store behaves the same on every adapter (harness.ts), and certificate changes are
 * directory changes: each gives the agency a new version that the change feed lists (issue 20).
 */
import { expect } from 'chai';
import { MongoCertificateStore } from '../../src/store/certificate-store.ts';
import { MongoDirectoryStore } from '../../src/store/directory-store.ts';
import type { Agency } from '../../src/domain/types.ts';
import { describeAdapters } from './harness.ts';

const AGENCY = 'H29.001';
const OTHER = 'H29.002';

function unit(code: string): Omit<Agency, 'version' | 'updatedAt'> {
  return {
    code,
    name: `Unit ${code}`,
    block: 'state',
    kind: 'unit',
    parentCode: null,
    status: 'active',
    successors: [],
    contact: {},
    delivery: { mode: 'pull' },
    certificates: [],
  };
}

const cert = (fp: string, notAfter: Date) => ({
  fingerprintSha256: fp,
  pem: `-----BEGIN CERTIFICATE-----\n${fp}\n-----END CERTIFICATE-----\n`,
  subject: `O=${AGENCY}`,
  notAfter,
  registeredAt: new Date('2026-01-01T00:00:00Z'),
});

describeAdapters('CertificateStore', (ctx) => {
  async function open() {
    const { conn } = ctx();
    const directory = await MongoDirectoryStore.open(conn);
    await directory.upsertSeed([unit(AGENCY), unit(OTHER)]);
    return { directory, certs: new MongoCertificateStore(conn, directory) };
  }

  it('registration and revocation give the agency a new version that the change feed lists', async () => {
    const { directory, certs } = await open();
    const before = await directory.changes(0, 100);
    const since = before.watermark;
    const v0 = (await directory.findByCode(AGENCY))!.version;

    const added = await certs.add(AGENCY, cert('aa'.repeat(32), new Date('2031-01-01T00:00:00Z')));
    expect(added!.version).to.be.greaterThan(v0);
    const feed1 = await directory.changes(since, 100);
    expect(feed1.items.map((a) => a.code)).to.deep.equal([AGENCY]);
    expect(feed1.items[0]!.certificates.map((c) => c.fingerprintSha256)).to.deep.equal(['aa'.repeat(32)]);
    expect(feed1.items[0]!.certificates[0]!.revokedAt).to.equal(undefined);

    const at = new Date('2026-06-01T00:00:00Z');
    const revoked = await certs.revoke(AGENCY, 'aa'.repeat(32), at);
    expect(revoked!.version).to.be.greaterThan(added!.version);
    const feed2 = await directory.changes(feed1.watermark, 100);
    expect(feed2.items.map((a) => a.code)).to.deep.equal([AGENCY]);
    expect(feed2.items[0]!.certificates[0]!.revokedAt?.toISOString()).to.equal(at.toISOString());
  });

  it('revoking an unknown or already revoked certificate changes nothing and takes no version', async () => {
    const { directory, certs } = await open();
    await certs.add(AGENCY, cert('bb'.repeat(32), new Date('2031-01-01T00:00:00Z')));
    const { watermark } = await directory.changes(0, 100);
    expect(await certs.revoke(AGENCY, 'cc'.repeat(32), new Date())).to.equal(null);
    expect(await certs.revoke('H29.999', 'bb'.repeat(32), new Date())).to.equal(null);
    expect(await certs.revoke(AGENCY, 'bb'.repeat(32), new Date())).not.to.equal(null);
    expect(await certs.revoke(AGENCY, 'bb'.repeat(32), new Date())).to.equal(null);
    expect((await directory.watermark()).watermark).to.equal(watermark + 1);
    expect(await certs.add('H29.999', cert('dd'.repeat(32), new Date()))).to.equal(null);
  });

  it('lists, finds the holder of a fingerprint and the certificates that expire soon', async () => {
    const { certs } = await open();
    await certs.add(AGENCY, cert('01'.repeat(32), new Date('2027-01-10T00:00:00Z')));
    await certs.add(AGENCY, cert('02'.repeat(32), new Date('2031-01-01T00:00:00Z')));
    await certs.add(OTHER, cert('03'.repeat(32), new Date('2027-01-05T00:00:00Z')));
    await certs.revoke(OTHER, '03'.repeat(32), new Date('2026-02-01T00:00:00Z'));

    const all = await certs.list();
    expect(all.map((c) => [c.agency, c.fingerprintSha256.slice(0, 2)])).to.deep.equal([
      [AGENCY, '01'],
      [AGENCY, '02'],
      [OTHER, '03'],
    ]);
    expect(all[0]).to.deep.include({ subject: `O=${AGENCY}` });
    expect(all[0]!.pem).to.contain('BEGIN CERTIFICATE');
    expect(all[0]!.notAfter).to.be.instanceOf(Date);
    expect((await certs.list(OTHER)).map((c) => c.revokedAt?.toISOString())).to.deep.equal([
      '2026-02-01T00:00:00.000Z',
    ]);

    expect(await certs.holderOf('03'.repeat(32))).to.equal(OTHER);
    expect(await certs.holderOf('03'.repeat(32), OTHER)).to.equal(null);
    expect(await certs.holderOf('ff'.repeat(32))).to.equal(null);

    // active certificates expiring by the limit only (the revoked one is left out)
    const soon = await certs.expiring(new Date('2027-02-01T00:00:00Z'));
    expect(soon.map((c) => [c.agency, c.fingerprintSha256.slice(0, 2)])).to.deep.equal([[AGENCY, '01']]);
  });
});
