/**
 * Agency-system credentials: `hubctl systems add|rotate|disable|enable|list` as a child process
 * against the store of a running hub, and the admin API /v1/admin/systems. A credential works on
 * the national-axis API (/vdxp) and on /v1; rotation and disabling take effect on the next request
 * (with the credential cache off; with it on, see the last suite); the secret is printed once, stored
 * sealed, and never listed or audited.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { hubctlAsync } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { VdxpSdkClient } from '../support/vdxp-sdk.ts';
import { HubClient, type HubApiError } from '../../src/sdk/client.ts';

type Issued = {
  systemId: string;
  secret: string;
  agencyCodes: string[];
  rights: string[];
  active: boolean;
};

/** hubctl on the hub's store, and a request's outcome on /vdxp and /v1 with a system's secret. */
function callsTo(hub: () => TestHub) {
  return {
    ctl: (...args: string[]) => hubctlAsync([...args, '--db', hub().dbName]),
    vdxpStatus: async (systemId: string, s: string) =>
      (await new VdxpSdkClient(`${hub().url}/vdxp`, systemId, s).countReceiveEdoc()).json<{
        status: string;
        ErrorCode: string;
      }>(),
    v1Status: async (systemId: string, s: string) => {
      try {
        await new HubClient({ baseUrl: hub().url, systemId, secret: s }).inbox();
        return 200;
      } catch (err) {
        return (err as HubApiError).status;
      }
    },
  };
}

describe('hubctl systems and /v1/admin/systems: credentials of agency systems', function () {
  this.timeout(120_000);
  let t: TestHub;

  before(async () => {
    // Changes by another process (hubctl) take effect at once only without the credential cache.
    t = await startTestHub('systemscli', { auth: { credentialCacheMs: 0 } });
  });
  after(async () => {
    await t?.close();
  });

  const { ctl, vdxpStatus, v1Status } = callsTo(() => t);

  /**
   * A system of the calling test's own, added by hubctl: the tests rotate, disable and count the
   * audit of their system, so one shared system made each depend on the others (shuffled, seed 7).
   */
  const issue = async (prefix: string): Promise<Issued> => {
    const id = `${prefix}-${randomBytes(3).toString('hex')}`;
    const r = await ctl('--json', 'systems', 'add', id, '--agency', 'H29.001', 'D29.001');
    expect(r.code, r.err).to.equal(0);
    return JSON.parse(r.out) as Issued;
  };

  it('add: issues a secret once, for existing agencies; it works on /vdxp and /v1', async () => {
    const r = await ctl('--json', 'systems', 'add', '000.00.00.H29', '--agency', 'H29.001', 'D29.001');
    expect(r.code, r.err).to.equal(0);
    const issued = JSON.parse(r.out) as Issued;
    expect(issued).to.deep.include({
      systemId: '000.00.00.H29',
      agencyCodes: ['H29.001', 'D29.001'],
      rights: ['send'],
      active: true,
    });
    expect(issued.secret).to.match(/^[A-Za-z0-9_-]{43}$/);
    const secret = issued.secret;
    expect(await vdxpStatus('000.00.00.H29', secret)).to.include({ status: 'OK', ErrorCode: '0' });
    expect(await v1Status('000.00.00.H29', secret)).to.equal(200);
    // Sealed at rest: the stored record does not contain the secret.
    const raw = await t.hub.mongo.db!.collection('systems').findOne({ _id: '000.00.00.H29' as never });
    expect(JSON.stringify(raw)).to.not.contain(secret);
    expect(raw).to.have.property('secretEnc').that.matches(/^v1\./);
  });

  it('add: prints the secret once in text mode; refuses duplicates and unknown or closed agencies (exit 3)', async () => {
    const text = await ctl('systems', 'add', 'dms-text', '--agency', 'H41.001', '--admin');
    expect(text.code, text.err).to.equal(0);
    expect(text.out).to.match(/^secret: [A-Za-z0-9_-]{43}$/m);
    expect(text.out).to.contain('shown only once');
    expect(text.out).to.contain('send, admin');
    const again = await ctl('systems', 'add', 'dms-H29.001', '--agency', 'H29.001'); // the seed's
    expect(again.code).to.equal(3);
    expect(again.err).to.contain('CONFLICT');
    const unknown = await ctl('systems', 'add', 'dms-x', '--agency', 'H99.999');
    expect(unknown.code).to.equal(3);
    expect(unknown.err).to.contain('VALIDATION_FAILED').and.contain('H99.999');
    const closed = await ctl('systems', 'add', 'dms-y', '--agency', '000.01.21.H29');
    expect(closed.code).to.equal(3);
    expect(closed.err).to.contain('closed').and.contain('H29.001');
    const none = await ctl('systems', 'add', 'dms-z');
    expect(none.code).to.equal(3);
  });

  it('list: systems with agencies, rights and state, never a secret', async () => {
    const { systemId, secret } = await issue('dms-list');
    const r = await ctl('--json', 'systems', 'list');
    expect(r.code, r.err).to.equal(0);
    const rows = JSON.parse(r.out) as Issued[];
    const row = rows.find((x) => x.systemId === systemId)!;
    expect(row).to.deep.include({ agencyCodes: ['H29.001', 'D29.001'], active: true });
    expect(rows.map((x) => x.systemId)).to.include.members(['dms-H29.001', 'hub-admin']);
    expect(r.out).to.not.contain(secret);
    expect(r.out).to.not.match(/secret/i);
  });

  it('rotate: a new secret; the old one stops working at once', async () => {
    const { systemId, secret } = await issue('dms-rotate');
    const r = await ctl('--json', 'systems', 'rotate', systemId);
    expect(r.code, r.err).to.equal(0);
    const rotated = JSON.parse(r.out) as Issued;
    expect(rotated.secret).to.not.equal(secret);
    expect(await vdxpStatus(systemId, secret)).to.include({ status: 'FAIL', ErrorCode: '401' });
    expect(await v1Status(systemId, secret)).to.equal(401);
    expect(await vdxpStatus(systemId, rotated.secret)).to.include({ status: 'OK' });
    expect((await ctl('systems', 'rotate', 'dms-nobody')).code).to.equal(3);
  });

  it('disable and enable: requests refused while disabled, accepted again after', async () => {
    const { systemId, secret } = await issue('dms-disable');
    const d = await ctl('--json', 'systems', 'disable', systemId);
    expect(d.code, d.err).to.equal(0);
    expect(JSON.parse(d.out)).to.include({ active: false });
    expect(await vdxpStatus(systemId, secret)).to.include({ status: 'FAIL', ErrorCode: '401' });
    expect(await v1Status(systemId, secret)).to.equal(401);
    const list = await ctl('systems', 'list');
    expect(list.out).to.match(new RegExp(`${systemId}\\s+DISABLED`));
    const e = await ctl('systems', 'enable', systemId);
    expect(e.code, e.err).to.equal(0);
    expect(await vdxpStatus(systemId, secret)).to.include({ status: 'OK' });
  });

  it('every change is audited, without the secret', async () => {
    const { systemId } = await issue('dms-audit');
    const rotated = await ctl('--json', 'systems', 'rotate', systemId);
    expect(rotated.code, rotated.err).to.equal(0);
    const secret = (JSON.parse(rotated.out) as Issued).secret;
    for (const step of ['disable', 'enable']) expect((await ctl('systems', step, systemId)).code).to.equal(0);
    const entries = await t.hub.stores.models.Audit.find({ subject: systemId })
      .sort({ _id: 1 })
      .lean<{ action: string; actor: string }[]>();
    expect(entries.map((x) => x.action)).to.deep.equal([
      'system.added',
      'system.rotated',
      'system.disabled',
      'system.enabled',
    ]);
    expect(entries.every((x) => x.actor.startsWith('hubctl:'))).to.equal(true);
    expect(JSON.stringify(entries)).to.not.contain(secret);
    expect((await t.hub.stores.audit.verify()).ok).to.equal(true);
  });

  it('the admin API /v1/admin/systems does the same, for systems with the admin right only', async () => {
    const admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
    const post = async (c: HubClient, path: string, body?: unknown) => {
      const res = await c.request(
        'POST',
        path,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? undefined : 'application/json',
      );
      return {
        status: res.status,
        cache: res.headers.get('cache-control'),
        body: (await res.json()) as Record<string, unknown>,
      };
    };
    const created = await post(admin, '/v1/admin/systems', { systemId: 'dms-api', agencyCodes: ['H41.001'] });
    expect(created.status).to.equal(201);
    expect(created.cache).to.equal('no-store');
    const s1 = created.body.secret as string;
    expect(await vdxpStatus('dms-api', s1)).to.include({ status: 'OK' });
    const rotated = await post(admin, '/v1/admin/systems/dms-api/rotate');
    expect(rotated.status).to.equal(200);
    const s2 = rotated.body.secret as string;
    expect(s2).to.not.equal(s1);
    expect(await vdxpStatus('dms-api', s1)).to.include({ status: 'FAIL' });
    expect((await post(admin, '/v1/admin/systems/dms-api/disable')).body).to.include({ active: false });
    expect(await vdxpStatus('dms-api', s2)).to.include({ status: 'FAIL', ErrorCode: '401' });
    expect((await post(admin, '/v1/admin/systems/dms-api/enable')).body).to.include({ active: true });
    expect(await vdxpStatus('dms-api', s2)).to.include({ status: 'OK' });
    const list = await admin.request('GET', '/v1/admin/systems');
    const text = await list.text();
    expect(list.status).to.equal(200);
    expect(text).to.contain('dms-api').and.not.contain(s2);
    // Refusals: a system without the admin right, disabling oneself, bad input.
    const agency = t.client('H29.001');
    expect(
      (await post(agency, '/v1/admin/systems', { systemId: 'x', agencyCodes: ['H29.001'] })).status,
    ).to.equal(403);
    expect((await post(admin, '/v1/admin/systems/hub-admin/disable')).status).to.equal(409);
    const bad = await post(admin, '/v1/admin/systems', {
      systemId: 'bad id with spaces',
      agencyCodes: ['H29.001'],
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.code).to.equal('VALIDATION_FAILED');
    expect((await post(admin, '/v1/admin/systems/nobody/rotate')).status).to.equal(404);
  });
});

describe('credential cache (auth.credentialCacheMs): changes elsewhere and here', function () {
  this.timeout(120_000);
  let t: TestHub;
  before(async () => {
    // A long TTL: nothing in this suite may depend on an entry expiring.
    t = await startTestHub('credcache', { auth: { credentialCacheMs: 600_000 } });
  });
  after(async () => {
    await t?.close();
  });
  const { ctl, vdxpStatus, v1Status } = callsTo(() => t);

  it('a secret rotated by another process works at once; the old one is refused after it', async () => {
    const added = await ctl('--json', 'systems', 'add', 'dms-cached', '--agency', 'H29.001');
    expect(added.code, added.err).to.equal(0);
    const old = (JSON.parse(added.out) as Issued).secret;
    expect(await v1Status('dms-cached', old)).to.equal(200); // now cached
    expect(await vdxpStatus('dms-cached', old)).to.include({ status: 'OK' });
    const r = await ctl('--json', 'systems', 'rotate', 'dms-cached');
    expect(r.code, r.err).to.equal(0);
    const fresh = (JSON.parse(r.out) as Issued).secret;
    expect(await v1Status('dms-cached', fresh)).to.equal(200);
    expect(await vdxpStatus('dms-cached', fresh)).to.include({ status: 'OK' });
    expect(await v1Status('dms-cached', old)).to.equal(401);
    expect(await vdxpStatus('dms-cached', old)).to.include({ status: 'FAIL' });
  });

  it('a system disabled through this process is refused at once, re-enabled accepted at once', async () => {
    const admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
    const added = await admin.request(
      'POST',
      '/v1/admin/systems',
      JSON.stringify({ systemId: 'dms-cached2', agencyCodes: ['H29.001'] }),
      'application/json',
    );
    const secret = ((await added.json()) as Issued).secret;
    expect(await v1Status('dms-cached2', secret)).to.equal(200); // now cached
    expect((await admin.request('POST', '/v1/admin/systems/dms-cached2/disable')).status).to.equal(200);
    expect(await v1Status('dms-cached2', secret)).to.equal(401);
    expect(await vdxpStatus('dms-cached2', secret)).to.include({ status: 'FAIL' });
    // Re-enabled by another process: a refusal reads the store again, so it works at once too.
    expect((await ctl('systems', 'enable', 'dms-cached2')).code).to.equal(0);
    expect(await v1Status('dms-cached2', secret)).to.equal(200);
  });
});
