/** hubctl devpki issue + hubctl certs register|list|unregister against the real store, as child processes. */
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { hubctl } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { HubClient } from '../../src/sdk/client.ts';

describe('hubctl certs and devpki', function () {
  this.timeout(60_000);
  let t: TestHub;
  const dir = mkdtempSync(path.join(tmpdir(), 'devpki-'));

  before(async () => {
    t = await startTestHub('certscli');
  });
  after(async () => {
    await t?.close();
  });

  /** A fresh development certificate of H29.001 (O=H29.001), registered nowhere yet. */
  function issueH29(name = 'UBND phường Sài Gòn (bản khác)'): { file: string; fp: string } {
    const out = mkdtempSync(path.join(tmpdir(), 'devpki-h29-'));
    const r = hubctl(['--json', 'devpki', 'issue', 'H29.001', name, '--out', out]);
    expect(r.code, r.err).to.equal(0);
    const fp = (JSON.parse(r.out) as { fingerprintSha256: string }).fingerprintSha256;
    return { file: path.join(out, 'H29.001.pem'), fp };
  }

  /**
   * One registered to H29.001 for the calling test alone: the tests unregister and re-register
   * theirs, so one shared certificate made them depend on the first having run (shuffled, seed 7).
   */
  function registeredH29(): { file: string; fp: string } {
    const cert = issueH29('UBND phường Sài Gòn (riêng)');
    const reg = hubctl(['certs', 'register', 'H29.001', cert.file, '--db', t.dbName]);
    expect(reg.code, reg.err).to.equal(0);
    return cert;
  }

  it('issues a development certificate and registers it to an agency', () => {
    const issued = hubctl([
      '--json',
      'devpki',
      'issue',
      'H29.001',
      'UBND phường Sài Gòn (gia hạn)',
      '--out',
      dir,
    ]);
    expect(issued.code, issued.err).to.equal(0);
    const fp = (JSON.parse(issued.out) as { fingerprintSha256: string }).fingerprintSha256;
    const reg = hubctl([
      '--json',
      'certs',
      'register',
      'H29.001',
      path.join(dir, 'H29.001.pem'),
      '--db',
      t.dbName,
    ]);
    expect(reg.code, reg.err).to.equal(0);
    expect(JSON.parse(reg.out)).to.include({ agency: 'H29.001', fingerprintSha256: fp });
    const list = hubctl(['--json', 'certs', 'list', 'H29.001', '--db', t.dbName]);
    expect(
      (JSON.parse(list.out) as { fingerprintSha256: string }[]).map((c) => c.fingerprintSha256),
    ).to.include(fp);
  });

  it('refuses registering the same certificate twice, or to another agency (exit code 3)', () => {
    const { file } = registeredH29();
    const again = hubctl(['certs', 'register', 'H29.001', file, '--db', t.dbName]);
    expect(again.code).to.equal(3);
    expect(again.err).to.contain('CONFLICT');
    const other = hubctl(['certs', 'register', 'H41.001', file, '--db', t.dbName]);
    expect(other.code).to.equal(3);
    expect(other.err).to.contain('already registered to H29.001');
  });

  it('refuses an expired certificate with the validation code', () => {
    const r = hubctl([
      'certs',
      'register',
      'H29.001',
      path.join(PROJECT_ROOT, 'certs-dev/test/expired-H29.001.pem'),
      '--db',
      t.dbName,
    ]);
    expect(r.code).to.equal(3);
    expect(r.err).to.contain('CERT_EXPIRED');
  });

  it('unregisters, keeping the record', () => {
    const { fp } = registeredH29();
    const r = hubctl(['certs', 'unregister', 'H29.001', fp, '--db', t.dbName]);
    expect(r.code, r.err).to.equal(0);
    const list = JSON.parse(hubctl(['--json', 'certs', 'list', 'H29.001', '--db', t.dbName]).out) as {
      fingerprintSha256: string;
      revokedAt?: string;
    }[];
    expect(list.find((c) => c.fingerprintSha256 === fp)?.revokedAt).to.be.a('string');
  });

  it('registers through the admin API for admin systems only', async () => {
    const issued = hubctl([
      '--json',
      'devpki',
      'issue',
      'H41.001',
      'UBND xã Diễn Châu (gia hạn)',
      '--out',
      dir,
    ]);
    const pem = readFileSync(path.join(dir, 'H41.001.pem'), 'utf8');
    const admin = new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
    const denied = await t
      .client('H41.001')
      .request('POST', '/v1/admin/agencies/H41.001/certificates', pem, 'application/x-pem-file');
    expect(denied.status).to.equal(403);
    const ok = await admin.request(
      'POST',
      '/v1/admin/agencies/H41.001/certificates',
      pem,
      'application/x-pem-file',
    );
    expect(ok.status).to.equal(201);
    const body = (await ok.json()) as { fingerprintSha256: string };
    expect(body.fingerprintSha256).to.equal(
      (JSON.parse(issued.out) as { fingerprintSha256: string }).fingerprintSha256,
    );
  });

  describe('a certificate whose subject names another agency', () => {
    const admin = () =>
      new HubClient({ baseUrl: t.url, systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' });
    const overrides = async () =>
      (
        await t.hub.stores.models.Audit.find({ action: 'certificate.registered', subject: 'H41.001' }).lean<
          { actor: string; data: { subjectOverride?: { named: string[]; reason: string } } }[]
        >()
      ).filter((a) => a.data.subjectOverride);

    it('is refused with CERT_SUBJECT_MISMATCH by the CLI and the API, leaving nothing registered', async () => {
      const { file, fp } = issueH29();
      const cli = hubctl(['certs', 'register', 'H41.001', file, '--db', t.dbName]);
      expect(cli.code).to.equal(3);
      expect(cli.err).to.contain('CERT_SUBJECT_MISMATCH');
      const api = await admin().request(
        'POST',
        '/v1/admin/agencies/H41.001/certificates',
        readFileSync(file, 'utf8'),
        'application/x-pem-file',
      );
      expect(api.status).to.equal(422);
      expect(await api.json()).to.deep.include({ code: 'CERT_SUBJECT_MISMATCH' });
      // This certificate only: the override tests register other H29.001 certificates to H41.001.
      const list = JSON.parse(hubctl(['--json', 'certs', 'list', 'H41.001', '--db', t.dbName]).out) as {
        fingerprintSha256: string;
      }[];
      expect(list.filter((c) => c.fingerprintSha256 === fp)).to.have.length(0);
    });

    it('is registered with an explicit override through the API (?forceSubject=<reason>)', async () => {
      const reason = 'Registered on purpose during the merger';
      const ok = await admin().request(
        'POST',
        `/v1/admin/agencies/H41.001/certificates?forceSubject=${encodeURIComponent(reason)}`,
        readFileSync(issueH29().file, 'utf8'),
        'application/x-pem-file',
      );
      expect(ok.status).to.equal(201);
      expect((await overrides()).map((a) => a.data.subjectOverride!.reason)).to.include(reason);
    });
    it('is registered with an explicit override, whose reason is audited (CLI --force-subject)', async () => {
      const reason = 'Cơ quan dùng chung chứng thư trong thời gian sáp nhập';
      const r = hubctl([
        '--json',
        'certs',
        'register',
        'H41.001',
        issueH29().file,
        '--force-subject',
        reason,
        '--db',
        t.dbName,
      ]);
      expect(r.code, r.err).to.equal(0);
      expect(JSON.parse(r.out)).to.include({ agency: 'H41.001' });
      expect((await overrides()).map((a) => a.data.subjectOverride)).to.deep.include({
        named: ['H29.001'],
        reason,
      });
    });
  });
});
