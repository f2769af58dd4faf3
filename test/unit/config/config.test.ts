import { expect } from 'chai';
import path from 'node:path';
import { ConfigError, loadConfig, PROJECT_ROOT } from '../../../src/config.ts';

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
    const production = path.join(PROJECT_ROOT, 'config/production.json');
    const env = { HUB_CONFIG: production, CREDENTIALS_KEY: 'k'.repeat(32) };
    expect(() => loadConfig(env)).to.throw(/pki\.hubPins: pin the hub signing certificates/);
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
});
