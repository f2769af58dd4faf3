/**
 * A hub started before its peer gets the peer's units as soon as the peer answers, not a sync interval
 * (an hour) later: found by the three-process federation test, where every hub but the last started
 * before its peers and had no remote units until `hubctl peers sync`. Two `createHub` instances in
 * this process on the real FerretDB and RabbitMQ: A (serving G22) starts with B configured as its peer
 * while B is down; its start-up sync fails; B (serving H41, H41.001) starts; A's retry job
 * (`federation.syncRetryMs`) syncs it. Without the retry the next sync is `syncIntervalMs` away.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../fault/harness.ts';
import { writeFederationFiles } from '../support/federation.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';

const SERVES = { a: ['G22'], b: ['H41', 'H41.001'] } as const;

describe('federation: a peer down at start is synced when it answers (e2e, loopback)', function () {
  this.timeout(120_000);
  const hubs = {} as Record<'a' | 'b', TestHub>;
  let dir: string;

  after(async () => {
    for (const x of ['a', 'b'] as const) await hubs[x]?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('retries the agency list every syncRetryMs until the peer answers', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'federation-retry-'));
    const port = { a: await freePort(), b: await freePort() };
    const files = writeFederationFiles(dir, SERVES);
    const start = async (x: 'a' | 'b', y: 'a' | 'b') => {
      hubs[x] = await startTestHub(`fedretry${x}`, {
        http: { port: port[x] },
        seed: { directoryFile: files.seedFile(x), usersFile: '' },
        federation: {
          allowInsecureLoopback: true,
          syncRetryMs: 300,
          peers: [
            {
              id: y,
              baseUrl: `http://127.0.0.1:${port[y]}/vdxp`,
              systemId: `hub-${x}`,
              secretFile: files.secretFile(x, y),
              inbound: { systemId: `hub-${y}`, secretFile: files.secretFile(y, x) },
              trustedRoots: ['certs-dev/root-ca.pem'],
              outbound: 'push' as const,
              pollIntervalMs: 0,
              syncIntervalMs: 3_600_000,
              timeoutMs: 5_000,
            },
          ],
        },
      });
    };

    await start('a', 'b');
    // A's start-up sync found B down, and recorded it.
    const failed = await eventually(
      async () => {
        const s = await hubs.a.hub.federation.state.get('b');
        return s?.lastError?.op === 'getAgenciesList' ? s : null;
      },
      20_000,
      'the failed start-up sync',
    );
    expect(failed.lastSyncAt).to.equal(undefined);
    expect(await hubs.a.hub.stores.agencies.findByCode('H41.001')).to.equal(null);

    await start('b', 'a');
    const unit = await eventually(
      () => hubs.a.hub.stores.agencies.findByCode('H41.001'),
      20_000,
      "B's unit at A",
    );
    expect(unit.code).to.equal('H41.001');
    const synced = await hubs.a.hub.federation.state.get('b');
    expect(synced?.lastSyncAt, 'synced by the retry').to.be.instanceOf(Date);
    expect(synced?.agencies).to.include.members(['H41', 'H41.001']);
  });
});
