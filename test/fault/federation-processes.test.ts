/**
 * Federation across real processes (issue 22), and its faults: three hub processes (src/main.ts, as
 * an operator runs them), each with its own database and queue prefix on the shared FerretDB and
 * RabbitMQ, each serving its own agencies and configured as the two others' peer the documented way
 * (docs/federation.md: `federation.peers[]` in the configuration file given by HUB_CONFIG, secrets in
 * files, then `hubctl peers sync --all` once every hub answers):
 *
 *   A serves G22           B serves H29, H29.001           C serves H41, H41.001
 *
 * A→C waits at A (`outbound: hold`) and C collects it by polling; every other pair is sent with
 * sendEdoc. B reaches A through a loopback proxy (test/support/flaky-proxy.ts) that can keep A's
 * answer from B: the window between the peer's acceptance and the relaying hub's own record.
 *
 * 1. Encrypted documents with an attachment, and their 03 statuses, cross all six ordered pairs; the
 *    recipient downloads the exact signed bytes (SHA-256) and verifies the original signature.
 * 2. The peer A is SIGKILLed while B relays a load to A's unit, and restarted: every document arrives
 *    once, byte for byte.
 * 3. B is SIGKILLed after A accepted a load and before B recorded it (A's answers held by the proxy):
 *    after B's restart every document is at A once, and B records every relay as done.
 *
 * Ports 41200–41299; databases `fedfault_*`; queue prefixes `fedfault.*`.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { PROJECT_ROOT } from '../../src/config.ts';
import { TrustStore } from '../../src/crypto/trust.ts';
import { docIdFor, edocKey } from '../../src/domain/ids.ts';
import { createTopology } from '../../src/delivery/topology.ts';
import { HubClient, type InboxItem } from '../../src/sdk/client.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { devSigningKey, eventually } from '../support/hub.ts';
import { hubctlAsync } from '../support/hubctl.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.ts';
import { encryptedDocument, expectOriginal, sha256, writeFederationFiles } from '../support/federation.ts';
import { HubProcess } from './harness.ts';

type HubId = 'a' | 'b' | 'c';
const IDS: HubId[] = ['a', 'b', 'c'];
const SERVES: Record<HubId, string[]> = { a: ['G22'], b: ['H29', 'H29.001'], c: ['H41', 'H41.001'] };
/** The agency of each hub that sends and receives. */
const AGENCY: Record<HubId, string> = { a: 'G22', b: 'H29.001', c: 'H41.001' };
/** Retries of a relay to a peer that is down: short, so that a restarted peer is reached quickly. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
const LOAD = Number(process.env.FEDFAULT_DOCS ?? 30);
const HELD = Number(process.env.FEDFAULT_HELD ?? 10);

/** The development systems (and their public DEV-ONLY secrets) the agencies' clients use. */
const seed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-directory.json'), 'utf8')) as {
  systems: { systemId: string; secret: string; agencyCodes: string[] }[];
};

const seedUsers = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-users.json'), 'utf8')) as {
  users: { agencies?: string[] }[];
};

describe('federation: three hub processes as each other’s peers, and their faults (loopback)', function () {
  this.timeout(600_000);
  const run = randomBytes(3).toString('hex');
  const db = (x: HubId) => `fedfault_${x}_${run}`;
  const prefix = (x: HubId) => `fedfault.${x}${run}`;
  const hubs = {} as Record<HubId, HubProcess>;
  const env = {} as Record<HubId, Record<string, string>>;
  let dir: string;
  let proxy: FlakyProxy;
  /** What the proxy in front of A does with B's sendEdoc calls (everything else is forwarded). */
  let sendEdocAction: 'forward' | 'hold-answer' = 'forward';
  let trust: TrustStore;
  const t0 = Date.now();

  const client = (x: HubId, code: string) => {
    const sys = seed.systems.find((s) => s.agencyCodes.includes(code));
    if (!sys) throw new Error(`no dev system for ${code}`);
    return new HubClient({ baseUrl: hubs[x].url, systemId: sys.systemId, secret: sys.secret });
  };

  /** Every inbox item of `code` at hub `x`, all pages. */
  const inbox = async (x: HubId, code: string): Promise<InboxItem[]> => {
    const c = client(x, code);
    const out: InboxItem[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await c.inbox({ type: 'edoc', limit: 500, ...(after ? { after } : {}) });
      out.push(...page.items);
      if (!page.next || page.items.length < 500) return out;
      after = page.next;
    }
  };

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'fedfault-'));
    trust = await TrustStore.fromDirectory(path.join(PROJECT_ROOT, 'certs-dev'));
    const base = 41200 + 3 * Math.floor(Math.random() * 33);
    const port = (x: HubId) => base + IDS.indexOf(x);
    proxy = await startFlakyProxy(`http://127.0.0.1:${port('a')}`, (_n, req) =>
      req.url?.endsWith('/sendEdoc') ? sendEdocAction : 'forward',
    );
    const files = writeFederationFiles(dir, SERVES);
    for (const x of IDS) {
      // The development accounts whose agencies this hub serves (the administrator runs hubctl).
      const usersFile = path.join(dir, `users-${x}.json`);
      writeFileSync(
        usersFile,
        JSON.stringify({
          users: seedUsers.users.filter((u) => (u.agencies ?? []).every((c) => SERVES[x].includes(c))),
        }),
      );
      const configFile = path.join(dir, `hub-${x}.json`);
      writeFileSync(
        configFile,
        JSON.stringify({
          seed: { directoryFile: files.seedFile(x), usersFile },
          delivery: {
            outboxIntervalMs: 200,
            outboxGraceMs: 1000,
            retryDelaysMs: RETRY_DELAYS_MS,
            breakerCooldownMs: 1000,
            maxAttempts: 40, // ~2.5 min of retries: a slow restart of a peer is no dead letter
          },
          federation: {
            allowInsecureLoopback: true,
            peers: IDS.filter((y) => y !== x).map((y) => ({
              id: y,
              name: `Hub ${y.toUpperCase()}`,
              baseUrl: x === 'b' && y === 'a' ? `${proxy.url}/vdxp` : `http://127.0.0.1:${port(y)}/vdxp`,
              systemId: `hub-${x}`,
              secretFile: files.secretFile(x, y),
              inbound: { systemId: `hub-${y}`, secretFile: files.secretFile(y, x) },
              trustedRoots: ['certs-dev/root-ca.pem'],
              outbound: x === 'a' && y === 'c' ? 'hold' : 'push',
              pollIntervalMs: 500,
              syncIntervalMs: 3_600_000,
              // B waits for A's held answers until the test has killed it (no timeout-and-retry first).
              timeoutMs: x === 'b' && y === 'a' ? 60_000 : 10_000,
            })),
          },
        }),
      );
      env[x] = {
        HUB_CONFIG: configFile,
        MONGODB_URI: `mongodb://127.0.0.1:27017/${db(x)}`,
        AMQP_PREFIX: prefix(x),
        AMQP_SHARDS: '2',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        VERIFY_WORKERS: '1',
      };
      hubs[x] = new HubProcess(port(x), env[x]);
    }
    await Promise.all(IDS.map((x) => hubs[x].start()));
    const tStarted = Date.now();
    // Each hub's start-up sync ran while the others may still have been down: the operator's step
    // (docs/federation.md, Operations) once all three answer.
    const synced = await Promise.all(
      IDS.map((x) => hubctlAsync(['--json', 'peers', 'sync', '--all'], env[x])),
    );
    for (const [i, r] of synced.entries()) {
      expect(r.code, `hubctl peers sync at ${IDS[i]}: ${r.err}`).to.equal(0);
      const results = JSON.parse(r.out) as { peer: string; listed: number; conflicts: unknown[] }[];
      expect(results.map((s) => [s.peer, s.listed, s.conflicts.length])).to.deep.equal(
        IDS.filter((y) => y !== IDS[i]).map((y) => [y, SERVES[y].length, 0]),
      );
    }
    console.log(
      `      three hub processes started in ${((tStarted - t0) / 1000).toFixed(1)} s, ` +
        `peers synchronised (hubctl) in ${((Date.now() - tStarted) / 1000).toFixed(1)} s`,
    );
  });

  // Each test starts from three running hubs, whatever an earlier test left (a fault test that failed
  // before its restart).
  beforeEach(async () => {
    await Promise.all(IDS.filter((x) => !hubs[x].pid).map((x) => hubs[x].start()));
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const x of IDS) console.log(`      --- hub ${x} output ---\n${hubs[x]?.output.slice(-3000)}`);
  });

  after(async () => {
    await Promise.all(IDS.map((x) => hubs[x]?.stop().catch(() => undefined)));
    await proxy?.close();
    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672').catch(() => null);
    if (conn) {
      const ch = await conn.createChannel();
      for (const x of IDS) {
        const t = createTopology(prefix(x), 2, RETRY_DELAYS_MS);
        for (const q of t.allQueues()) await ch.deleteQueue(q).catch(() => undefined);
        for (const e of t.allExchanges()) await ch.deleteExchange(e).catch(() => undefined);
      }
      await conn.close();
    }
    for (const x of IDS) {
      const m = await connectMongo(`mongodb://127.0.0.1:27017/${db(x)}`).catch(() => null);
      await m?.dropDatabase().catch(() => undefined);
      await m?.close();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`      federation processes: whole file ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('documents (encrypted, attachment) and their statuses cross all six ordered pairs, byte for byte', async () => {
    const t = Date.now();
    const pairs = IDS.flatMap((x) => IDS.filter((y) => y !== x).map((y) => [x, y] as const));
    await Promise.all(
      pairs.map(async ([x, y]) => {
        const from = AGENCY[x];
        const to = AGENCY[y];
        const sent = encryptedDocument(from, to);
        const { msg } = sent;
        const receipt = await client(x, from).submit(sent.wire);
        expect(receipt.recipients.map((r) => r.outcome)).to.deep.equal(['accepted']);

        const rc = client(y, to);
        const item = await eventually(
          async () => (await inbox(y, to)).find((i) => i.documentId === msg.documentId),
          60_000,
          `the document ${x}→${y}`,
        );
        await expectOriginal(await rc.download(item.id), sent, to, trust);
        await rc.ack(item.id, 'done');

        // The recipient's answer (03) travels back to the sender's hub, onto the original delivery.
        await rc.submit(signed(statusMessage(to, msg, '03'), devSigningKey(to)));
        const docId = docIdFor(edocKey(from, msg.documentId));
        const d = await eventually(
          async () =>
            (await client(x, from).statuses(docId)).find((v) => v.recipient === to && v.status === '03'),
          60_000,
          `status 03 ${y}→${x}`,
        );
        expect(d.transport, `${x}→${y} transport`).to.be.oneOf(['pushed', 'acknowledged']);
      }),
    );
    console.log(`      six pairs, documents and statuses: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  });

  interface Load {
    /** documentId → SHA-256 of the signed bytes submitted. */
    readonly sent: Map<string, string>;
    /** The hub's docIds of the documents accepted so far. */
    readonly docIds: string[];
  }
  /** Submits `n` signed documents H29.001 (at B) → G22 (at A), 4 at a time; `during` before the i-th. */
  const loadBtoA = async (n: number, during: (i: number, load: Load) => void = () => {}) => {
    const key = devSigningKey('H29.001');
    const load: Load = { sent: new Map(), docIds: [] };
    const { sent, docIds } = load;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        during(i, load);
        const msg = documentMessage('H29.001', ['G22']);
        const wire = signed(msg, key);
        const r = await client('b', 'H29.001').submit(wire);
        expect(r.recipients.map((x) => x.outcome)).to.deep.equal(['accepted']);
        sent.set(msg.documentId, sha256(wire));
        docIds.push(r.docId);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    return load;
  };

  /** Each document sent is at G22 exactly once, with the signed bytes unchanged. */
  const expectOnceAtA = async (sent: Map<string, string>) => {
    const mine = () => inbox('a', 'G22').then((items) => items.filter((i) => sent.has(i.documentId)));
    await eventually(async () => (await mine()).length >= sent.size, 120_000, `${sent.size} documents at A`);
    const items = await mine();
    const count = new Map<string, number>();
    for (const i of items) count.set(i.documentId, (count.get(i.documentId) ?? 0) + 1);
    expect(count.size, 'distinct documents at A').to.equal(sent.size);
    expect(
      [...count.entries()].filter(([, n]) => n !== 1),
      'documents delivered more than once',
    ).to.deep.equal([]);
    const g22 = client('a', 'G22');
    for (const i of items)
      expect(sha256(await g22.download(i.id)), i.documentId).to.equal(sent.get(i.documentId));
    return items.length;
  };

  /** B records every relay to G22 as done (the peer's acceptance), none failed or dead. */
  const expectRelayedByB = async (docIds: readonly string[]) => {
    const sender = client('b', 'H29.001');
    await eventually(
      async () => {
        for (const docId of docIds) {
          const d = (await sender.statuses(docId)).find((v) => v.recipient === 'G22');
          if (!d || !['pushed', 'acknowledged'].includes(d.transport)) return false;
        }
        return true;
      },
      120_000,
      'every relay B→A recorded',
    );
  };

  it('a peer SIGKILLed while documents to its unit are relayed, then restarted: everything arrives once', async () => {
    const t = Date.now();
    let restart: Promise<void> = Promise.resolve();
    let killedAfter = -1;
    let metDeadPeer = false;
    const { sent, docIds } = await loadBtoA(LOAD, (i, load) => {
      if (i !== Math.floor(LOAD / 3)) return;
      hubs.a.kill();
      killedAfter = load.docIds.length;
      // Restarted once B has met the dead peer: a relay to G22 failed and waits for its retry.
      restart = (async () => {
        metDeadPeer = await eventually(
          async () => {
            const ids = [...load.docIds];
            const views = await Promise.all(ids.map((id) => client('b', 'H29.001').statuses(id)));
            return views
              .flat()
              .some((v) => v.recipient === 'G22' && v.transport === 'queued' && !!v.attempts);
          },
          60_000,
          'a relay to the dead peer failing at B',
        );
        await hubs.a.start();
      })();
    });
    await restart;
    expect(metDeadPeer, 'B tried the dead peer').to.equal(true);
    const tRestarted = Date.now();
    const delivered = await expectOnceAtA(sent);
    await expectRelayedByB(docIds);
    console.log(
      `      peer down: ${LOAD} documents B→A, A SIGKILLed after ${killedAfter} submitted, restarted; ` +
        `${delivered} delivered once each, bytes equal; ${((Date.now() - t) / 1000).toFixed(1)} s ` +
        `(${((Date.now() - tRestarted) / 1000).toFixed(1)} s after the restart)`,
    );
  });

  it('the relaying hub SIGKILLed between the peer’s acceptance and its own record: nothing lost, nothing twice', async () => {
    const t = Date.now();
    const heldBefore = proxy.log.length;
    const sendEdocs = () => proxy.log.slice(heldBefore).filter((e) => e.path.endsWith('/sendEdoc'));
    sendEdocAction = 'hold-answer';
    let sent: Map<string, string>;
    let docIds: string[];
    try {
      ({ sent, docIds } = await loadBtoA(HELD));
      // A accepted every relay (it answered the proxy), B has none of the answers.
      await eventually(
        () => sendEdocs().filter((e) => e.action === 'hold-answer' && e.hubStatus === 200).length >= HELD,
        60_000,
        `A's answers to ${HELD} relays`,
      );
      await eventually(
        async () => (await inbox('a', 'G22')).filter((i) => sent.has(i.documentId)).length === HELD,
        60_000,
        'the documents at A',
      );
      const views = await Promise.all(docIds.map((id) => client('b', 'H29.001').statuses(id)));
      expect(
        views
          .flat()
          .filter((v) => v.recipient === 'G22')
          .map((v) => v.transport),
        'B has recorded no relay',
      ).to.deep.equal(docIds.map(() => 'queued'));
      hubs.b.kill();
    } finally {
      sendEdocAction = 'forward';
    }
    await hubs.b.start();
    await expectRelayedByB(docIds);
    const delivered = await expectOnceAtA(sent);
    const resent = sendEdocs().filter((e) => e.action === 'forward').length;
    expect(resent, 'relays repeated after the restart').to.be.at.least(HELD);
    console.log(
      `      relaying hub killed in the window: ${HELD} documents accepted by A, B SIGKILLed before its record, ` +
        `restarted; ${resent} relays repeated and answered as replays; ${delivered} delivered once each; ` +
        `${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  });
});
