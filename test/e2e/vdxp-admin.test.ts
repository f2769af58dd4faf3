/**
 * registerAgency / deleteAgency on the national-axis API (issue 18 §5): the axis signs no body and
 * the SDK fixes its timestamp at construction, so headers captured once replay forever with any
 * body. The hub refuses both operations unless `vdxp.adminOperations` enables them, and then only
 * for the listed systems from the listed addresses. A refusal changes nothing and is audited.
 */
import { expect } from 'chai';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { VdxpSdkClient, type SdkResponse } from '../support/vdxp-sdk.ts';

type Envelope = { status: string; ErrorCode: string; ErrorDesc: string; AgencyCode?: string };

function envelope(r: SdkResponse): Envelope {
  expect(r.httpStatus).to.equal(200); // the axis protocol answers every refusal 200 + FAIL (§4)
  const e = r.json<Envelope>();
  expect(e).to.include.keys('status', 'ErrorCode', 'ErrorDesc');
  return e;
}

function refused(r: SdkResponse, hubCode: string): Envelope {
  const e = envelope(r);
  expect(e, JSON.stringify(e)).to.include({ status: 'FAIL', ErrorCode: '403' });
  expect(e.ErrorDesc).to.contain(`[${hubCode}]`);
  return e;
}

const REGISTER_BODY = '{"id":"","pcode":"H41","code":"","name":"UBND xã Phát Lại"}';

async function directorySnapshot(t: TestHub) {
  const agencies = await t.hub.stores.models.Agency.find({}, { _id: 1, status: 1 })
    .sort({ _id: 1 })
    .lean<{ _id: string; status: string }[]>();
  return agencies.map((a) => `${a._id}:${a.status}`);
}

async function refusalsAudited(t: TestHub) {
  return t.hub.stores.models.Audit.find({ action: 'vdxp.admin.refused' })
    .sort({ _id: 1 })
    .lean<{ actor: string; subject: string; data: { code: string; address: string } }[]>();
}

/** The refusals audited while `fn` runs (each test counts its own, whatever ran before it). */
async function refusalsAuditedBy(t: TestHub, fn: () => Promise<unknown>) {
  const before = (await refusalsAudited(t)).length;
  await fn();
  return (await refusalsAudited(t)).slice(before);
}

describe('national-axis API (/vdxp): registerAgency and deleteAgency by default', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: VdxpSdkClient;

  before(async () => {
    t = await startTestHub('vdxpadminoff');
    admin = new VdxpSdkClient(`${t.url}/vdxp`, 'hub-admin', 'DEV-ONLY-secret-admin');
  });
  after(async () => {
    await t?.close();
  });

  it('refuses both to an admin system with VDXP_ADMIN_DISABLED and leaves the directory unchanged', async () => {
    const before = await directorySnapshot(t);
    refused(await admin.registerAgency('{}', REGISTER_BODY), 'VDXP_ADMIN_DISABLED');
    refused(await admin.deleteAgency('{"AgencyCode":"H41.001"}'), 'VDXP_ADMIN_DISABLED');
    // The unsigned body is not even read: an invalid one gets the same refusal, not a 400.
    refused(await admin.registerAgency('{}', 'not json'), 'VDXP_ADMIN_DISABLED');
    expect(await directorySnapshot(t)).to.deep.equal(before);
    expect((await t.hub.directory.get('H41.001')).agency.status).to.equal('active');
  });

  it('records every refusal in the audit chain with the system and the source address', async () => {
    const entries = await refusalsAuditedBy(t, async () => {
      await admin.registerAgency('{}', REGISTER_BODY);
      await admin.deleteAgency('{"AgencyCode":"H41.001"}');
      await admin.registerAgency('{}', 'not json');
    });
    expect(entries.map((e) => [e.actor, e.subject, e.data.code, e.data.address])).to.deep.equal([
      ['hub-admin', 'registerAgency', 'VDXP_ADMIN_DISABLED', '127.0.0.1'],
      ['hub-admin', 'deleteAgency', 'VDXP_ADMIN_DISABLED', '127.0.0.1'],
      ['hub-admin', 'registerAgency', 'VDXP_ADMIN_DISABLED', '127.0.0.1'],
    ]);
    expect((await t.hub.stores.audit.verify()).ok).to.equal(true);
  });

  it('still answers a wrong secret as unauthenticated, before any admin check', async () => {
    const bad = new VdxpSdkClient(`${t.url}/vdxp`, 'hub-admin', 'not-the-secret');
    const audited = await refusalsAuditedBy(t, async () => {
      const e = envelope(await bad.deleteAgency('{"AgencyCode":"H41.001"}'));
      expect(e).to.include({ status: 'FAIL', ErrorCode: '401' });
    });
    expect(audited, 'no admin refusal audited').to.have.length(0);
  });
});

describe('national-axis API (/vdxp): registerAgency and deleteAgency enabled for one system and address', function () {
  this.timeout(60_000);
  let t: TestHub;
  let endpoint: string;
  let admin: VdxpSdkClient;
  let otherAdmin: VdxpSdkClient;

  before(async () => {
    t = await startTestHub('vdxpadminon', {
      vdxp: {
        adminOperations: {
          enabled: true,
          allowedSystems: ['hub-admin'],
          allowedAddresses: ['127.0.0.1', '10.0.0.0/8'],
        },
      },
    });
    endpoint = `${t.url}/vdxp`;
    admin = new VdxpSdkClient(endpoint, 'hub-admin', 'DEV-ONLY-secret-admin');
    // A second system with the 'admin' right, not listed in allowedSystems.
    const other = await t.hub.systems.add('test', {
      systemId: 'ops-admin-2',
      agencyCodes: [],
      rights: ['admin'],
    });
    otherAdmin = new VdxpSdkClient(endpoint, other.systemId, other.secret);
  });
  after(async () => {
    await t?.close();
  });

  it('lets the listed system from the listed address register and close a unit', async () => {
    const reg = envelope(await admin.registerAgency('{}', REGISTER_BODY));
    expect(reg, JSON.stringify(reg)).to.include({ status: 'OK', ErrorCode: '0' });
    const code = reg.AgencyCode!;
    expect((await t.hub.directory.get(code)).agency.status).to.equal('active');
    const del = envelope(await admin.deleteAgency(`{"AgencyCode":"${code}"}`));
    expect(del).to.include({ status: 'OK', ErrorCode: '0' });
    expect((await t.hub.directory.get(code)).agency.status).to.equal('closed');
  });

  it('refuses another admin system with VDXP_ADMIN_NOT_ALLOWED and changes nothing', async () => {
    const before = await directorySnapshot(t);
    refused(await otherAdmin.registerAgency('{}', REGISTER_BODY), 'VDXP_ADMIN_NOT_ALLOWED');
    refused(await otherAdmin.deleteAgency('{"AgencyCode":"H41.001"}'), 'VDXP_ADMIN_NOT_ALLOWED');
    expect(await directorySnapshot(t)).to.deep.equal(before);
  });

  it('refuses the listed system calling from an address not listed (127.0.0.2) and changes nothing', async () => {
    const before = await directorySnapshot(t);
    const elsewhere = new VdxpSdkClient(endpoint, 'hub-admin', 'DEV-ONLY-secret-admin');
    elsewhere.localAddress = '127.0.0.2';
    const e = refused(await elsewhere.deleteAgency('{"AgencyCode":"H41.001"}'), 'VDXP_ADMIN_NOT_ALLOWED');
    expect(e.ErrorDesc).to.contain('127.0.0.2');
    refused(
      await elsewhere.registerAgency('{}', '{"pcode":"H41","name":"UBND xã Khác"}'),
      'VDXP_ADMIN_NOT_ALLOWED',
    );
    expect(await directorySnapshot(t)).to.deep.equal(before);
    expect((await t.hub.directory.get('H41.001')).agency.status).to.equal('active');
  });

  it('audits those refusals, naming the system and the address', async () => {
    const elsewhere = new VdxpSdkClient(endpoint, 'hub-admin', 'DEV-ONLY-secret-admin');
    elsewhere.localAddress = '127.0.0.2';
    const entries = await refusalsAuditedBy(t, async () => {
      await otherAdmin.registerAgency('{}', REGISTER_BODY);
      await otherAdmin.deleteAgency('{"AgencyCode":"H41.001"}');
      await elsewhere.deleteAgency('{"AgencyCode":"H41.001"}');
      await elsewhere.registerAgency('{}', '{"pcode":"H41","name":"UBND xã Khác"}');
    });
    expect(entries.map((e) => [e.actor, e.subject, e.data.address])).to.deep.equal([
      ['ops-admin-2', 'registerAgency', '127.0.0.1'],
      ['ops-admin-2', 'deleteAgency', '127.0.0.1'],
      ['hub-admin', 'deleteAgency', '127.0.0.2'],
      ['hub-admin', 'registerAgency', '127.0.0.2'],
    ]);
    expect(entries.every((e) => e.data.code === 'VDXP_ADMIN_NOT_ALLOWED')).to.equal(true);
  });
});
