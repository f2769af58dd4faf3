/**
 * Replays of signed /v1 requests across api processes (docs/threat-model.md T3): two hubs on one
 * store, as two api processes behind a load balancer. A submission has no ledger entry once accepted
 * (its document key answers the replay with the original receipt and nothing is written); a refused
 * one has, so its replay is refused everywhere; an acknowledgement likewise (a repeat answers with the
 * first and writes nothing, not even an audit entry); every other request keeps its entry.
 */
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createHub, type Hub } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { CONTENT_SHA256_HEADER, sha256Hex, signRequest } from '../../src/http/hmac-auth.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { connectMongo } from '../../src/store/mongo.ts';
import { SIGNATURE_COLLECTION } from '../../src/store/signature-ledger.ts';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

const H29 = { systemId: 'dms-H29.001', secret: 'DEV-ONLY-secret-H29.001' };
const H41 = { systemId: 'dms-H41.001', secret: 'DEV-ONLY-secret-H41.001' };

/** One signed request, fixed, so that the very same bytes can be sent to either process. */
function signedRequest(
  who: { systemId: string; secret: string },
  method: string,
  path: string,
  body: Uint8Array = Buffer.alloc(0),
  contentType?: string,
) {
  const bodySha256 = sha256Hex(body);
  const headers: Record<string, string> = {
    authorization: signRequest(who.systemId, who.secret, {
      method,
      pathWithQuery: path,
      timestamp: Math.floor(Date.now() / 1000),
      bodySha256,
    }),
    [CONTENT_SHA256_HEADER]: bodySha256,
    ...(contentType ? { 'content-type': contentType } : {}),
  };
  return (base: string) =>
    fetch(`${base}${path}`, { method, headers, ...(method === 'GET' ? {} : { body: Buffer.from(body) }) });
}

describe('replayed requests across api processes', function () {
  this.timeout(90_000);
  let t: TestHub;
  let second: Hub;
  let db: Connection;
  let urlB: string;

  before(async () => {
    t = await startTestHub('replay');
    // A second api process on the same store and broker (the same database and queue prefix).
    const config = loadConfig(process.env, {
      roles: ['api'],
      amqp: { prefix: t.hub.config.amqp.prefix, shards: t.hub.config.amqp.shards },
      log: { level: 'silent' },
      http: { port: 0, host: '127.0.0.1', opsPort: 0 },
    });
    second = await createHub(config, {
      dbName: t.dbName,
      log: createLogger('silent'),
      defaultMetrics: false,
    });
    urlB = second.url!;
    db = await connectMongo(loadConfig().mongodb.uri, { dbName: t.dbName });
  });
  after(async () => {
    await db?.close();
    await second?.stop();
    await t?.close();
  });

  /** What a request could have written: records per collection. */
  async function state(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const c of ['documents', 'deliveries', 'outbox', 'inbox_entries', 'audit', SIGNATURE_COLLECTION])
      out[c] = await db.db!.collection(c).countDocuments({});
    return out;
  }

  it('answers a submission replayed to another process with the original receipt, writing nothing', async () => {
    const xml = Buffer.from(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
    const send = signedRequest(H29, 'POST', '/v1/documents', xml, 'application/xml');
    const first = await send(t.url);
    expect(first.status).to.equal(202);
    const original = (await first.json()) as { docId: string; receipt: string; duplicate: boolean };
    // Its life settled (delivered, outbox emptied), so that nothing else changes the counts.
    await eventually(async () => {
      const d = await db.db!.collection('deliveries').findOne({ docId: original.docId });
      return d?.transport === 'available' && (await db.db!.collection('outbox').countDocuments({})) === 0;
    });
    const before = await state();
    const replay = await send(urlB);
    expect(replay.status).to.equal(200);
    const again = (await replay.json()) as typeof original;
    expect(again.duplicate).to.equal(true);
    expect(again.docId).to.equal(original.docId);
    expect(again.receipt).to.equal(original.receipt);
    expect(await state()).to.deep.equal(before);
    // The same process remembers the signature: refused before the body is read.
    const third = await send(urlB);
    expect(third.status).to.equal(401);
    expect(((await third.json()) as { code: string }).code).to.equal('REQUEST_REPLAYED');
  });

  it('spends a refused submission, so that its replay to another process is refused too', async () => {
    const xml = Buffer.from(signed(documentMessage('H29.001', ['H99.999']), t.signingKey('H29.001')));
    const send = signedRequest(H29, 'POST', '/v1/documents', xml, 'application/xml');
    const first = await send(t.url);
    expect(first.status).to.equal(422);
    expect(((await first.json()) as { code: string }).code).to.equal('UNKNOWN_RECIPIENT');
    const replay = await send(urlB);
    expect(replay.status).to.equal(401);
    expect(((await replay.json()) as { code: string }).code).to.equal('REQUEST_REPLAYED');
  });

  /** A document delivered to H41.001 and listed: its inbox item. */
  async function delivered() {
    const sent = await t
      .client('H29.001')
      .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
    return eventually(async () => {
      const r = await t.client('H41.001').inbox();
      return r.items.find((i) => i.docId === sent.docId);
    });
  }
  /** A signed acknowledgement ("done") of `id`, fixed. */
  const signedAck = (who: typeof H41, id: string) =>
    signedRequest(
      who,
      'POST',
      `/v1/inbox/${encodeURIComponent(id)}/ack`,
      Buffer.from(JSON.stringify({ result: 'done' })),
      'application/json',
    );
  /** Refused as a replay (REQUEST_REPLAYED). */
  const expectReplayed = async (r: Response) => {
    expect(r.status).to.equal(401);
    expect(((await r.json()) as { code: string }).code).to.equal('REQUEST_REPLAYED');
  };
  const auditOf = (id: string) =>
    db.db!.collection('audit').countDocuments({ action: 'delivery.acknowledged', subject: id });

  it('answers an acknowledgement replayed to another process with the first answer, writing nothing', async () => {
    const item = await delivered();
    const send = signedAck(H41, item.id);
    const first = await send(t.url);
    expect(first.status).to.equal(200);
    const original = (await first.json()) as Record<string, unknown>;
    expect(original).to.deep.include({ id: item.id, transport: 'acknowledged', ack: { result: 'done' } });
    expect(await auditOf(item.id)).to.equal(1);
    const before = await state();
    const replay = await send(urlB);
    expect(replay.status).to.equal(200);
    expect(await replay.json()).to.deep.equal(original);
    // No new state: no ledger entry, no second audit entry, nothing else.
    expect(await state()).to.deep.equal(before);
    expect(await auditOf(item.id)).to.equal(1);
    // The same process remembers the signature: refused before the body is read.
    await expectReplayed(await send(urlB));
  });

  it('audits a repeated acknowledgement once, answering it with the first', async () => {
    const item = await delivered();
    const client = t.client('H41.001');
    const first = await client.ack(item.id, 'fail', 'unreadable');
    const again = await client.ack(item.id);
    expect(again).to.deep.equal(first);
    expect(first).to.deep.include({
      transport: 'acknowledged',
      ack: { result: 'fail', reason: 'unreadable' },
    });
    expect(await auditOf(item.id)).to.equal(1);
  });

  it('spends a refused acknowledgement, so that its replay to another process is refused too', async () => {
    const item = await delivered();
    // Not the caller's item (H29.001 is its sender): refused as absent, and spent before the answer.
    const send = signedAck(H29, item.id);
    const spent = () => db.db!.collection(SIGNATURE_COLLECTION).countDocuments({});
    const before = await spent();
    const first = await send(t.url);
    expect(first.status).to.equal(404);
    expect(await spent()).to.equal(before + 1);
    await expectReplayed(await send(urlB));
    expect(await auditOf(item.id)).to.equal(0);
  });

  it('refuses a replayed inbox listing, document read and download on another process', async () => {
    const sent = await t
      .client('H29.001')
      .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
    const docId = sent.docId;
    const item = await eventually(async () => {
      const r = await t.client('H41.001').inbox();
      return r.items.find((i) => i.docId === docId);
    });
    const requests = [
      signedRequest(H41, 'GET', '/v1/inbox'),
      signedRequest(H29, 'GET', `/v1/documents/${docId}`),
      signedRequest(H41, 'GET', `/v1/inbox/${item.id}`),
    ];
    for (const send of requests) {
      const first = await send(t.url);
      expect(first.status).to.equal(200);
      await first.arrayBuffer();
      const replay = await send(urlB);
      expect(replay.status).to.equal(401);
      expect(((await replay.json()) as { code: string }).code).to.equal('REQUEST_REPLAYED');
    }
  });
});
