/**
 * Incremental agency sync between two hubs (issue 22, docs/federation.md "Directory sync"): hub A
 * refreshes the remote units of its peer B from B's agency list as a diff against its directory.
 * Two `createHub` instances in this test process, each the other's peer, with their own database and
 * queue prefix on the real FerretDB and RabbitMQ, on free ports:
 *
 *   A serves G22, D29           B serves G22 (claimed twice), H29, H29.001, H41, H41.001
 *
 * What each sync writes is read from A's own statement counters (`hub_store_write_statements_total`
 * by collection) and the units' change-feed versions: an unchanged list writes nothing in the
 * directory, a changed unit writes only itself, a removed unit is closed (kept, owned by B), and the
 * code claimed by both stays reported. Each test starts with A in step with B and changes only its
 * own unit, so the tests run in any order.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { PeerClient } from '../../src/federation/client.ts';
import { freePort } from '../fault/harness.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

const SERVES = { a: ['G22', 'D29'], b: ['G22', 'H29', 'H29.001', 'H41', 'H41.001'] } as const;
const REMOTE = ['H29', 'H29.001', 'H41', 'H41.001'];
/** The directory's collections (src/store/directory-store.ts) and the peers' state. */
const DIRECTORY = ['agencies', 'agency_codes', 'directory_counters', 'directory_locks'];

describe('federation: incremental agency sync between two hubs (e2e, loopback)', function () {
  this.timeout(180_000);
  const hubs = {} as Record<'a' | 'b', TestHub>;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'federation-sync-'));
    const seed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-directory.json'), 'utf8')) as {
      agencies: { code: string }[];
      systems: { agencyCodes: string[] }[];
    };
    // Free ports, asked of the system (a fixed range can collide with another process's port).
    const port = { a: await freePort(), b: await freePort() };
    for (const [x, y] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const)
      writeFileSync(path.join(dir, `${x}-${y}.secret`), randomBytes(24).toString('hex'));
    for (const [x, y] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const served: readonly string[] = SERVES[x];
      const seedFile = path.join(dir, `seed-${x}.json`);
      writeFileSync(
        seedFile,
        JSON.stringify({
          agencies: seed.agencies.filter((a) => served.includes(a.code)),
          systems: seed.systems.filter(
            (s) => s.agencyCodes.length && s.agencyCodes.every((c) => served.includes(c)),
          ),
        }),
      );
      hubs[x] = await startTestHub(`fedsync${x}`, {
        http: { port: port[x] },
        seed: { directoryFile: seedFile, usersFile: '' },
        federation: {
          allowInsecureLoopback: true,
          peers: [
            {
              id: y,
              baseUrl: `http://127.0.0.1:${port[y]}/vdxp`,
              systemId: `hub-${x}`,
              secretFile: path.join(dir, `${x}-${y}.secret`),
              inbound: { systemId: `hub-${y}`, secretFile: path.join(dir, `${y}-${x}.secret`) },
              trustedRoots: ['certs-dev/root-ca.pem'],
              outbound: 'push' as const,
              pollIntervalMs: 0, // no polling: the only writes on the peer's state are the syncs'
              syncIntervalMs: 3_600_000, // the periodic sync ran at start; the test syncs on demand
              timeoutMs: 10_000,
            },
          ],
        },
      });
    }
  });

  after(async () => {
    for (const x of ['a', 'b'] as const) await hubs[x]?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A's write statements by collection so far (its own counters). */
  async function writes(): Promise<Map<string, number>> {
    const metric = (await hubs.a.hub.metrics.registry.getMetricsAsJSON()).find(
      (m) => m.name === 'hub_store_write_statements_total',
    );
    const out = new Map<string, number>();
    for (const v of metric?.values ?? []) {
      const coll = String(v.labels.collection ?? '');
      out.set(coll, (out.get(coll) ?? 0) + v.value);
    }
    return out;
  }

  /** Syncs A with B and returns the result with A's write statements by collection during it. */
  async function syncA() {
    const w0 = await writes();
    const result = await hubs.a.hub.federation.sync('b');
    const w1 = await writes();
    const diff = (c: string) => (w1.get(c) ?? 0) - (w0.get(c) ?? 0);
    return {
      result,
      directoryWrites: Object.fromEntries(DIRECTORY.map((c) => [c, diff(c)])),
      agencyWrites: diff('agencies'),
      peerStateWrites: diff('federation_peer_state'),
    };
  }

  const versions = async () =>
    Object.fromEntries(
      await Promise.all(
        REMOTE.map(async (c) => [c, (await hubs.a.hub.stores.agencies.findByCode(c))?.version] as const),
      ),
    );

  // Each test starts from A in step with B (a sync first) and changes only what it measures.
  beforeEach(async () => {
    await hubs.a.hub.federation.sync('b');
  });

  it("holds B's units as remote units owned by B and reports the code both claim", async () => {
    const view = await hubs.a.hub.federation.view('b');
    expect([...view.agencies].sort()).to.deep.equal(REMOTE);
    for (const code of REMOTE)
      expect((await hubs.a.hub.stores.agencies.findByCode(code))?.delivery).to.deep.equal({
        mode: 'peer',
        peer: 'b',
      });
    expect(view.conflicts.map((c) => [c.code, c.heldBy])).to.deep.equal([['G22', 'local']]);
    expect((await hubs.a.hub.stores.agencies.findByCode('G22'))?.delivery.mode).to.not.equal('peer');
  });

  it('an unchanged list writes nothing in the directory; the conflict stays reported', async () => {
    const v0 = await versions();
    const before = await hubs.a.hub.federation.view('b');
    const { result, directoryWrites, peerStateWrites } = await syncA();
    expect([result.created, result.updated, result.closed]).to.deep.equal([0, 0, 0]);
    expect(result.conflicts.map((c) => c.code)).to.deep.equal(['G22']);
    expect(directoryWrites).to.deep.equal(Object.fromEntries(DIRECTORY.map((c) => [c, 0])));
    expect(peerStateWrites, 'only the time of the sync').to.equal(1);
    expect(await versions()).to.deep.equal(v0);
    const after = await hubs.a.hub.federation.view('b');
    expect(after.conflicts.map((c) => [c.code, c.heldBy, c.seenAt.toISOString()])).to.deep.equal(
      before.conflicts.map((c) => [c.code, c.heldBy, c.seenAt.toISOString()]),
    );
    expect(after.lastSyncAt!.getTime()).to.be.at.least(before.lastSyncAt!.getTime());
  });

  it('a unit B renames is the only one written', async () => {
    const v0 = await versions();
    const name = `UBND phường đổi tên ${randomBytes(3).toString('hex')}`;
    await hubs.b.hub.directory.update('test', 'H41.001', { name });
    const { result, agencyWrites } = await syncA();
    expect([result.created, result.updated, result.closed]).to.deep.equal([0, 1, 0]);
    expect(agencyWrites).to.equal(1);
    const v1 = await versions();
    for (const c of REMOTE)
      if (c === 'H41.001') expect(v1[c]).to.be.greaterThan(v0[c]!);
      else expect(v1[c], c).to.equal(v0[c]);
    expect((await hubs.a.hub.stores.agencies.findByCode('H41.001'))?.name).to.equal(name);
  });

  it('a unit B no longer lists is closed, kept and still owned by B, and written once', async () => {
    // A unit of its own: registered at B, taken by A, then closed at B.
    const { agency } = await hubs.b.hub.directory.register('test', {
      name: `UBND xã tạm ${randomBytes(3).toString('hex')}`,
      block: 'state',
      kind: 'commune-people-committee',
      parentCode: 'H41',
    });
    const added = await syncA();
    expect([added.result.created, added.result.updated, added.result.closed]).to.deep.equal([1, 0, 0]);
    expect((await hubs.a.hub.federation.view('b')).agencies).to.include(agency.code);

    await hubs.b.hub.directory.close('test', agency.code, {});
    const { result, agencyWrites } = await syncA();
    expect([result.created, result.updated, result.closed]).to.deep.equal([0, 0, 1]);
    expect(agencyWrites).to.equal(1);
    const closed = await hubs.a.hub.stores.agencies.findByCode(agency.code);
    expect(closed?.status).to.equal('closed');
    expect(closed?.delivery).to.deep.equal({ mode: 'peer', peer: 'b' });
    expect((await hubs.a.hub.federation.view('b')).agencies).to.not.include(agency.code);
    // And the next sync finds nothing to do.
    const again = await syncA();
    expect([again.result.updated, again.result.closed]).to.deep.equal([0, 0]);
    expect(again.directoryWrites).to.deep.equal(Object.fromEntries(DIRECTORY.map((c) => [c, 0])));
    expect(again.peerStateWrites).to.equal(1);
  });

  it("B's getSynchronizeUnit offers peer A B's own units only, an agency system every unit", async () => {
    await hubs.b.hub.federation.sync('a'); // B holds D29 as A's unit
    expect((await hubs.b.hub.stores.agencies.findByCode('D29'))?.delivery).to.deep.equal({
      mode: 'peer',
      peer: 'a',
    });
    const toPeer = (await hubs.a.hub.federation.peers.require('b').client.getSynchronizeUnit()).map(
      (u) => u.code,
    );
    expect(toPeer).to.include.members(['G22', ...REMOTE]);
    expect(toPeer, 'A is not offered its own unit back').to.not.include('D29');
    const dms = new PeerClient({
      baseUrl: `${hubs.b.url}/vdxp`,
      systemId: 'dms-H41.001',
      secret: 'DEV-ONLY-secret-H41.001',
    });
    expect((await dms.getSynchronizeUnit()).map((u) => u.code)).to.include.members(['D29', ...REMOTE]);
  });
});
