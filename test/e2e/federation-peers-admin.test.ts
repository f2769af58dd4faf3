/**
 * Peers managed by administrators (issue 22, docs/federation.md ## Peers managed by administrators):
 * `hubctl peers add|update|disable|enable|remove|rotate-secret` as a child process against the store
 * of two running hubs in this test process (distinct databases and queue prefixes, real FerretDB and
 * RabbitMQ):
 *
 *   A serves G22; it has one configured peer ("cfg", nothing answers) and learns peer B by hubctl.
 *   B serves H29, H29.001; A is configured as its peer (config), pushing to A's /vdxp.
 *
 * The running hub A picks each change up within federation.refreshMs (300 ms here) without a
 * restart; the secrets are sealed at rest and appear in no audit record; every refusal has its code.
 */
import { expect } from 'chai';
import { unzipSync } from 'fflate';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { deliveryIdFor, docIdFor, edocKey } from '../../src/domain/ids.ts';
import { PeerClient, PeerRefusal } from '../../src/federation/client.ts';
import { MongoPeerDefinitionStore } from '../../src/store/peer-store.ts';
import { devSigningKey, eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { addTestOperator, hubctlAsync, TEST_OPERATOR } from '../support/hubctl.ts';
import { launchBrowser, login, newContext } from '../support/browser.ts';
import { storedPeer } from '../support/peers.ts';
import { documentMessage, signed, statusMessage } from '../support/messages.ts';

const REFRESH_MS = 300;

describe('hubctl peers: administrators manage federation peers (e2e)', function () {
  this.timeout(240_000);
  let a: TestHub;
  let b: TestHub;
  let dir: string;
  let overlay: string;
  const secret = (name: string) => path.join(dir, name);
  const ctl = (...args: string[]) => hubctlAsync([...args, '--db', a.dbName], { HUB_CONFIG: overlay });
  const ctlJson = async (...args: string[]) => {
    const r = await ctl('--json', ...args);
    return { ...r, body: r.out.trim() ? (JSON.parse(r.out) as Record<string, unknown>) : {} };
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fedapi-'));
    for (const f of ['a-b', 'b-a', 'cfg', 'b-a-new'])
      writeFileSync(secret(f), `${f}-${randomBytes(16).toString('hex')}`);
    const seed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/seed-directory.json'), 'utf8')) as {
      agencies: { code: string }[];
      systems: { agencyCodes: string[] }[];
    };
    const seedFor = (codes: string[]) => {
      const file = path.join(dir, `seed-${codes[0]}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          agencies: seed.agencies.filter((x) => codes.includes(x.code)),
          systems: seed.systems.filter(
            (s) => s.agencyCodes.length && s.agencyCodes.every((c) => codes.includes(c)),
          ),
        }),
      );
      return file;
    };
    const federationA = {
      allowInsecureLoopback: true,
      refreshMs: REFRESH_MS,
      peers: [
        {
          id: 'cfg',
          name: 'Configured peer',
          baseUrl: 'http://127.0.0.1:9/vdxp', // discard: nothing answers
          systemId: 'hub-a',
          secretFile: secret('cfg'),
          inbound: { systemId: 'hub-cfg', secretFile: secret('cfg') },
          trustedRoots: ['certs-dev/root-ca.pem'],
          outbound: 'push' as const,
          pollIntervalMs: 0,
          syncIntervalMs: 3_600_000,
          timeoutMs: 1000,
        },
      ],
    };
    overlay = path.join(dir, 'hub-a.json');
    writeFileSync(overlay, JSON.stringify({ federation: federationA }));
    a = await startTestHub('fedapia', {
      seed: { directoryFile: seedFor(['G22']), usersFile: '' },
      federation: federationA,
    });
    await addTestOperator(a.hub.mongo, a.hub.stores); // hubctl's operator
    b = await startTestHub('fedapib', {
      seed: { directoryFile: seedFor(['H29', 'H29.001']), usersFile: '' },
      federation: {
        allowInsecureLoopback: true,
        peers: [
          {
            id: 'a',
            baseUrl: `${a.url}/vdxp`,
            systemId: 'hub-b',
            secretFile: secret('b-a'),
            inbound: { systemId: 'hub-a', secretFile: secret('a-b') },
            trustedRoots: ['certs-dev/root-ca.pem'],
            outbound: 'push' as const,
            pollIntervalMs: 0,
            syncIntervalMs: 3_600_000,
            timeoutMs: 5000,
          },
        ],
      },
    });
  });

  after(async () => {
    await b?.close().catch(() => undefined);
    await a?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Whether A accepts B's calls (B's configured credential for A), waited for up to 10 s. */
  const bAcceptedAtA = (accepted: boolean, what: string) =>
    eventually(
      async () =>
        (await b.hub.federation.peers
          .require('a')
          .client.getReceivedEdocList()
          .then(
            () => true,
            (e: unknown) => {
              if (!(e instanceof PeerRefusal)) throw e;
              return false;
            },
          )) === accepted || null,
      10_000,
      what,
    );

  const addB = (...extra: string[]) =>
    ctlJson(
      'peers',
      'add',
      'b',
      '--url',
      `${b.url}/vdxp`,
      '--system-id',
      'hub-a',
      '--secret-file',
      secret('a-b'),
      '--inbound-system-id',
      'hub-b',
      '--inbound-secret-file',
      secret('b-a'),
      '--trusted-roots',
      path.join(PROJECT_ROOT, 'certs-dev/root-ca.pem'),
      '--poll-ms',
      '0',
      ...extra,
    );

  it('refuses invalid peers with stable codes and leaves nothing', async () => {
    const root = path.join(PROJECT_ROOT, 'certs-dev/root-ca.pem');
    const add = (id: string, url: string, roots: string) =>
      ctlJson(
        'peers',
        'add',
        id,
        '--url',
        url,
        '--system-id',
        'hub-a',
        '--secret-file',
        secret('a-b'),
        '--trusted-roots',
        roots,
      );
    const http = await add('x', 'http://peer.example/vdxp', root);
    expect(http.code).to.equal(3);
    expect(http.body.code).to.equal('PEER_INVALID');
    expect(String(http.body.message)).to.match(/baseUrl: http:\/\/ is allowed on loopback only/);
    expect((await add('x', 'https://peer.example/vdxp', secret('a-b'))).body.code).to.equal('PEER_INVALID');
    expect((await add('cfg', 'https://peer.example/vdxp', root)).body.code).to.equal('PEER_FROM_CONFIG');
    const taken = await addB('--inbound-system-id', 'hub-cfg');
    expect(taken.body.code).to.equal('PEER_INBOUND_TAKEN');
    for (const cmd of ['disable', 'enable', 'remove'])
      expect((await ctlJson('peers', cmd, 'cfg')).body.code, cmd).to.equal('PEER_FROM_CONFIG');
    const list = await ctlJson('peers', 'list');
    expect((JSON.parse(list.out) as { id: string }[]).map((p) => p.id)).to.deep.equal(['cfg']);
  });

  it('add: the running hub uses the new peer within federation.refreshMs, without a restart', async () => {
    const r = await addB();
    expect(r.code, r.err).to.equal(0);
    expect(r.body).to.include({ id: 'b', source: 'store' });
    // Picked up by the running hub: its agencies synchronised by the peer's new job.
    const view = await eventually(
      async () => {
        const v = a.hub.federation.peers.get('b') ? await a.hub.federation.view('b') : null;
        return v && v.agencies.length === 2 ? v : null;
      },
      30_000,
      "peer b's units at A",
    );
    expect(view).to.include({ source: 'store', enabled: true });
    // B's start-up sync found A not knowing it yet: B learns A's units now that A accepts it.
    expect((await b.hub.federation.sync('a')).listed).to.equal(1);
    // A document from A's unit to B's is relayed with sendEdoc and arrives.
    const msg = documentMessage('G22', ['H29.001']);
    await a.client('G22').submit(signed(msg, devSigningKey('G22')));
    const relayed = deliveryIdFor(docIdFor(edocKey('G22', msg.documentId)), 'H29.001');
    await eventually(
      async () => (await b.client('H29.001').inbox()).items.some((i) => i.documentId === msg.documentId),
      30_000,
      'the document at B',
    ).catch(async (err: unknown) => {
      const d = await a.hub.stores.deliveries.get(relayed);
      throw new Error(`${(err as Error).message}; at A: ${d?.transport} ${d?.lastError ?? ''}`);
    });
    // Listed with its source; a second add is refused.
    const list = JSON.parse((await ctl('--json', 'peers', 'list')).out) as { id: string; source: string }[];
    expect(list.map((p) => [p.id, p.source])).to.deep.equal([
      ['cfg', 'config'],
      ['b', 'store'],
    ]);
    expect((await addB()).body.code).to.equal('PEER_EXISTS');
  });

  it('a status from a peer arriving twice is applied once', async () => {
    const msg = documentMessage('G22', ['H29.001']);
    await a.client('G22').submit(signed(msg, devSigningKey('G22')));
    const docId = docIdFor(edocKey('G22', msg.documentId));
    const item = await eventually(
      async () => (await b.client('H29.001').inbox()).items.find((i) => i.documentId === msg.documentId),
      30_000,
      'the document at B',
    );
    await b.client('H29.001').ack(item.id, 'done');
    const status = signed(statusMessage('H29.001', msg, '03'), devSigningKey('H29.001'));
    await b.client('H29.001').submit(status); // B relays it to A (sendEdoc)
    await eventually(
      async () =>
        (await a.client('G22').statuses(docId)).find((v) => v.recipient === 'H29.001' && v.status === '03'),
      30_000,
      'status 03 at A',
    );
    // The peer sends the same status again (a retry): answered, applied once.
    await b.hub.federation.peers.require('a').client.sendEdoc(Buffer.from(status), 'H29.001');
    const d = await a.hub.stores.deliveries.get(deliveryIdFor(docId, 'H29.001'));
    expect(d?.timeline.filter((t) => t.code === '03')).to.have.length(1);
  });

  it('a status from a peer is never relayed to a peer', async () => {
    // The configured peer "cfg" serves H41.001; its unit sends to A's G22 and to B's H29.001.
    await a.hub.federation.directory.apply('cfg', [{ code: 'H41.001', name: 'UBND xã (cfg)' }]);
    const asCfg = new PeerClient({
      baseUrl: `${a.url}/vdxp`,
      systemId: 'hub-cfg',
      secret: readFileSync(secret('cfg'), 'utf8').trim(),
      timeoutMs: 5000,
    });
    const msg = documentMessage('H41.001', ['G22', 'H29.001']);
    await asCfg.sendEdoc(Buffer.from(signed(msg, devSigningKey('H41.001'))), 'H41.001');
    const docId = docIdFor(edocKey('H41.001', msg.documentId));
    const atA = await a.hub.stores.documents.get(docId);
    expect(atA?.recipients.find((r) => r.code === 'H29.001')?.reason).to.match(/^PEER_NOT_RELAYED/);
    // Its path is recorded: on the record, in the /v1 document view and in the evidence manifest.
    expect(atA?.via?.map((h) => [h.peer, h.systemId])).to.deep.equal([['cfg', 'hub-cfg']]);
    expect(atA?.via?.[0]?.at.getTime()).to.equal(atA?.receivedAt.getTime());
    expect((await a.client('G22').document(docId)).via?.map((h) => h.peer)).to.deep.equal(['cfg']);
    const manifest = JSON.parse(
      Buffer.from(unzipSync(await a.client('G22').evidence(docId))['manifest.json']!).toString('utf8'),
    ) as { via?: { peer: string }[] };
    expect(manifest.via?.map((h) => h.peer)).to.deep.equal(['cfg']);
    // … and in the document's detail page, for an administrator.
    const browser = await launchBrowser();
    try {
      const ctx = await newContext(browser, a.url);
      const page = await ctx.newPage();
      await login(page, TEST_OPERATOR.username, TEST_OPERATOR.password);
      await page.goto(`/ui/documents/${docId}`);
      expect(await page.textContent('#via')).to.match(/cfg[\s\S]*hub-cfg/);
    } finally {
      await browser.close();
    }
    // B's unit answers that document through A: refused, nothing goes to the peer "cfg".
    const status = signed(statusMessage('H29.001', msg, '03'), devSigningKey('H29.001'));
    const err = await b.hub.federation.peers
      .require('a')
      .client.sendEdoc(Buffer.from(status), 'H29.001')
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PeerRefusal);
    expect(String((err as Error).message)).to.match(/STATUS_UNKNOWN_DOCUMENT|PEER_NOT_RELAYED/);
    expect(
      await a.hub.mongo.db!.collection('deliveries').countDocuments({ recipientCode: 'H41.001' }),
    ).to.equal(0);
    expect((await a.hub.federation.view('cfg')).relayed).to.equal(0);
  });

  it('update: validated, audited with the fields changed, applied by the running hub', async () => {
    const bad = await ctlJson('peers', 'update', 'b', '--url', 'ftp://peer.example/vdxp');
    expect(bad.body.code).to.equal('PEER_INVALID');
    const r = await ctlJson('peers', 'update', 'b', '--name', 'Hub B (tỉnh)', '--timeout-ms', '4000');
    expect(r.code, r.err).to.equal(0);
    await eventually(
      () => a.hub.federation.peers.get('b')?.name === 'Hub B (tỉnh)' || null,
      10_000,
      'the new name',
    );
    const audit = await a.hub.mongo
      .db!.collection('audit')
      .findOne({ action: 'federation.peer.update', subject: 'b' });
    expect(audit?.data).to.deep.include({
      changed: ['name', 'timeoutMs'],
      name: 'Hub B (tỉnh)',
      timeoutMs: 4000,
    });
  });

  it('a stored peer clashing with a configured one is left out and reported, never merged', async () => {
    // As if "cfg" had been added with hubctl before the configuration gained it.
    await new MongoPeerDefinitionStore(a.hub.mongo, a.hub.config.credentials).create(
      storedPeer('cfg', { baseUrl: 'https://elsewhere.example/vdxp', inbound: undefined }),
    );
    try {
      const list = await ctl('peers', 'list');
      expect(list.err).to.match(/CLASH cfg: .*configuration wins/);
      const shown = await ctlJson('peers', 'show', 'cfg');
      expect(shown.body).to.include({ source: 'config', baseUrl: 'http://127.0.0.1:9/vdxp' });
      await eventually(() => a.hub.federation.peers.clashes.length === 1 || null, 10_000, 'the clash at A');
      expect(a.hub.federation.peers.get('cfg')?.config.baseUrl).to.equal('http://127.0.0.1:9/vdxp');
    } finally {
      await a.hub.mongo
        .db!.collection('federation_peers')
        .updateOne({ _id: 'cfg' as never }, { $unset: { def: '' } });
    }
  });

  it('keeps the secrets sealed at rest and out of the audit log', async () => {
    const plain = [readFileSync(secret('a-b'), 'utf8'), readFileSync(secret('b-a'), 'utf8')];
    const stored = JSON.stringify(await a.hub.mongo.db!.collection('federation_peers').find({}).toArray());
    const audit = await a.hub.mongo
      .db!.collection('audit')
      .find({ action: /^federation\.peer\./ })
      .toArray();
    expect(audit.map((e) => String(e.action))).to.include('federation.peer.add');
    for (const s of plain) {
      expect(stored).to.not.contain(s);
      expect(JSON.stringify(audit)).to.not.contain(s);
    }
    expect(stored).to.contain('secretEnc');
    const shown = await ctl('peers', 'show', 'b');
    for (const s of plain) expect(shown.out).to.not.contain(s);
  });

  it('rotate-secret --inbound: the old secret stops working at A, the new one works', async () => {
    await bAcceptedAtA(true, 'B accepted with the current secret');
    const r = await ctl('peers', 'rotate-secret', 'b', '--inbound', '--secret-file', secret('b-a-new'));
    expect(r.code, r.err).to.equal(0);
    await bAcceptedAtA(false, 'the old inbound secret refused');
    const audit = await a.hub.mongo
      .db!.collection('audit')
      .findOne({ action: 'federation.peer.rotate-secret', subject: 'b' });
    expect(audit?.data).to.deep.include({ inbound: true, outbound: false });
    expect(JSON.stringify(audit)).to.not.contain(readFileSync(secret('b-a-new'), 'utf8'));
    // Back to the secret B holds, so that B keeps working for the next tests.
    // An empty secret from stdin is refused (PEER_INVALID) and changes nothing.
    expect((await ctlJson('peers', 'rotate-secret', 'b', '--inbound', '--secret-stdin')).body.code).to.equal(
      'PEER_INVALID',
    );
    const back = await hubctlAsync(
      ['peers', 'rotate-secret', 'b', '--inbound', '--secret-stdin', '--db', a.dbName],
      { HUB_CONFIG: overlay },
      readFileSync(secret('b-a'), 'utf8'),
    );
    expect(back.code, back.err).to.equal(0);
    await bAcceptedAtA(true, 'B accepted again');
  });

  it('disable: nothing is relayed to the peer and its calls are refused; enable: both again', async () => {
    expect((await ctl('peers', 'disable', 'b')).code).to.equal(0);
    await bAcceptedAtA(false, 'B refused at A');
    expect(a.hub.federation.peers.list().map((p) => p.id)).to.deep.equal(['cfg']);
    expect((await ctlJson('peers', 'show', 'b')).body).to.include({ enabled: false, source: 'store' });
    // A document to B's unit waits (retried), not relayed.
    const msg = documentMessage('G22', ['H29.001']);
    await a.client('G22').submit(signed(msg, devSigningKey('G22')));
    const deliveryId = deliveryIdFor(docIdFor(edocKey('G22', msg.documentId)), 'H29.001');
    await eventually(
      async () => /disabled/.test((await a.hub.stores.deliveries.get(deliveryId))?.lastError ?? ''),
      30_000,
      'the relay held back',
    );
    expect((await a.hub.stores.deliveries.get(deliveryId))?.transport).to.equal('queued');

    expect((await ctl('peers', 'enable', 'b')).code).to.equal(0);
    await bAcceptedAtA(true, 'B accepted again');
    const audit = await a.hub.mongo
      .db!.collection('audit')
      .find({ subject: 'b', action: { $in: ['federation.peer.disable', 'federation.peer.enable'] } })
      .toArray();
    expect(audit.map((e) => String(e.action))).to.deep.equal([
      'federation.peer.disable',
      'federation.peer.enable',
    ]);
  });

  it('remove: refused while deliveries wait for the peer; --force dead-letters them visibly', async () => {
    expect((await ctl('peers', 'disable', 'b')).code).to.equal(0);
    await eventually(() => !a.hub.federation.peers.get('b')?.enabled || null, 10_000, 'b disabled at A');
    const msg = documentMessage('G22', ['H29.001']);
    await a.client('G22').submit(signed(msg, devSigningKey('G22')));
    const deliveryId = deliveryIdFor(docIdFor(edocKey('G22', msg.documentId)), 'H29.001');
    await eventually(
      async () => (await a.hub.stores.deliveries.get(deliveryId))?.transport === 'queued' || null,
      10_000,
      'the delivery waiting',
    );
    const refused = await ctlJson('peers', 'remove', 'b');
    expect(refused.code).to.equal(3);
    expect(refused.body.code).to.equal('PEER_BACKLOG');
    expect((await ctlJson('peers', 'show', 'b')).body).to.include({ id: 'b' }); // still there

    const forced = await ctlJson('peers', 'remove', 'b', '--force');
    expect(forced.code, forced.err).to.equal(0);
    expect(forced.body.deadLettered).to.be.at.least(1);
    const letters = JSON.parse((await ctl('--json', 'deadletters', 'list')).out) as {
      deliveryId?: string;
      reason: string;
    }[];
    const letter = letters.find((l) => l.deliveryId === deliveryId);
    expect(letter?.reason).to.match(/federation peer b removed/);
    await eventually(() => !a.hub.federation.peers.get('b') || null, 10_000, 'b gone at A');
    expect((await ctlJson('peers', 'show', 'b')).body.code).to.equal('NOT_FOUND');
  });

  it('hubctl credentials reseal re-seals the secrets of stored peers too', async () => {
    const oldKey = a.hub.config.credentials.key;
    const newKey = `new-key-${randomBytes(24).toString('hex')}`;
    writeFileSync(secret('old.key'), oldKey);
    writeFileSync(secret('new.key'), newKey);
    const peer = storedPeer('resealed');
    await new MongoPeerDefinitionStore(a.hub.mongo, oldKey).create(peer);
    const reseal = (from: string, to: string) =>
      ctlJson('credentials', 'reseal', '--from-key-file', secret(from), '--to-key-file', secret(to));
    try {
      const r = await reseal('old.key', 'new.key');
      expect(r.code, r.err).to.equal(0);
      const opened = await new MongoPeerDefinitionStore(a.hub.mongo, newKey).definition('resealed');
      expect(opened?.secret).to.equal(peer.secret);
      expect(opened?.inbound?.secret).to.equal(peer.inbound?.secret);
      const err = await new MongoPeerDefinitionStore(a.hub.mongo, oldKey)
        .definition('resealed')
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(Error);
    } finally {
      // Back to the running hub's key, then gone.
      expect((await reseal('new.key', 'old.key')).code).to.equal(0);
      expect(
        (await new MongoPeerDefinitionStore(a.hub.mongo, oldKey).definition('resealed'))?.secret,
      ).to.equal(peer.secret);
      await new MongoPeerDefinitionStore(a.hub.mongo, oldKey).remove('resealed');
    }
  });
});
