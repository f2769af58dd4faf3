/**
 * `node src/main.ts` with config/production.json (issue 23): each unsafe start stops with exit code 78
 * and a message naming the setting; file and configuration errors come before any connection (the
 * refused runs point at closed ports, which a connection attempt would report instead). Then one
 * successful production start with its own PKI in a temp directory, on the local FerretDB and
 * RabbitMQ (unique database and prefix), ports from the kernel; SIGTERM drains (503 `draining` on
 * /readyz while requests are still served), then the process exits 0.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { loadConfig, PROJECT_ROOT } from '../../src/config.ts';
import { createRootCa, generateKeys, issueHubCertificate, privateKeyPem } from '../../src/crypto/dev-pki.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { SecretBox } from '../../src/store/secret-box.ts';
import { eventually, purgeByName } from '../support/hub.ts';

const CLOSED = { MONGODB_URI: 'mongodb://127.0.0.1:1/never', AMQP_URL: 'amqp://hub:pw@127.0.0.1:1' };
const EXIT_REFUSED = 78;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function start(env: Record<string, string | undefined>): {
  child: ChildProcess;
  done: Promise<Run>;
  out: () => string;
} {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: Object.fromEntries<string | undefined>(Object.entries(env).filter(([, v]) => v !== undefined)),
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, out, err });
    }),
  );
  return { child, done, out: () => out };
}

describe('production start (node src/main.ts, config/production.json)', function () {
  this.timeout(300_000);
  const suffix = randomBytes(4).toString('hex');
  const dbName = `t_startup_prod_${suffix}`;
  const prefix = `t.startupprod${suffix}`;
  const uri = `${loadConfig({}).mongodb.uri.replace(/\/[^/]*$/, '')}/${dbName}`;
  let dir: string;
  let env: Record<string, string | undefined>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'startup-prod-'));
    mkdirSync(path.join(dir, 'trust'));
    const root = await createRootCa('CN=Startup Test Root, O=vn-dochub tests, C=VN');
    const hub = await issueHubCertificate({
      issuer: root,
      subject: 'CN=Startup Test Hub, O=vn-dochub tests, C=VN',
    });
    writeFileSync(path.join(dir, 'trust', 'root.pem'), root.cert.toString('pem'));
    writeFileSync(path.join(dir, 'hub.pem'), hub.cert.toString('pem'));
    writeFileSync(path.join(dir, 'hub.key.pem'), await privateKeyPem(hub.keys.privateKey));
    writeFileSync(path.join(dir, 'other.key.pem'), await privateKeyPem((await generateKeys()).privateKey));
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HUB_CONFIG: path.join(PROJECT_ROOT, 'config/production.json'),
      CREDENTIALS_KEY: randomBytes(32).toString('base64'),
      MONGODB_URI: uri,
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      AMQP_PREFIX: prefix,
      AMQP_SHARDS: '2',
      HUB_PINS: new X509Certificate(hub.cert.toString('pem')).fingerprint256,
      TRUST_DIR: path.join(dir, 'trust'),
      HUB_CERT: path.join(dir, 'hub.pem'),
      HUB_KEY: path.join(dir, 'hub.key.pem'),
      PORT: '0',
      OPS_PORT: '0',
      VERIFY_WORKERS: '0',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_MS: '0',
    };
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await purgeByName({ uri, prefix, shards: 2 });
  });

  const refused = async (over: Record<string, string | undefined>, ...patterns: RegExp[]) => {
    const r = await start({ ...env, ...CLOSED, ...over }).done;
    expect(r.code, r.err).to.equal(EXIT_REFUSED);
    expect(r.err).to.match(/^START_REFUSED: /m);
    for (const p of patterns) expect(r.err).to.match(p);
    expect(r.err, 'refused before connecting').not.to.match(/RabbitMQ|ECONNREFUSED|MongoServerSelection/);
    expect(r.out).not.to.contain('Hub ready');
  };

  it('refuses without MONGODB_URI and AMQP_URL, which production.json says come from the environment', async () => {
    await refused(
      { MONGODB_URI: undefined, AMQP_URL: undefined },
      /MONGODB_URI \(mongodb\.uri\) must be set in the environment: .*production\.json lists it/,
      /AMQP_URL \(amqp\.urls\) must be set in the environment/,
    );
  });

  it('refuses the development credentials key, a blank one and the development trust directory', async () => {
    const devKey = loadConfig({}).credentials.key;
    await refused(
      { CREDENTIALS_KEY: devKey },
      /credentials\.key \(CREDENTIALS_KEY\) .*: the development key/,
    );
    // Several problems: all named in one refusal.
    await refused(
      { CREDENTIALS_KEY: ' '.repeat(32), TRUST_DIR: path.join(PROJECT_ROOT, 'certs-dev') },
      /credentials\.key \(CREDENTIALS_KEY\) .*too short/,
      /pki\.trustDir \(TRUST_DIR\) from environment TRUST_DIR: .*certs-dev is the development PKI/,
    );
  });

  it('refuses the development PKI by content, wherever it was copied', async () => {
    const copy = path.join(dir, 'copied');
    mkdirSync(path.join(copy, 'trust'), { recursive: true });
    for (const f of ['hub.pem', 'hub.key.pem'])
      copyFileSync(path.join(PROJECT_ROOT, 'certs-dev', f), path.join(copy, f));
    copyFileSync(path.join(PROJECT_ROOT, 'certs-dev/root-ca.pem'), path.join(copy, 'trust', 'root.pem'));
    await refused(
      {
        HUB_CERT: path.join(copy, 'hub.pem'),
        HUB_KEY: path.join(copy, 'hub.key.pem'),
        TRUST_DIR: path.join(copy, 'trust'),
        HUB_PINS: loadConfig({}).pki.hubPins.join(','),
      },
      /pki\.hubKey \(HUB_KEY\): .*copied\/hub\.key\.pem is a development key \(that of .*certs-dev\/hub\.pem\)/,
      /pki\.trustDir \(TRUST_DIR\): .*copied\/trust\/root\.pem is the development certificate .*certs-dev\/root-ca\.pem/,
    );
  });

  it('refuses a hub key that does not match its certificate, and files it cannot read', async () => {
    await refused(
      { HUB_KEY: path.join(dir, 'other.key.pem') },
      /pki\.hubKey \(HUB_KEY\): .*other\.key\.pem does not match pki\.hubCert \(HUB_CERT\) .*hub\.pem/,
    );
    await refused(
      { HUB_CERT: path.join(dir, 'missing.pem') },
      /pki\.hubCert \(HUB_CERT\): cannot read .*missing\.pem: ENOENT/,
    );
  });

  it('refuses an unknown key of the configuration file by its path', async () => {
    const file = path.join(dir, 'typo.json');
    const production = JSON.parse(
      readFileSync(path.join(PROJECT_ROOT, 'config/production.json'), 'utf8'),
    ) as {
      pki: Record<string, unknown>;
    };
    writeFileSync(file, JSON.stringify({ ...production, pki: { ...production.pki, revokation: 'off' } }));
    await refused(
      { HUB_CONFIG: file },
      /pki\.revokation: unknown key in .*typo\.json \(did you mean pki\.revocation\?\)/,
    );
  });

  it('refuses a credentials key that cannot open the stored secrets (checked after connecting)', async () => {
    const conn = await mongoose.createConnection(uri).asPromise();
    try {
      const sealed = new SecretBox(randomBytes(32).toString('base64')).seal('secret-of-another-key');
      await conn.db!.collection<{ _id: string; [k: string]: unknown }>('systems').insertOne({
        _id: 'dms-sealed-elsewhere',
        secretEnc: sealed,
        agencyCodes: [],
        rights: ['send'],
        active: true,
        createdAt: new Date(),
      });
      const r = await start(env).done;
      expect(r.code, r.err).to.equal(EXIT_REFUSED);
      expect(r.err).to.match(
        /credentials\.key \(CREDENTIALS_KEY\): cannot open the stored secret of system dms-sealed-elsewhere/,
      );
    } finally {
      await conn.db!.collection<{ _id: string }>('systems').deleteOne({ _id: 'dms-sealed-elsewhere' });
      await conn.close();
    }
  });

  /** `hubctl migrate` with the production configuration of these tests (a deployment step). */
  const migrate = (over: Record<string, string | undefined> = {}) => {
    const r = spawnSync(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', path.join(PROJECT_ROOT, 'src/cli/hubctl.ts'), 'migrate'],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: Object.fromEntries(
          Object.entries({ ...env, ...over }).filter((e): e is [string, string] => e[1] !== undefined),
        ),
      },
    );
    expect(r.status, r.stderr).to.equal(0);
    return r.stdout;
  };

  it('refuses to start with pending migrations; hubctl migrate runs them once, then it starts', async () => {
    // A database of its own: what the other cases migrate does not matter here.
    const pendingUri = `${uri}_m`;
    const over = { MONGODB_URI: pendingUri, SHUTDOWN_DRAIN_MS: '0' };
    try {
      const r = await start({ ...env, ...over }).done;
      expect(r.code, r.err).to.equal(EXIT_REFUSED);
      expect(r.err).to.match(/^START_REFUSED: /m);
      expect(r.err).to.match(/pending migration\(s\): inbox-entries-1, .*run `hubctl migrate`/);
      const last = MIGRATIONS[MIGRATIONS.length - 1]!.name;
      expect(migrate(over)).to.match(
        new RegExp(`${MIGRATIONS.length} pending migration\\(s\\)[\\s\\S]*done +${last}`),
      );
      expect(migrate(over)).to.match(/^no pending migrations$/m);
      const run = start({ ...env, ...over });
      try {
        await eventually(() => /Hub ready/.exec(run.out()), 60_000, 'the hub to start once migrated');
      } finally {
        run.child.kill('SIGTERM');
        await run.done;
      }
    } finally {
      const conn = await mongoose.createConnection(pendingUri).asPromise();
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    }
  });

  it('starts with its own keys, is ready, and on SIGTERM drains before it closes', async () => {
    migrate();
    const run = start({ ...env, SHUTDOWN_DRAIN_MS: '3000' });
    try {
      const ready = await eventually(
        () => /Health: +(http:\/\/\S+)\/readyz/.exec(run.out()),
        60_000,
        'the hub to start',
      );
      const hubUrl = /Hub ready: (http:\/\/\S+)/.exec(run.out())![1]!;
      expect(hubUrl, 'production listens on loopback unless HOST says otherwise').to.match(
        /^http:\/\/127\.0\.0\.1:/,
      );
      const health = ready[1]!;
      const first = await fetch(`${health}/readyz`);
      expect(first.status).to.equal(200);
      const body = (await first.json()) as { status: string; checks: Record<string, boolean> };
      expect(body.checks).to.deep.equal({ mongodb: true, rabbitmq: true });
      // No CRL for the new root yet: revocation data is stale (revocation-stale), the hub still serving.
      expect(body.status).to.be.oneOf(['ready', 'revocation-stale']);

      run.child.kill('SIGTERM');
      const draining = await eventually(
        async () => {
          const r = await fetch(`${hubUrl}/readyz`);
          return r.status === 503 ? ((await r.json()) as { status: string }) : null;
        },
        10_000,
        '/readyz to answer 503',
      );
      expect(draining.status).to.equal('draining');
      // Still serving during the drain period: the load balancer has not noticed yet.
      expect((await fetch(`${hubUrl}/v1/openapi.json`)).status).to.equal(200);
      expect((await fetch(`${health}/healthz`)).status).to.equal(200);
      const r = await run.done;
      expect(r.code, r.err).to.equal(0);
      const after = await fetch(`${hubUrl}/readyz`).then(
        () => 'answered',
        () => 'closed',
      );
      expect(after).to.equal('closed');
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
