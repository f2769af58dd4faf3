/** Search, the change feed and the audit trail of the directory (real FerretDB). */
import { expect } from 'chai';
import type { AuditEntry } from '../../../src/domain/types.ts';
import { openTestDirectory, refusalOf, type TestDirectory } from '../../support/directory.ts';

describe('directory search (FerretDB)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  before(async () => {
    t = await openTestDirectory('dirsearch');
  });
  after(async () => {
    await t?.close();
  });

  it('finds names with or without diacritics, in any word order', async () => {
    const svc = t.service();
    for (const q of ['phuong sai gon', 'Phường Sài Gòn', 'SAI GON phuong', 'dang uy phuong sai'])
      expect((await svc.search({ q })).items.length, q).to.be.greaterThan(0);
    const plain = (await svc.search({ q: 'phuong sai gon' })).items.map((a) => a.code);
    expect(plain).to.deep.equal(['D29.001', 'H29.001', 'M29.001']);
    expect((await svc.search({ q: 'Đảng ủy phường Sài Gòn' })).items.map((a) => a.code)).to.deep.equal([
      'D29.001',
    ]);
    expect((await svc.search({ q: 'da kao' })).items.map((a) => a.code)).to.deep.equal(['H29.21.02']);
    expect((await svc.search({ q: 'phuong ha noi' })).items).to.deep.equal([]);
  });

  it('filters by code prefix, block, province and status', async () => {
    const svc = t.service();
    expect((await svc.search({ code: 'h29.21' })).items.map((a) => a.code)).to.deep.equal([
      'H29.21.01',
      'H29.21.02',
    ]);
    expect((await svc.search({ block: 'party', province: 'H41' })).items.map((a) => a.code)).to.deep.equal([
      'D41',
      'D41.001',
    ]);
    expect((await svc.search({ status: 'closed' })).items.map((a) => a.code)).to.deep.equal([
      'H29.21.01',
      'H29.21.02',
    ]);
    expect((await svc.search({ q: 'dien chau', block: 'front' })).items.map((a) => a.code)).to.deep.equal([
      'M41.001',
    ]);
    const err = await refusalOf(svc.search({ block: 'government' }));
    expect(err.code).to.equal('VALIDATION_FAILED');
  });

  it('pages through results with a cursor, without repeats or gaps', async () => {
    const svc = t.service();
    const all = (await svc.search({ limit: 100 })).items.map((a) => a.code);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await svc.search({ limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((a) => a.code));
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen).to.deep.equal(all);
    expect(all.length).to.equal(15);
  });
});

describe('directory change feed and audit (FerretDB)', function () {
  this.timeout(60_000);
  let t: TestDirectory;
  before(async () => {
    t = await openTestDirectory('dirfeed');
  });
  after(async () => {
    await t?.close();
  });

  it('lists changes in version order and pages with since=<last version>', async () => {
    const svc = t.service();
    await svc.register('seeder', {
      code: 'H29.21.05',
      name: 'UBND phường 5 quận 1 (cũ)',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H29',
    });
    const start = (await svc.changes(0, 500)).next;
    const a = await svc.register('admin-1', {
      name: 'UBND phường Tân Định',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H29',
      predecessors: ['H29.21.05'],
    });
    await svc.update('admin-1', 'H41.001', { contact: { email: 'dienchau@example.invalid' } });
    const page1 = await svc.changes(start, 2);
    expect(page1.items.map((x) => x.code)).to.deep.equal([a.agency.code, 'H29.21.05']);
    expect(page1.more).to.equal(true);
    const page2 = await svc.changes(page1.next, 2);
    expect(page2.items.map((x) => x.code)).to.deep.equal(['H41.001']);
    expect(page2.items[0]!.contact.email).to.equal('dienchau@example.invalid');
    expect(page2.more).to.equal(false);
    const versions = [...page1.items, ...page2.items].map((x) => x.version);
    expect(versions).to.deep.equal([...versions].sort((x, y) => x - y));
    expect((await svc.changes(page2.next, 2)).items).to.deep.equal([]);
  });

  it('shows nothing of a write in progress until it is complete', async () => {
    const svc = t.service();
    const start = (await svc.changes(0, 500)).next;
    let during: string[] = [];
    await t.stores.agencies.withWriter('slow writer', async (w) => {
      const from = await w.versions(1);
      const h41 = (await t.stores.agencies.findByCode('H41'))!;
      await t.stores.agencies.update('H41', h41.version, from, { set: { shortName: 'UBND Nghệ An' } });
      // Another process reads the feed meanwhile: the new version is held back.
      const other = await t.attach();
      try {
        during = (await other.service.changes(start, 500)).items.map((x) => x.code);
      } finally {
        await other.close();
      }
    });
    expect(during).to.deep.equal([]);
    expect((await svc.changes(start, 500)).items.map((x) => x.code)).to.deep.equal(['H41']);
  });

  it('audits every change with the actor and the agency before and after', async () => {
    const svc = t.service();
    const { agency } = await svc.register('admin-7', {
      name: 'UBND xã Nghi Lộc',
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H41',
      predecessors: ['H41.001'],
    });
    await svc.update('admin-8', agency.code, { shortName: 'UBND Nghi Lộc' });
    const entries = (await t.stores.models.Audit.find().sort({ _id: 1 }).lean()) as unknown as (AuditEntry & {
      data: { before: Record<string, unknown> | null; after: Record<string, unknown> };
    })[];
    const registered = entries.find((e) => e.action === 'agency.registered' && e.subject === agency.code)!;
    expect(registered.actor).to.equal('admin-7');
    expect(registered.data.before).to.equal(null);
    expect(registered.data.after).to.include({
      code: agency.code,
      status: 'active',
      name: 'UBND xã Nghi Lộc',
    });
    const closed = entries.find((e) => e.action === 'agency.closed' && e.subject === 'H41.001')!;
    expect(closed.data.before).to.include({ status: 'active' });
    expect(closed.data.after).to.include({ status: 'closed' });
    expect(closed.data.after.successors).to.deep.equal([agency.code]);
    const updated = entries.find((e) => e.action === 'agency.updated' && e.subject === agency.code)!;
    expect(updated.actor).to.equal('admin-8');
    expect(updated.data.before).to.not.have.property('shortName');
    expect(updated.data.after).to.include({ shortName: 'UBND Nghi Lộc' });
    expect(await t.stores.audit.verify()).to.include({ ok: true });
  });
});
