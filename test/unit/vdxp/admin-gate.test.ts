import { expect } from 'chai';
import { AdminGate, parseAddressRule } from '../../../src/vdxp/admin-gate.ts';
import { ConfigError, loadConfig } from '../../../src/config.ts';

const codeOf = (fn: () => void): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

describe('vdxp administrative operations gate', () => {
  it('is off by default in the configuration and refuses everyone with VDXP_ADMIN_DISABLED', () => {
    const c = loadConfig({});
    expect(c.vdxp.adminOperations).to.deep.equal({
      enabled: false,
      allowedSystems: [],
      allowedAddresses: [],
    });
    const gate = new AdminGate(c.vdxp.adminOperations);
    expect(codeOf(() => gate.check('hub-admin', '127.0.0.1'))).to.equal('VDXP_ADMIN_DISABLED');
  });

  it('allows only the listed systems from the listed addresses and CIDR blocks', () => {
    const gate = new AdminGate({
      enabled: true,
      allowedSystems: ['hub-admin'],
      allowedAddresses: ['127.0.0.1', '10.20.0.0/16', 'fd00::/8'],
    });
    expect(codeOf(() => gate.check('hub-admin', '127.0.0.1'))).to.equal(null);
    expect(codeOf(() => gate.check('hub-admin', '10.20.255.3'))).to.equal(null);
    expect(codeOf(() => gate.check('hub-admin', 'fd12::1'))).to.equal(null);
    // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6.
    expect(codeOf(() => gate.check('hub-admin', '::ffff:127.0.0.1'))).to.equal(null);
    expect(codeOf(() => gate.check('other-admin', '127.0.0.1'))).to.equal('VDXP_ADMIN_NOT_ALLOWED');
    expect(codeOf(() => gate.check('hub-admin', '127.0.0.2'))).to.equal('VDXP_ADMIN_NOT_ALLOWED');
    expect(codeOf(() => gate.check('hub-admin', '10.21.0.1'))).to.equal('VDXP_ADMIN_NOT_ALLOWED');
    expect(codeOf(() => gate.check('hub-admin', undefined))).to.equal('VDXP_ADMIN_NOT_ALLOWED');
    expect(codeOf(() => gate.check('hub-admin', 'not-an-ip'))).to.equal('VDXP_ADMIN_NOT_ALLOWED');
  });

  it('allows nobody when enabled with empty lists', () => {
    const gate = new AdminGate({ enabled: true, allowedSystems: ['hub-admin'], allowedAddresses: [] });
    expect(codeOf(() => gate.check('hub-admin', '127.0.0.1'))).to.equal('VDXP_ADMIN_NOT_ALLOWED');
  });

  it('reads addresses and CIDR blocks, and nothing else', () => {
    expect(parseAddressRule('10.0.0.0/8')).to.deep.equal({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseAddressRule('::1')).to.deep.equal({ address: '::1', family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', '::/129', 'example.org', '10.0.0.0/8/1', '10.0.0.0/', '1.2.3'])
      expect(parseAddressRule(bad), bad).to.equal(null);
  });

  it('fails start-up on an allowed address that is not an address or CIDR block', () => {
    expect(() =>
      loadConfig(
        {},
        { vdxp: { adminOperations: { enabled: true, allowedSystems: [], allowedAddresses: ['lan'] } } },
      ),
    )
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/vdxp\.adminOperations\.allowedAddresses\.0: must be an IP address or CIDR block/);
  });
});
