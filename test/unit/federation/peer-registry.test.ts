/**
 * Peers from two sources (src/federation/peers.ts withStored, src/federation/admin.ts validatePeer)
 * and the per-peer jobs that follow them (src/federation/jobs.ts): pure logic, no store.
 */
import assert from 'node:assert/strict';
import { isHubError } from '../../../src/domain/errors.ts';
import { validatePeer } from '../../../src/federation/admin.ts';
import { PeerJobs } from '../../../src/federation/jobs.ts';
import { PeerRegistry, type Peer } from '../../../src/federation/peers.ts';
import type { StoredPeer } from '../../../src/federation/ports.ts';
import { storedPeer as stored } from '../../support/peers.ts';

const configured = (id: string, inbound: string): Peer =>
  ({
    id,
    name: id,
    config: { baseUrl: 'https://c.example', systemId: 'x', outbound: 'push', pollIntervalMs: 0 },
    inbound: { systemId: inbound, secret: 'c'.repeat(24) },
    trustedRoots: new Set(),
    source: 'config',
    enabled: true,
    version: 0,
    agenciesPrefix: [],
  }) as unknown as Peer;

describe('federation peers: configured and stored (fedapi)', () => {
  it('the configuration wins: a stored peer with its id or inbound system id is left out and reported', () => {
    const base = new PeerRegistry([configured('vdxp', 'in-axis')]);
    const r = base.withStored([
      stored('vdxp'),
      stored('b', { inbound: { systemId: 'in-axis', secret: 'i'.repeat(24) } }),
      stored('c'),
    ]);
    assert.deepEqual(
      r.all().map((p) => [p.id, p.source]),
      [
        ['vdxp', 'config'],
        ['c', 'store'],
      ],
    );
    assert.deepEqual(
      r.clashes.map((c) => c.peerId),
      ['vdxp', 'b'],
    );
    assert.equal(r.byInboundSystem('in-c')?.id, 'c');
  });

  it('a disabled peer is listed for administrators only: not relayed, polled or authenticated', () => {
    const r = new PeerRegistry([]).withStored([stored('c', { enabled: false })]);
    assert.deepEqual(r.list(), []);
    assert.equal(r.all().length, 1);
    assert.equal(r.byInboundSystem('in-c'), undefined);
  });

  it('an unchanged stored peer keeps its built object; a new version is rebuilt', () => {
    const first = new PeerRegistry([]).withStored([stored('c')]);
    const same = new PeerRegistry([]).withStored([stored('c')], first);
    assert.equal(same.get('c'), first.get('c'));
    const moved = new PeerRegistry([]).withStored([stored('c', { version: 2 })], first);
    assert.notEqual(moved.get('c'), first.get('c'));
  });

  it('validates: https only (http on loopback with allowInsecureLoopback), certificates, secrets', () => {
    validatePeer(stored('c'), false);
    validatePeer(stored('c', { baseUrl: 'http://127.0.0.1:8080/vdxp' }), true);
    const problems = (p: StoredPeer, loopback = false) => {
      try {
        validatePeer(p, loopback);
        return [];
      } catch (err) {
        assert.ok(isHubError(err) && err.code === 'PEER_INVALID');
        return err.details?.problems as string[];
      }
    };
    assert.match(problems(stored('c', { baseUrl: 'http://127.0.0.1/vdxp' })).join(), /https/);
    assert.match(
      problems(stored('c', { baseUrl: 'http://peer.example/vdxp' }), true).join(),
      /loopback only/,
    );
    assert.match(problems(stored('c', { trustedRootsPem: 'not a pem' })).join(), /trustedRoots/);
    assert.match(problems(stored('c', { secret: 'short' })).join(), /secret/);
    assert.match(problems(stored('c', { id: 'Bad Id' })).join(), /id/);
  });
});

describe('federation peer jobs follow the peers (fedapi)', () => {
  it('starts jobs for new peers, restarts changed ones, stops removed and disabled ones', async () => {
    const log: string[] = [];
    const jobs = new PeerJobs((p) => [
      {
        start: () => log.push(`start ${p.id}@${p.version}`),
        stop: () => {
          log.push(`stop ${p.id}@${p.version}`);
          return Promise.resolve();
        },
      },
    ]);
    const v1 = new PeerRegistry([]).withStored([stored('b'), stored('c')]);
    jobs.apply(v1);
    jobs.apply(new PeerRegistry([]).withStored([stored('b'), stored('c')], v1)); // nothing moved
    const v2 = new PeerRegistry([]).withStored(
      [stored('b', { version: 2 }), stored('c', { enabled: false })],
      v1,
    );
    jobs.apply(v2);
    assert.deepEqual(jobs.ids(), ['b']);
    jobs.apply(new PeerRegistry([]));
    await jobs.stop();
    assert.deepEqual(log, ['start b@1', 'start c@1', 'stop b@1', 'stop c@1', 'start b@2', 'stop b@2']);
  });
});
