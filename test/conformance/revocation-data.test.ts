/** The revocation data store behaves the same on every adapter (harness.ts). */
import { expect } from 'chai';
import { MongoRevocationDataStore } from '../../src/store/revocation-store.ts';
import type { StoredCrl } from '../../src/domain/ports/certificates.ts';
import { describeAdapters } from './harness.ts';

const ISSUER = 'CN=Test CA,O=Ban Co yeu Chinh phu,C=VN';
const t = (d: string) => new Date(`${d}T00:00:00Z`);

/** A CRL of `issuer` issued on `day` (bytes `der`), fetched that day unless `extra` says otherwise. */
const crl = (issuer: string, day: string, der: number[], extra: Partial<StoredCrl> = {}): StoredCrl => ({
  issuer,
  der: new Uint8Array(der),
  thisUpdate: t(day),
  fetchedAt: t(day),
  ...extra,
});

describeAdapters('RevocationDataStore', (ctx) => {
  const open = () => new MongoRevocationDataStore(ctx().conn, { dialect: ctx().adapter.dialect });

  it('keeps the most recent CRL of each issuer, with its bytes', async () => {
    const s = open();
    const first = { nextUpdate: t('2026-01-08'), url: 'http://crl.example/a.crl' };
    expect(await s.putIfNewer(crl(ISSUER, '2026-01-01', [1, 2, 3], first))).to.equal(true);
    // the same or an older one is not stored
    expect(await s.putIfNewer(crl(ISSUER, '2026-01-01', [9], { fetchedAt: t('2026-01-02') }))).to.equal(
      false,
    );
    expect(await s.putIfNewer(crl(ISSUER, '2025-12-01', [9], { fetchedAt: t('2026-01-02') }))).to.equal(
      false,
    );
    const got = await s.get(ISSUER);
    expect([...got!.der]).to.deep.equal([1, 2, 3]);
    expect(got).to.deep.include({ url: 'http://crl.example/a.crl' });
    expect(got!.thisUpdate.toISOString()).to.equal(t('2026-01-01').toISOString());

    // a newer one replaces it (a CRL given by hand: no URL, no nextUpdate)
    expect(await s.putIfNewer(crl(ISSUER, '2026-01-02', [4, 5]))).to.equal(true);
    const newer = await s.get(ISSUER);
    expect([...newer!.der]).to.deep.equal([4, 5]);
    expect(newer!.url).to.equal(undefined);
    expect(newer!.nextUpdate).to.equal(undefined);
    expect(await s.get('CN=Nobody')).to.equal(null);
  });

  it('lists the heads of every issuer without their bytes, by issuer', async () => {
    const s = open();
    await s.putIfNewer(crl('CN=B', '2026-01-02', [2]));
    await s.putIfNewer(
      crl('CN=A', '2026-01-01', [1], { nextUpdate: t('2026-01-03'), url: 'http://crl.example/a.crl' }),
    );
    const heads = await s.heads();
    expect(heads.map((h) => h.issuer)).to.deep.equal(['CN=A', 'CN=B']);
    expect(heads[0]).not.to.have.property('der');
    expect(heads[0]).to.deep.include({ url: 'http://crl.example/a.crl' });
    expect(heads[0]!.nextUpdate!.toISOString()).to.equal(t('2026-01-03').toISOString());
  });

  it('two processes storing CRLs of one issuer at once both succeed, and a newer one then wins', async () => {
    const s1 = open();
    const s2 = open();
    const puts = [1, 2, 3, 4, 5, 6].map((day, i) =>
      (i % 2 ? s1 : s2).putIfNewer(crl(ISSUER, `2026-01-0${day}`, [day], { fetchedAt: t('2026-01-07') })),
    );
    const results = await Promise.all(puts); // no duplicate-key error escapes
    expect(results).to.include(true);
    // On MongoDB the conditional upsert keeps the most recent; FerretDB 1.x may keep a less recent
    // one until the next refresh (revocation-store.ts): either way one of the CRLs put is stored.
    const got = await s1.get(ISSUER);
    expect([...got!.der]).to.have.length(1);
    expect(got!.thisUpdate.toISOString()).to.equal(t(`2026-01-0${got!.der[0]}`).toISOString());
    expect(await s2.putIfNewer(crl(ISSUER, '2026-01-08', [8]))).to.equal(true);
    expect([...(await s1.get(ISSUER))!.der]).to.deep.equal([8]);
  });
});
