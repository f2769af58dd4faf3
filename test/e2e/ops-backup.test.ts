/**
 * Backups (issue 23, docs/deployment.md ## Backups): hubctl backup create → the database lost →
 * hubctl backup restore into the empty database → audit verify intact → deliveries requeue → the
 * restored hub delivers, old documents and new. Restore refuses a non-empty database and a backup
 * that does not match its manifest, leaving nothing behind; dead letters of deliveries the restore
 * removed are pruned (dry run first).
 */
import { expect } from 'chai';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHub, type Hub } from '../../src/app.ts';
import { DeadLetterService } from '../../src/delivery/dead-letters.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { checkBackup, restoreBackup } from '../../src/store/backup.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { hubctlAsync } from '../support/hubctl.ts';
import {
  devSigningKey,
  disposeHub,
  eventually,
  rewindDelivery,
  startTestHub,
  type TestHub,
} from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { HubClient } from '../../src/sdk/client.ts';

describe('ops: backup and restore with hubctl', function () {
  this.timeout(900_000);
  let t: TestHub;
  let restored: Hub | undefined;
  let dir: string;

  before(async () => {
    t = await startTestHub('opsbackup');
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ops-backup-')), 'b1');
  });
  after(async () => {
    const hub = restored ?? t?.hub;
    if (hub) await disposeHub(hub);
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('backs up, restores into the emptied database, verifies the audit chain and delivers again', async () => {
    const m = t.hub.stores.models;
    const before = documentMessage('H29.001', ['H41.001']);
    const a = await t.client('H29.001').submit(signed(before, t.signingKey('H29.001')));
    const inFlight = `${a.docId}:H41.001`;
    await eventually(
      async () =>
        (await m.Delivery.findById(inFlight).lean<{ transport: string }>())?.transport === 'available',
      60_000,
      'delivery made',
    );
    // The backup catches this delivery while its task is in flight: queued, the task not in the copy.
    await rewindDelivery(t.hub, inFlight);
    await m.InboxEntry.deleteMany({ _id: inFlight });

    const made = await hubctlAsync(['--json', 'backup', 'create', dir, '--db', t.dbName]);
    expect(made.code, made.err).to.equal(0);
    const manifest = await checkBackup(dir);
    const count = (name: string) => manifest.collections.find((c) => c.name === name)?.count;
    expect(count('documents')).to.equal(1);
    expect(count('deliveries')).to.equal(1);
    expect(count('users')).to.be.greaterThan(0);
    expect(count('systems')).to.be.greaterThan(0);
    expect(manifest.auditLastSeq).to.be.greaterThan(0);

    // Restore refuses a database holding documents (the live one), changing nothing.
    const docsBefore = await m.Document.countDocuments();
    const full = await restoreBackup(t.hub.mongo, dir).catch((e: unknown) => e as { code?: string });
    expect(full).to.have.property('code', 'BACKUP_TARGET_NOT_EMPTY');
    expect(await m.Document.countDocuments()).to.equal(docsBefore);

    // The loss: the hub stops, its database is gone.
    const config = t.hub.config;
    await t.hub.stop();
    const conn = await connectMongo(config.mongodb.uri, { dbName: t.dbName });
    await conn.dropDatabase();
    await conn.close();

    const rest = await hubctlAsync(['--json', 'backup', 'restore', dir, '--db', t.dbName]);
    expect(rest.code, rest.err).to.equal(0);
    expect(JSON.parse(rest.out)).to.include({ ok: true, actor: 'hubctl:admin' });
    const verify = await hubctlAsync(['--json', 'audit', 'verify', '--db', t.dbName]);
    expect(verify.code, verify.out).to.equal(0);
    expect(JSON.parse(verify.out)).to.include({ ok: true });

    restored = await createHub(config, {
      dbName: t.dbName,
      log: createLogger('silent'),
      defaultMetrics: false,
    });
    const rm = restored.stores.models;
    const requeue = await hubctlAsync([
      '--json',
      'deliveries',
      'requeue',
      '--older-than',
      '0',
      '--db',
      t.dbName,
    ]);
    expect(requeue.code, requeue.err).to.equal(0);
    expect(JSON.parse(requeue.out)).to.include({ requeued: 1 });
    await eventually(
      async () =>
        (await rm.Delivery.findById(inFlight).lean<{ transport: string }>())?.transport === 'available',
      60_000,
      'restored delivery made',
    );
    const client = (code: string) =>
      new HubClient({ baseUrl: restored!.url!, systemId: `dms-${code}`, secret: `DEV-ONLY-secret-${code}` });
    const after = documentMessage('H29.001', ['H41.001']);
    await client('H29.001').submit(signed(after, devSigningKey('H29.001')));
    const inbox = await eventually(
      async () => {
        const items = (await client('H41.001').inbox({ type: 'edoc' })).items;
        return items.length === 2 ? items : null;
      },
      60_000,
      'both documents in the inbox',
    );
    expect(inbox.map((i) => i.documentId).sort()).to.deep.equal([before.documentId, after.documentId].sort());

    // Dead letters of deliveries the restore removed: listed by a dry run, deleted with --apply.
    const dead = new DeadLetterService(restored.stores, restored.stores.audit);
    await dead.record(
      Buffer.from(JSON.stringify({ deliveryId: 'gone-doc:H41.001' })),
      'no delivery gone-doc:H41.001',
    );
    const dry = await hubctlAsync(['--json', 'deadletters', 'prune-orphans', '--db', t.dbName]);
    expect(JSON.parse(dry.out)).to.deep.include({ dryRun: true, deleted: 0 });
    expect(await rm.DeadLetter.countDocuments()).to.equal(1);
    const apply = await hubctlAsync(['--json', 'deadletters', 'prune-orphans', '--apply', '--db', t.dbName]);
    expect(JSON.parse(apply.out)).to.include({ deleted: 1 });
    expect(await rm.DeadLetter.countDocuments()).to.equal(0);
  });

  it('refuses a backup whose files do not match the manifest, writing nothing', async () => {
    // A backup of this test's own (the other test's may not exist yet), of whatever the database
    // holds now: the seeded systems at least.
    const own = path.join(path.dirname(dir), 'forged');
    const made = await hubctlAsync(['--json', 'backup', 'create', own, '--db', t.dbName]);
    expect(made.code, made.err).to.equal(0);
    expect((await checkBackup(own)).collections.find((c) => c.name === 'systems')?.count).to.be.greaterThan(
      0,
    );
    appendFileSync(path.join(own, 'systems.ejson'), '{"_id":"forged"}\n');
    const conn = await connectMongo(t.hub.config.mongodb.uri, { dbName: `${t.dbName}_x` });
    try {
      const err = await restoreBackup(conn, own).catch((e: unknown) => e as { code?: string });
      expect(err).to.have.property('code', 'BACKUP_INVALID');
      expect(await conn.db!.listCollections().toArray()).to.deep.equal([]);
    } finally {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    }
  });
});
