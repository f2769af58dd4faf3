/** federation.peers validation (src/federation/config.ts): secrets by reference only, https, unique ids. */
import assert from 'node:assert/strict';
import { FederationConfigSchema } from '../../../src/federation/config.ts';

const peer = (o: Record<string, unknown> = {}) => ({
  id: 'vdxp',
  baseUrl: 'https://axis.example/vdxp',
  systemId: '000.00.00.G22',
  secretEnv: 'VDXP_SECRET',
  trustedRoots: ['/etc/roots/root.pem'],
  ...o,
});

const problems = (v: unknown) => {
  const r = FederationConfigSchema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('federation configuration', () => {
  it('accepts a peer with defaults (push, 30 s poll, hourly sync)', () => {
    const f = FederationConfigSchema.parse({ peers: [peer()] });
    assert.equal(f.peers[0]!.outbound, 'push');
    assert.equal(f.peers[0]!.pollIntervalMs, 30_000);
    assert.equal(f.peers[0]!.syncIntervalMs, 3_600_000);
    assert.deepEqual(FederationConfigSchema.parse(undefined), {
      peers: [],
      allowInsecureLoopback: false,
      refreshMs: 10_000,
      syncRetryMs: 60_000,
    });
  });

  it('wants exactly one of secretFile and secretEnv, for the peer and its inbound credential', () => {
    assert.match(problems({ peers: [peer({ secretEnv: undefined })] }).join(), /exactly one of secretFile/);
    assert.match(problems({ peers: [peer({ secretFile: '/s' })] }).join(), /exactly one of secretFile/);
    assert.match(problems({ peers: [peer({ secret: 'inline' })] }).join(), /secret/);
    assert.match(
      problems({ peers: [peer({ inbound: { systemId: 'x' } })] }).join(),
      /exactly one of secretFile/,
    );
  });

  it('wants https, or http on loopback only when allowed; unique ids; trusted roots', () => {
    assert.match(problems({ peers: [peer({ baseUrl: 'http://axis.example/vdxp' })] }).join(), /https/);
    assert.match(problems({ peers: [peer({ baseUrl: 'http://127.0.0.1:1/vdxp' })] }).join(), /https/);
    assert.deepEqual(
      problems({ allowInsecureLoopback: true, peers: [peer({ baseUrl: 'http://127.0.0.1:1/vdxp' })] }),
      [],
    );
    assert.match(
      problems({ allowInsecureLoopback: true, peers: [peer({ baseUrl: 'http://10.0.0.1/vdxp' })] }).join(),
      /loopback only/,
    );
    assert.match(problems({ peers: [peer(), peer()] }).join(), /used twice/);
    assert.match(problems({ peers: [peer({ trustedRoots: [] })] }).join(), /root CAs/);
  });
});
