import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, PROJECT_ROOT, weakSecretProblem } from '../../../src/config.ts';

const production = path.join(PROJECT_ROOT, 'config/production.json');
const productionEnv = {
  HUB_CONFIG: production,
  CREDENTIALS_KEY: 'Zq3vN8pT1xLw6KcR0yHbG5mJ2sDf9AeU',
  MONGODB_URI: 'mongodb://db1:27017,db2:27017/dochub?replicaSet=rs0',
  AMQP_URL: 'amqps://hub:pw@rmq1:5671,amqps://hub:pw@rmq2:5671',
  HUB_PINS: 'ab'.repeat(32),
};
const refusal = (env: Record<string, string | undefined>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loaded');
};

describe('configuration', () => {
  it('loads the defaults and freezes them', () => {
    const c = loadConfig({});
    expect(c.roles).to.deep.equal(['api', 'worker']);
    expect(Object.isFrozen(c)).to.equal(true);
    expect(Object.isFrozen(c.amqp)).to.equal(true);
  });

  it('lets the environment override typed values', () => {
    const c = loadConfig({ PORT: '9090', AMQP_URL: 'amqp://a:5672, amqp://b:5672', HUB_ROLES: 'worker' });
    expect(c.http.port).to.equal(9090);
    expect(c.amqp.urls).to.deep.equal(['amqp://a:5672', 'amqp://b:5672']);
    expect(c.roles).to.deep.equal(['worker']);
  });

  it('fails start-up with a message naming each bad key', () => {
    expect(() => loadConfig({ PORT: 'eighty', MONGODB_URI: 'postgres://x', HUB_ROLES: 'cook' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/http\.port/)
      .and.matches(/mongodb\.uri: must be a mongodb:\/\/ URI/)
      .and.matches(/roles\.0/);
  });

  it('refuses a credentials key shorter than 32 characters', () => {
    expect(() => loadConfig({ CREDENTIALS_KEY: 'short' })).to.throw(/credentials\.key/);
  });

  it('refuses the production configuration until the hub certificates are pinned (HUB_PINS)', () => {
    const env = { ...productionEnv };
    delete (env as Partial<typeof env>).HUB_PINS;
    expect(() => loadConfig(env)).to.throw(/HUB_PINS \(pki\.hubPins\) must be set in the environment/);
    const pin = 'ab'.repeat(32);
    expect(loadConfig({ ...env, HUB_PINS: `${pin}, ${pin.toUpperCase()}` }).pki.hubPins).to.have.length(2);
    expect(() => loadConfig({ ...env, HUB_PINS: 'not-a-fingerprint' })).to.throw(/pki\.hubPins\.0/);
  });

  it('reads http.trustProxy as Express takes it and refuses anything else by name', () => {
    expect(loadConfig({}).http.trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).http.trustProxy).to.equal(1);
    expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).to.deep.equal([
      'loopback',
      '10.0.0.0/8',
    ]);
    expect(() => loadConfig({ TRUST_PROXY: 'the-load-balancer' })).to.throw(ConfigError, /http\.trustProxy/);
  });

  it('overlays HUB_CONFIG on the defaults (deep merge) and keeps production defaults safe', () => {
    const c = loadConfig(productionEnv);
    expect(c.mode).to.equal('production');
    // From production.json:
    expect(c.http.host).to.equal('127.0.0.1');
    expect(c.http.opsHost).to.equal('127.0.0.1');
    expect(c.http.trustProxy).to.equal(false);
    expect(c.http.secureCookies).to.equal(true);
    expect(c.seed).to.deep.equal({ directoryFile: '', certsManifest: '', usersFile: '' });
    // From default.json, which production.json does not repeat:
    expect(c.http.rateLimit.perAddress.burst).to.equal(2000);
    expect(c.delivery.retryDelaysMs).to.deep.equal([10000, 60000, 600000, 3600000]);
    // From the environment:
    expect(c.amqp.urls).to.have.length(2);
    expect(c.amqp.urls.join()).not.to.contain('guest');
  });

  it('refuses unknown keys by path, suggesting the known one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'startup-config-'));
    try {
      const file = path.join(dir, 'hub.json');
      writeFileSync(file, JSON.stringify({ pki: { revokation: 'off' }, htttp: {}, _comment: 'ignored' }));
      const msg = refusal({ HUB_CONFIG: file });
      expect(msg).to.match(/pki\.revokation: unknown key in .*hub\.json \(did you mean pki\.revocation\?\)/);
      expect(msg).to.match(/htttp: unknown key .*\(did you mean http\?\)/);
      expect(msg).not.to.contain('_comment');
      writeFileSync(file, '{ "pki": ');
      expect(refusal({ HUB_CONFIG: file })).to.match(/hub\.json: not valid JSON/);
      expect(refusal({ HUB_CONFIG: path.join(dir, 'missing.json') })).to.match(
        /HUB_CONFIG: cannot read .*missing\.json/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates URLs: MongoDB node lists, AMQP nodes, the public URL and CRL URLs', () => {
    expect(
      loadConfig({ MONGODB_URI: 'mongodb://u:p@h1:27017,h2,[::1]:27018/db?replicaSet=rs0' }).mongodb.uri,
    ).to.match(/h2/);
    expect(refusal({ MONGODB_URI: 'mongodb://' })).to.match(
      /mongodb\.uri: must be a mongodb:\/\/ URI \(environment MONGODB_URI\)/,
    );
    expect(refusal({ MONGODB_URI: 'mongodb://h:27017:1/db' })).to.match(/mongodb\.uri/);
    expect(refusal({ AMQP_URL: 'amqp://h:5672, amqp://:5672' })).to.match(/amqp\.urls\.1: must be an amqp/);
    expect(refusal({ AMQP_URL: 'http://h' })).to.match(/amqp\.urls\.0/);
    expect(refusal({ PUBLIC_URL: 'hub.gov.vn' })).to.match(/http\.publicUrl: must be an http/);
    expect(loadConfig({ PUBLIC_URL: 'https://hub.gov.vn' }).http.publicUrl).to.equal('https://hub.gov.vn');
  });

  it('requires what production.json lists in fromEnvironment, naming the variable and the file', () => {
    const msg = refusal({ HUB_CONFIG: production });
    for (const name of ['CREDENTIALS_KEY', 'MONGODB_URI', 'AMQP_URL', 'HUB_PINS'])
      expect(msg).to.match(
        new RegExp(`${name} \\(.*\\) must be set in the environment: .*production\\.json`),
      );
    expect(refusal({ ...productionEnv, AMQP_URL: undefined })).to.match(
      /AMQP_URL \(amqp\.urls\) must be set/,
    );
  });

  it('refuses development and guessable values in production mode, each by name', () => {
    expect(refusal({ NODE_ENV: 'production' }))
      .to.match(/production mode \(NODE_ENV=production\)/)
      .and.match(/credentials\.key \(CREDENTIALS_KEY\) from .*default\.json: the development key/)
      .and.match(/pki\.trustDir \(TRUST_DIR\) .*is the development PKI/)
      .and.match(/pki\.hubKey \(HUB_KEY\) .*is the development PKI/)
      .and.match(/seed\.usersFile .*seeds development data/);
    for (const [key, why] of [
      [' '.repeat(32), /too short: 0 characters/],
      ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', /low entropy: about \d bits/],
      ['k'.repeat(40), /low entropy: repeats a 1-character pattern/],
      ['password'.repeat(5), /low entropy: repeats a 8-character pattern/],
      ['DEV-ONLY-but-long-enough-0123456789abcdef', /the development key/],
    ] as const)
      expect(refusal({ ...productionEnv, CREDENTIALS_KEY: key })).to.match(
        new RegExp(`credentials\\.key \\(CREDENTIALS_KEY\\) from environment CREDENTIALS_KEY: ${why.source}`),
      );
    expect(refusal({ ...productionEnv, TRUST_DIR: path.join(PROJECT_ROOT, 'certs-dev') })).to.match(
      /pki\.trustDir \(TRUST_DIR\) from environment TRUST_DIR: .*certs-dev is the development PKI/,
    );
    expect(refusal({ ...productionEnv, ALLOW_HTTP_ENDPOINTS: 'true' })).to.match(
      /directory\.allowHttpEndpoints \(ALLOW_HTTP_ENDPOINTS\) from environment ALLOW_HTTP_ENDPOINTS: push endpoints over plain http:\/\/ are for development only/,
    );
    // Development mode keeps its development values.
    expect(loadConfig({}).mode).to.equal('development');
  });

  it('measures a secret by its characters: random keys pass, repetitive ones do not', () => {
    expect(weakSecretProblem(randomBytes(16).toString('hex'))).to.equal(null);
    expect(weakSecretProblem(randomBytes(32).toString('base64'))).to.equal(null);
    expect(weakSecretProblem('ab'.repeat(20))).to.match(/low entropy/);
    expect(weakSecretProblem('aaaabbbbccccddddaaaabbbbccccdddd0')).to.match(/about 70 bits/);
  });
});
