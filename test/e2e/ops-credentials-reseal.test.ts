/**
 * Rotation of the credentials key (issue 23, docs/deployment.md ## Key rotation): a hub configured
 * with the new key and the old one in credentials.previousKeys authenticates systems whose secrets
 * are still sealed with the old key; `hubctl credentials reseal` re-seals them all (a wrong --from key
 * changes nothing); afterwards the new key alone opens every secret.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHub, type Hub } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { HubClient } from '../../src/sdk/client.ts';
import { SecretBox } from '../../src/store/secret-box.ts';
import { hubctlAsync } from '../support/hubctl.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

describe('ops: credentials key rotation', function () {
  this.timeout(600_000);
  let t: TestHub;
  let rotated: Hub | undefined;
  let dir: string;
  const newKey = `new-credentials-key-${randomBytes(16).toString('hex')}`;

  before(async () => {
    t = await startTestHub('opsreseal');
    dir = mkdtempSync(path.join(os.tmpdir(), 'ops-reseal-'));
  });
  after(async () => {
    await rotated?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const keyFile = (name: string, key: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, `${key}\n`, { mode: 0o600 });
    return f;
  };
  const sealed = async () =>
    (await t.hub.mongo.db!.collection('systems').find({}).toArray()).map((d) => String(d.secretEnc));

  it('accepts both keys during the switch, re-seals every secret, and then needs only the new key', async () => {
    const oldKey = t.hub.config.credentials.key;
    // A process already switched: new key, old one accepted.
    const config = loadConfig(process.env, {
      roles: ['api'],
      http: { port: 0, host: '127.0.0.1', opsPort: 0 },
      amqp: { prefix: t.hub.config.amqp.prefix, shards: 2 },
      credentials: { key: newKey, previousKeys: [oldKey] },
      log: { level: 'silent' },
    });
    rotated = await createHub(config, {
      dbName: t.dbName,
      log: createLogger('silent'),
      defaultMetrics: false,
    });
    const client = new HubClient({
      baseUrl: rotated.url!,
      systemId: 'dms-H29.001',
      secret: 'DEV-ONLY-secret-H29.001',
    });
    await client.inbox(); // authenticated with a secret sealed with the old key

    const before = await sealed();
    const wrong = await hubctlAsync([
      'credentials',
      'reseal',
      '--from-key-file',
      keyFile('wrong', `not-the-key-${randomBytes(16).toString('hex')}`),
      '--to-key-file',
      keyFile('new', newKey),
      '--db',
      t.dbName,
    ]);
    expect(wrong.code).to.equal(3);
    expect(wrong.err).to.contain('CREDENTIALS_KEY_MISMATCH');
    expect(await sealed()).to.deep.equal(before);

    const r = await hubctlAsync([
      '--json',
      'credentials',
      'reseal',
      '--from-key-file',
      keyFile('old', oldKey),
      '--to-key-file',
      keyFile('new', newKey),
      '--db',
      t.dbName,
    ]);
    expect(r.code, r.err).to.equal(0);
    expect(JSON.parse(r.out)).to.deep.equal({
      resealed: before.length,
      alreadyCurrent: 0,
      changedMeanwhile: 0,
    });
    const onlyNew = new SecretBox(newKey);
    const onlyOld = new SecretBox(oldKey);
    for (const s of await sealed()) {
      expect(() => onlyNew.open(s)).not.to.throw();
      expect(() => onlyOld.open(s)).to.throw();
    }
    await client.inbox(); // still authenticated, now with the new key
    const audit = await t.hub.stores.models.Audit.findOne({ action: 'credentials.resealed' }).lean<{
      actor: string;
    }>();
    expect(audit?.actor).to.equal('hubctl:admin');
  });
});
