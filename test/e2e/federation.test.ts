/**
 * Federation on loopback: three hubs (three `createHub` instances in this test process — three OS
 * processes would triple the start-up cost on a shared 2-core machine; each has its own database,
 * queue prefix and a free port, on the same FerretDB and RabbitMQ), each serving its own
 * agencies and configured as the two others' peer:
 *
 *   A serves G22           B serves H29, H29.001           C serves H41, H41.001
 *
 * A→C is relayed by polling (A holds, C collects with getReceivedEdocList/getEdoc/updateStatus);
 * every other pair by sendEdoc. Documents (encrypted for the recipient, with an attachment) and
 * status messages cross every pair in both directions; the recipient downloads the exact bytes the
 * sender signed and verifies the original signature.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { deliveryIdFor, docIdFor, edocKey } from '../../src/domain/ids.ts';
import { isHubError } from '../../src/domain/errors.ts';
import { PeerRefusal } from '../../src/federation/client.ts';
import { devSigningKey, eventually, rewindDelivery, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { encryptedDocument, expectOriginal, writeFederationFiles } from '../support/federation.ts';
import { watchTasks } from '../support/task-watch.ts';
import { freePort } from '../fault/harness.ts';

type HubId = 'a' | 'b' | 'c';
const SERVES: Record<HubId, string[]> = { a: ['G22'], b: ['H29', 'H29.001'], c: ['H41', 'H41.001'] };
/** The agency of each hub that sends and receives in the pair tests. */
const AGENCY: Record<HubId, string> = { a: 'G22', b: 'H29.001', c: 'H41.001' };
const IDS: HubId[] = ['a', 'b', 'c'];

describe('federation: three hubs as each other’s peers (e2e, loopback)', function () {
  this.timeout(240_000);
  const hubs = {} as Record<HubId, TestHub>;
  let dir: string;
  let trust: TrustStore;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'federation-'));
    trust = await TrustStore.fromDirectory(path.join(PROJECT_ROOT, 'certs-dev'));
    // Free ports, asked of the system (a fixed range can collide with another process's port).
    const ports = { a: await freePort(), b: await freePort(), c: await freePort() };
    const port = (h: HubId) => ports[h];
    const files = writeFederationFiles(dir, SERVES);
    for (const x of IDS) {
      hubs[x] = await startTestHub(`fed${x}`, {
        http: { port: port(x) },
        seed: { directoryFile: files.seedFile(x), usersFile: '' },
        federation: {
          allowInsecureLoopback: true,
          peers: IDS.filter((y) => y !== x).map((y) => ({
            id: y,
            name: `Hub ${y.toUpperCase()}`,
            baseUrl: `http://127.0.0.1:${port(y)}/vdxp`,
            systemId: `hub-${x}`,
            secretFile: files.secretFile(x, y),
            inbound: { systemId: `hub-${y}`, secretFile: files.secretFile(y, x) },
            trustedRoots: ['certs-dev/root-ca.pem'],
            outbound: x === 'a' && y === 'c' ? ('hold' as const) : ('push' as const),
            // C collects from A when the test says so (deterministic); the other polls run periodically.
            pollIntervalMs: x === 'c' && y === 'a' ? 0 : 1000,
            syncIntervalMs: 3_600_000,
            timeoutMs: 10_000,
          })),
        },
      });
    }
    // The start-up sync found the later hubs down: synchronise now that all three answer.
    for (const x of IDS) {
      const r = await hubs[x].hub.federation.syncAll();
      expect(r.map((s) => s.conflicts.length)).to.deep.equal([0, 0]);
    }
  });

  /** Hub `x` collects what peer `y` holds for it (getReceivedEdocList → getEdoc → updateStatus). */
  const collect = (x: HubId, y: HubId) =>
    hubs[x].hub.federation.poller(hubs[x].hub.submissions).poll(hubs[x].hub.federation.peers.require(y));

  after(async () => {
    for (const x of IDS) await hubs[x]?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists each peer's own units as remote units, and only those", async () => {
    for (const x of IDS)
      for (const y of IDS.filter((h) => h !== x)) {
        const view = await hubs[x].hub.federation.view(y);
        expect([...view.agencies].sort(), `${x} sees ${y}`).to.deep.equal([...SERVES[y]].sort());
        for (const code of SERVES[y]) {
          const a = await hubs[x].hub.stores.agencies.findByCode(code);
          expect(a?.delivery).to.deep.equal({ mode: 'peer', peer: y });
        }
      }
  });

  it('refuses to edit a remote unit here (REMOTE_UNIT_READ_ONLY)', async () => {
    const err = await hubs.a.hub.directory
      .update('test', 'H29', { name: 'Đổi tên' })
      .catch((e: unknown) => e);
    expect(isHubError(err) && err.code).to.equal('REMOTE_UNIT_READ_ONLY');
    expect((await hubs.a.hub.stores.agencies.findByCode('H29'))?.name).to.not.equal('Đổi tên');
  });

  for (const x of IDS)
    for (const y of IDS.filter((h) => h !== x))
      it(`a document ${x.toUpperCase()}→${y.toUpperCase()} (encrypted, attachment) arrives byte for byte and its status comes back`, async () => {
        const from = AGENCY[x];
        const to = AGENCY[y];
        const sent = encryptedDocument(from, to);
        const { msg } = sent;
        const receipt = await hubs[x].client(from).submit(sent.wire);
        expect(receipt.recipients.map((r) => r.outcome)).to.deep.equal(['accepted']);

        const rc = hubs[y].client(to);
        const item = await eventually(
          async () => {
            if (x === 'a' && y === 'c') await collect('c', 'a');
            return (await rc.inbox({ type: 'edoc' })).items.find((i) => i.documentId === msg.documentId);
          },
          60_000,
          `the document at ${y}`,
        );
        await expectOriginal(await rc.download(item.id), sent, to, trust);
        await rc.ack(item.id, 'done');

        // The recipient's answer (03) travels back to the sender's hub and lands on its delivery.
        await rc.submit(signed(statusMessage(to, msg, '03'), devSigningKey(to)));
        const docId = docIdFor(edocKey(from, msg.documentId));
        const sc = hubs[x].client(from);
        const d = await eventually(
          async () => {
            if (x === 'c' && y === 'a') await collect('c', 'a'); // A holds what goes to C
            return (await sc.statuses(docId)).find((v) => v.recipient === to && v.status === '03');
          },
          60_000,
          `status 03 back at ${x}`,
        );
        expect(d.transport).to.be.oneOf(['pushed', 'acknowledged']);
      });

  it('never relays a document received from a peer to another peer, and delivers once', async () => {
    // B sends to A's and C's units at once: B relays to each; A gets C's unit in <To> and must not relay it.
    const msg = documentMessage('H29.001', ['G22', 'H41.001']);
    const wire = signed(msg, devSigningKey('H29.001'));
    await hubs.b.client('H29.001').submit(wire);
    const docId = docIdFor(edocKey('H29.001', msg.documentId));
    const atA = await eventually(
      async () => (await hubs.a.hub.stores.documents.get(docId))?.recipients,
      60_000,
      'the copy at A',
    );
    const h41 = atA.find((r) => r.code === 'H41.001');
    expect(h41?.outcome).to.equal('refused');
    expect(h41?.reason).to.match(/^PEER_NOT_RELAYED/);
    await eventually(
      async () => (await hubs.c.client('H41.001').inbox()).items.some((i) => i.documentId === msg.documentId),
      60_000,
      'the copy at C',
    );
    // The same bytes again from the peer (a retry): answered with the original acceptance, delivered once.
    const watches = [watchTasks(hubs.a.hub), watchTasks(hubs.c.hub)];
    try {
      const again = await hubs.b.hub.federation.peers
        .require('a')
        .client.sendEdoc(Buffer.from(wire), 'H29.001');
      expect(again).to.equal(docId);
      // A second copy would show as tasks at A or C: wait until every one published has been taken.
      for (const w of watches) await w.settled();
    } finally {
      for (const w of watches) w.stop();
    }
    for (const [h, code] of [
      ['a', 'G22'],
      ['c', 'H41.001'],
    ] as const) {
      const items = (await hubs[h].client(code).inbox()).items.filter((i) => i.documentId === msg.documentId);
      expect(items, `copies at ${h}`).to.have.length(1);
    }
  });

  it('delivers once when the relay is repeated after the peer accepted it (crash before the record)', async () => {
    const msg = documentMessage('H29.001', ['G22']);
    await hubs.b.client('H29.001').submit(signed(msg, devSigningKey('H29.001')));
    const docId = docIdFor(edocKey('H29.001', msg.documentId));
    const deliveryId = deliveryIdFor(docId, 'G22');
    await eventually(
      async () => (await hubs.b.hub.stores.deliveries.get(deliveryId))?.transport === 'pushed',
      60_000,
      'the relay B→A',
    );
    // As if B died after A's acceptance and before its own record: queued again, the task redelivered.
    await rewindDelivery(hubs.b.hub, deliveryId);
    await hubs.b.hub.worker!.deliver({ deliveryId, docId, recipientCode: 'G22', attempt: 1 });
    expect((await hubs.b.hub.stores.deliveries.get(deliveryId))?.transport).to.equal('pushed');
    const items = (await hubs.a.client('G22').inbox()).items.filter((i) => i.documentId === msg.documentId);
    expect(items).to.have.length(1);
  });

  it('refuses a message tampered in transit, with the reason, and delivers nothing', async () => {
    const msg = documentMessage('H29.001', ['G22']);
    const wire = signed(msg, devSigningKey('H29.001')).replace('Nội dung công văn', 'Nội dung đã sửa');
    const err = await hubs.b.hub.federation.peers
      .require('a')
      .client.sendEdoc(Buffer.from(wire), 'H29.001')
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PeerRefusal);
    expect((err as Error).message).to.match(/SIGNATURE/);
    expect(await hubs.a.hub.stores.documents.get(docIdFor(edocKey('H29.001', msg.documentId)))).to.equal(
      null,
    );
  });

  it('refuses a message tampered by the peer it is collected from, and the refusal reaches the sender', async () => {
    const msg = documentMessage('G22', ['H41.001']);
    const wire = signed(msg, devSigningKey('G22'));
    await hubs.a.client('G22').submit(wire);
    const docId = docIdFor(edocKey('G22', msg.documentId));
    const deliveryId = deliveryIdFor(docId, 'H41.001');
    await eventually(
      async () => (await hubs.a.hub.stores.deliveries.get(deliveryId))?.transport === 'available',
      60_000,
      'held at A for C',
    );
    // A (the peer C collects from) alters the bytes it holds: same length, one letter changed.
    // The payload of a message under 4 MiB is stored inline in its document record (docs/architecture.md).
    const stored = await hubs.a.hub.stores.models.Document.findById(docId).lean<{ payload: unknown }>();
    const p = stored!.payload as Buffer | { buffer: Uint8Array };
    const original = Buffer.isBuffer(p) ? p : Buffer.from(p.buffer);
    const tampered = Buffer.from(original.toString('utf8').replace('Nội dung công văn', 'Nội dung công vĂn'));
    expect(tampered.length).to.equal(original.length);
    expect(tampered.equals(original)).to.equal(false);
    await hubs.a.hub.stores.models.Document.updateOne({ _id: docId }, { $set: { payload: tampered } });
    const r = await collect('c', 'a');
    expect(r.refused).to.equal(1);
    // Refused back with the reason (updateStatus fail): the sender sees it on its delivery; C delivered nothing.
    const d = await eventually(
      async () => (await hubs.a.client('G22').statuses(docId)).find((v) => v.ack?.result === 'fail'),
      30_000,
      'the refusal at A',
    );
    expect(d.ack?.reason).to.match(/SIGNATURE/);
    expect(await hubs.c.hub.stores.documents.get(docId)).to.equal(null);
  });

  it('reports a code claimed by two sources and keeps it with its holder', async () => {
    const listed = SERVES.b.map((code) => ({ code, name: `Đơn vị ${code}` }));
    const r = await hubs.a.hub.federation.directory.apply('b', [
      ...listed,
      { code: 'G22', name: 'Kẻ mạo danh' },
    ]);
    expect(r.conflicts.map((c) => [c.code, c.heldBy, c.claimedBy])).to.deep.equal([['G22', 'local', 'b']]);
    const g22 = await hubs.a.hub.stores.agencies.findByCode('G22');
    expect(g22?.name).to.not.equal('Kẻ mạo danh');
    expect(g22?.delivery.mode).to.equal('pull');
    expect((await hubs.a.hub.federation.view('b')).conflicts).to.have.length(1);
    await hubs.a.hub.federation.sync('b'); // back to the peer's real list
    expect((await hubs.a.hub.federation.view('b')).conflicts).to.have.length(0);
  });
});
