/**
 * The directory through the real hub (HTTP, HMAC auth, FerretDB, RabbitMQ): the address-book API
 * for every agency system, the admin API for systems with the 'admin' right, and a document
 * addressed to a merged commune rerouted to its successor.
 */
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { HubClient } from '../../src/sdk/client.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

interface AgencyJson {
  code: string;
  legacyCode?: string;
  name: string;
  status: string;
  successors: string[];
  predecessors?: string[];
  version: number;
  routing?: { outcome: string; deliveredTo?: string; reason?: string };
  delivery: { mode: string; url?: string };
}

describe('directory API through the hub', function () {
  this.timeout(60_000);
  let t: TestHub;
  let dms: HubClient; // an ordinary agency system
  let admin: HubClient;

  async function call<T>(c: HubClient, method: string, path: string, body?: string, type?: string) {
    const res = await c.request(method, path, body, type);
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').includes('json');
    return {
      status: res.status,
      body: (isJson && text ? JSON.parse(text) : text) as T,
      headers: res.headers,
    };
  }

  before(async () => {
    t = await startTestHub('directory');
    dms = t.client('H29.001');
    admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
  });
  after(async () => {
    await t?.close();
  });

  it('answers a search without diacritics to any agency system', async () => {
    const r = await call<{ items: AgencyJson[] }>(dms, 'GET', '/v1/agencies?q=uy+ban+mttq+dien+chau');
    expect(r.status).to.equal(200);
    expect(r.body.items.map((a) => a.code)).to.deep.equal(['M41.001']);
    expect(r.body.items[0]!.delivery).to.deep.equal({ mode: 'pull' }); // no endpoint URL in the address book
  });

  it('answers a closed legacy code with its successor and the routing the hub applies', async () => {
    const r = await call<AgencyJson>(dms, 'GET', '/v1/agencies/000.01.21.H29');
    expect(r.status).to.equal(200);
    expect(r.body).to.include({ code: 'H29.21.01', status: 'closed' });
    expect(r.body.successors).to.deep.equal(['H29.001']);
    expect(r.body.routing).to.include({ outcome: 'rerouted', deliveredTo: 'H29.001' });
    const missing = await call<{ code: string }>(dms, 'GET', '/v1/agencies/H29.999');
    expect(missing.status).to.equal(404);
  });

  it('keeps the admin API to systems with the admin right', async () => {
    const body = JSON.stringify({
      name: 'UBND xã thử',
      block: 'state',
      kind: 'commune-people-committee',
      parent: 'H29',
    });
    const r = await call<{ code: string }>(dms, 'POST', '/v1/admin/agencies', body, 'application/json');
    expect(r.status).to.equal(403);
    expect(r.body.code).to.equal('FORBIDDEN');
    const exp = await call<{ code: string }>(dms, 'GET', '/v1/admin/agencies/export?format=json');
    expect(exp.status).to.equal(403);
  });

  it('registers a commune with predecessors, and a document to a predecessor reaches it', async () => {
    const body = JSON.stringify({
      name: 'UBND xã Diễn Châu Mới',
      block: 'state',
      kind: 'commune-people-committee',
      province: 'H41',
      predecessors: ['H41.001'],
      validFrom: '2025-07-01',
    });
    const r = await call<AgencyJson & { closed: AgencyJson[] }>(
      admin,
      'POST',
      '/v1/admin/agencies',
      body,
      'application/json',
    );
    expect(r.status).to.equal(201);
    expect(r.body.code).to.equal('H41.002');
    expect(r.headers.get('location')).to.equal('/v1/agencies/H41.002');
    expect(r.body.closed.map((c) => [c.code, c.status, c.successors])).to.deep.equal([
      ['H41.001', 'closed', ['H41.002']],
    ]);

    const msg = documentMessage('H29.001', ['H41.001']);
    const receipt = await dms.submit(signed(msg, t.signingKey('H29.001')));
    expect(receipt.recipients).to.have.length(1);
    expect(receipt.recipients[0]).to.include({
      code: 'H41.001',
      outcome: 'rerouted',
      deliveredTo: 'H41.002',
    });
  });

  it('serves the change feed in version order', async () => {
    // A change of its own, last in the feed whatever the other tests changed; put back afterwards.
    const before = (await t.hub.directory.get('D41.001')).agency.shortName ?? null;
    await t.hub.directory.update('test', 'D41.001', { shortName: 'Đổi để thử' });
    try {
      const all = await call<{ items: AgencyJson[]; next: number; more: boolean }>(
        dms,
        'GET',
        '/v1/agencies/changes?since=0&limit=500',
      );
      expect(all.status).to.equal(200);
      const versions = all.body.items.map((a) => a.version);
      expect(versions).to.deep.equal([...versions].sort((a, b) => a - b));
      expect(all.body.items.at(-1)!.code).to.equal('D41.001');
      const rest = await call<{ items: AgencyJson[] }>(
        dms,
        'GET',
        `/v1/agencies/changes?since=${all.body.next}`,
      );
      expect(rest.body.items).to.deep.equal([]);
    } finally {
      await t.hub.directory.update('test', 'D41.001', { shortName: before });
    }
  });

  it('imports a CSV file through the admin API, refusing bad rows with their lines', async () => {
    const bad =
      'name,block,kind,province,predecessors\nUBND xã Thử Nghiệm,state,commune-people-committee,H29,\nUBND xã B,state,commune-people-committee,H99,\n';
    const refused = await call<{ code: string; details: { errors: { line: number; reason: string }[] } }>(
      admin,
      'POST',
      '/v1/admin/agencies/import',
      bad,
      'text/csv',
    );
    expect(refused.status).to.equal(400);
    expect(refused.body.code).to.equal('VALIDATION_FAILED');
    expect(refused.body.details.errors.map((e) => e.line)).to.deep.equal([3]);
    expect(
      (await call<{ items: unknown[] }>(dms, 'GET', '/v1/agencies?q=thu+nghiem')).body.items,
    ).to.deep.equal([]);

    const good =
      'name,block,kind,province,predecessors\nUBND phường Tân Định,state,commune-people-committee,H29,\n';
    const res = await admin.request('POST', '/v1/admin/agencies/import?format=csv', good, 'text/csv');
    expect(res.status).to.equal(201);
    const rows = parse<Record<string, string>>(await res.text(), { columns: true });
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ name: 'UBND phường Tân Định', predecessors: '', parent: 'H29' });
    expect(rows[0]!.code).to.match(/^H29\.\d{3}$/);
  });

  it('exports the directory as CSV and JSON', async () => {
    const csv = await call<string>(admin, 'GET', '/v1/admin/agencies/export?format=csv');
    expect(csv.status).to.equal(200);
    const rows = parse<Record<string, string>>(csv.body, { columns: true, bom: true });
    const json = await call<{ items: AgencyJson[] }>(admin, 'GET', '/v1/admin/agencies/export?format=json');
    expect(rows.map((r) => r.code)).to.deep.equal(json.body.items.map((a) => a.code));
    expect(rows.find((r) => r.code === 'H29.21.01')).to.include({
      legacy_code: '000.01.21.H29',
      status: 'closed',
      successors: 'H29.001',
    });
    expect(json.body.items.length).to.be.greaterThan(15);
  });

  it('closes a unit through the admin API', async () => {
    const r = await call<AgencyJson>(
      admin,
      'POST',
      '/v1/admin/agencies/M41.001/close',
      JSON.stringify({ successors: [], at: '2025-07-01', reason: 'giải thể' }),
      'application/json',
    );
    expect(r.status).to.equal(200);
    expect(r.body).to.include({ status: 'closed' });
    const view = await call<AgencyJson>(dms, 'GET', '/v1/agencies/M41.001');
    expect(view.body.routing).to.include({ outcome: 'refused' });
    expect(view.body.routing!.reason).to.contain('no successor');
  });

  // ---- issue 19 §1: registration keeps the directory clean ----

  interface Refusal {
    code: string;
    message: string;
    messageVi: string;
    details: Record<string, unknown>;
  }
  const post = (path: string, body: Record<string, unknown>) =>
    call<AgencyJson & Refusal & { validFrom?: string }>(
      admin,
      'POST',
      path,
      JSON.stringify(body),
      'application/json',
    );
  const ward = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    block: 'party',
    kind: 'commune-party-committee',
    province: 'H41',
    ...extra,
  });

  it('refuses a wrong kind, a duplicate name and a closed predecessor with stable codes, burning no code', async () => {
    const kind = await post('/v1/admin/agencies', ward('Đảng ủy xã Vinh Kim', { kind: 'Xã' }));
    expect([kind.status, kind.body.code]).to.deep.equal([400, 'VALIDATION_FAILED']);
    const dup = await post('/v1/admin/agencies', ward('dang uy xa DIEN CHAU'));
    expect([dup.status, dup.body.code]).to.deep.equal([409, 'AGENCY_DUPLICATE_NAME']);
    expect(dup.body.details).to.deep.equal({
      parent: 'D41',
      existing: [{ code: 'D41.001', name: 'Đảng ủy xã Diễn Châu' }],
    });
    expect(dup.body.messageVi).to.contain('Đơn vị cùng tên');
    const closed = await post(
      '/v1/admin/agencies',
      ward('Đảng ủy xã Vinh Kim', { predecessors: ['000.02.21.H29'] }),
    );
    expect([closed.status, closed.body.code]).to.deep.equal([409, 'PREDECESSOR_CLOSED']);
    expect(closed.body.details.predecessors).to.deep.equal([
      { code: 'H29.21.02', name: 'UBND phường Đa Kao (cũ)', closedAt: '2025-07-01', successors: ['H29.001'] },
    ]);
    const daKao = await call<AgencyJson>(dms, 'GET', '/v1/agencies/H29.21.02');
    expect(daKao.body.routing).to.include({ outcome: 'rerouted', deliveredTo: 'H29.001' });

    const ok = await post('/v1/admin/agencies', ward('Đảng ủy xã Vinh Kim', { validFrom: '2025-07-01' }));
    expect(ok.status).to.equal(201);
    expect(ok.body.code).to.equal('D41.002'); // no gap: the refusals reserved nothing
    expect(ok.body.validFrom).to.equal('2025-07-01');
    const again = await post('/v1/admin/agencies', ward('Đảng ủy xã Vinh Kim'));
    expect(again.body.details.existing).to.deep.equal([{ code: 'D41.002', name: 'Đảng ủy xã Vinh Kim' }]);
    const distinct = await post(
      '/v1/admin/agencies',
      ward('Đảng ủy xã Vinh Kim', { distinctFrom: ['D41.002'] }),
    );
    expect([distinct.status, distinct.body.code]).to.deep.equal([201, 'D41.003']);
  });

  it('corrects a closed predecessor only on an explicit request, which reroutes documents addressed to it', async () => {
    const r = await post('/v1/admin/agencies', {
      name: 'UBND phường Tân Định mới',
      block: 'state',
      kind: 'commune-people-committee',
      province: 'H29',
      predecessors: ['H29.21.02'],
      predecessorCorrection: { mode: 'replace', reason: 'Đa Kao nhập vào phường Tân Định mới' },
    });
    expect(r.status).to.equal(201);
    const daKao = await call<AgencyJson>(dms, 'GET', '/v1/agencies/000.02.21.H29');
    expect(daKao.body.successors).to.deep.equal([r.body.code]);
    expect(daKao.body.routing).to.include({ outcome: 'rerouted', deliveredTo: r.body.code });
    // Closing it again with other successors is the same correction, refused without it.
    const close = (body: Record<string, unknown>) =>
      call<Refusal & AgencyJson>(
        admin,
        'POST',
        '/v1/admin/agencies/H29.21.02/close',
        JSON.stringify(body),
        'application/json',
      );
    const refused = await close({ successors: ['H29.001'] });
    expect([refused.status, refused.body.code]).to.deep.equal([409, 'PREDECESSOR_CLOSED']);
    const corrected = await close({
      successors: ['H29.001'],
      correction: { mode: 'replace', reason: 'trả về Sài Gòn' },
    });
    expect([corrected.status, corrected.body.successors]).to.deep.equal([200, ['H29.001']]);
  });

  it('lists in the import dry run the rows that duplicate an active unit, with that unit', async () => {
    const csv = 'name,block,kind,province\nUBND PHUONG SAI GON,state,commune-people-committee,H29\n';
    const r = await call<Refusal>(admin, 'POST', '/v1/admin/agencies/import?dryRun=true', csv, 'text/csv');
    expect(r.status).to.equal(400);
    expect(r.body.details.errors).to.deep.equal([
      {
        line: 2,
        code: 'AGENCY_DUPLICATE_NAME',
        reason: (r.body.details.errors as { reason: string }[])[0]!.reason,
        existing: [{ code: 'H29.001', name: 'UBND phường Sài Gòn' }],
      },
    ]);
  });

  it('keeps a date without time the same day in the API and the exports', async () => {
    const bad = await post(
      '/v1/admin/agencies',
      ward('Đảng ủy xã Nam Đàn', { validFrom: '2025-07-01T00:00' }),
    );
    expect(bad.body.code).to.equal('VALIDATION_FAILED'); // no offset: its day would depend on the server's TZ
    const r = await post(
      '/v1/admin/agencies',
      ward('Đảng ủy xã Nam Đàn', { validFrom: '2025-07-01T00:00:00+07:00' }),
    );
    expect(r.body.validFrom).to.equal('2025-07-01');
    const csv = await call<string>(admin, 'GET', '/v1/admin/agencies/export?format=csv');
    const rows = parse<Record<string, string>>(csv.body, { columns: true, bom: true });
    expect(rows.find((x) => x.code === r.body.code)).to.include({ valid_from: '2025-07-01' });
    expect(rows.find((x) => x.code === 'H29.21.01')).to.include({ closed_at: '2025-07-01' });
    const json = await call<{ items: (AgencyJson & { validFrom?: string })[] }>(
      admin,
      'GET',
      '/v1/admin/agencies/export?format=json',
    );
    expect(json.body.items.find((a) => a.code === r.body.code)!.validFrom).to.equal('2025-07-01');
    const view = await call<{ validFrom: string }>(dms, 'GET', `/v1/agencies/${r.body.code}`);
    expect(view.body.validFrom).to.equal('2025-07-01');
  });
});

describe('directory API: push endpoints outside development (issue 19 §2)', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: HubClient;

  before(async () => {
    // What production runs with (config/production.json): no plain http:// endpoints.
    t = await startTestHub('directory-https', { directory: { allowHttpEndpoints: false } });
    admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
  });
  after(async () => {
    await t?.close();
  });

  async function send(method: string, path: string, body: unknown) {
    const res = await admin.request(method, path, JSON.stringify(body), 'application/json');
    return {
      status: res.status,
      body: (await res.json()) as { code?: string; messageVi?: string } & AgencyJson,
    };
  }

  it('refuses an http:// endpoint with ENDPOINT_NOT_HTTPS in registration, update and import; burns no code', async () => {
    const push = (url: string) => ({ mode: 'push', url });
    const unit = {
      name: 'UBND xã Thử Https',
      block: 'state',
      kind: 'commune-people-committee',
      parent: 'H41',
      delivery: push('http://dms.example.vn/inbox'),
    };
    const reg = await send('POST', '/v1/admin/agencies', unit);
    expect([reg.status, reg.body.code]).to.deep.equal([422, 'ENDPOINT_NOT_HTTPS']);
    expect(reg.body.messageVi).to.contain('phải dùng https://');
    const upd = await send('PATCH', '/v1/admin/agencies/H41.001', {
      delivery: push('http://dms.example.vn/in'),
    });
    expect([upd.status, upd.body.code]).to.deep.equal([422, 'ENDPOINT_NOT_HTTPS']);
    const csv =
      'name,block,kind,parent,delivery_mode,delivery_url\n' +
      'UBND xã Thử Nhập,state,commune-people-committee,H41,push,http://dms.example.vn/a\n';
    const res = await admin.request('POST', '/v1/admin/agencies/import', csv, 'text/csv');
    const imp = (await res.json()) as {
      code: string;
      details: { errors: { line: number; code?: string }[] };
    };
    expect([res.status, imp.code]).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(imp.details.errors).to.deep.include({
      line: 2,
      reason: 'delivery URL "http://dms.example.vn/a" must start with https://',
      code: 'ENDPOINT_NOT_HTTPS',
    });
    // Nothing was burnt: the https:// registration gets the code the refused one would have had.
    const next = await t.hub.directory.peekCodes('H41', 1);
    const ok = await send('POST', '/v1/admin/agencies', {
      ...unit,
      delivery: push('https://dms.example.vn/inbox'),
    });
    expect(ok.status).to.equal(201);
    expect(ok.body.code).to.equal(next[0]);
    expect(ok.body.delivery).to.deep.equal({ mode: 'push', url: 'https://dms.example.vn/inbox' });
  });
});
