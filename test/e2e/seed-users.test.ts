/**
 * A development users seed that does not fit the hub's directory stops the start with an error that
 * names the seed file and the account (found by a three-process federation test, where each hub serves
 * part of the directory and the default seed names clerks of agencies it does not have).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createHub } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { HubError } from '../../src/domain/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { purgeByName } from '../support/hub.ts';

describe('development users seed (e2e)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'seed-users-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file and the account when a seeded clerk’s agency is not in the directory', async () => {
    const file = path.join(dir, 'users.json');
    writeFileSync(
      file,
      JSON.stringify({
        users: [
          {
            username: 'clerk-zz',
            role: 'clerk',
            displayName: 'Văn thư (dev)',
            password: 'DEV-ONLY-clerk-password-zz',
            agencies: ['ZZ99.001'],
          },
        ],
      }),
    );
    const suffix = randomBytes(4).toString('hex');
    const dbName = `t_seedusers_${suffix}`;
    const config = loadConfig(process.env, {
      amqp: { prefix: `t.seedusers${suffix}`, shards: 1 },
      http: { port: 0, host: '127.0.0.1', opsPort: 0 },
      seed: { usersFile: file },
      log: { level: 'silent' },
    });
    let failed: unknown = null;
    try {
      const hub = await createHub(config, { dbName, log: createLogger('silent'), defaultMetrics: false });
      await hub.stop();
    } catch (err) {
      failed = err;
    } finally {
      await purgeByName({ uri: config.mongodb.uri, dbName, prefix: config.amqp.prefix, shards: 1 });
    }
    expect(failed, 'the hub must not start').to.be.instanceOf(HubError);
    const e = failed as HubError;
    expect(e.message).to.contain(`seed.usersFile ${file}`);
    expect(e.message).to.contain('seed account clerk-zz');
    expect(e.message).to.contain('ZZ99.001');
  });
});
