/**
 * Large messages are stored in chunks and downloads stream them one chunk at a time: the bytes
 * come back exact across chunk boundaries on both APIs, and a chunk lost from the store cuts the
 * download instead of passing off a shorter document as whole.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { VdxpSdkClient } from '../support/vdxp-sdk.ts';
import { HubClient } from '../../src/sdk/client.ts';
import { SdkError } from '../../src/sdk/errors.ts';

describe('large documents: chunked storage, streamed downloads', function () {
  this.timeout(120_000);
  let t: TestHub;
  let xml: Buffer;
  let docId: string;
  let itemId: string;

  before(async () => {
    t = await startTestHub('largedl');
    // About 9.4 MB: three stored chunks of at most 4 MiB.
    const msg = documentMessage('H29.001', ['H41.001']);
    msg.attachments[0]!.contentBase64 = randomBytes(7_000_000).toString('base64');
    xml = Buffer.from(signed(msg, t.signingKey('H29.001')), 'utf8');
    const r = await t.client('H29.001').submit(xml);
    expect(r.httpStatus).to.equal(202);
    docId = r.docId;
    const item = await eventually(
      async () => (await t.client('H41.001').inbox()).items.find((i) => i.docId === docId),
      30_000,
      'the large document in the inbox',
    );
    itemId = item.id;
  });
  after(async () => {
    await t?.close();
  });

  /**
   * The recipient's client without retries, waiting at most 5 s: a cut download is reported at once
   * (HUB_UNREACHABLE); a response left hanging short of its length would end in TIMEOUT.
   */
  const oneAttempt = () =>
    new HubClient({
      baseUrl: t.url,
      systemId: 'dms-H41.001',
      secret: 'DEV-ONLY-secret-H41.001',
      retry: false,
      timeoutMs: 5_000,
    });

  it('stores the message in several chunks and serves it back exactly on /v1', async () => {
    expect(await t.hub.stores.models.PayloadChunk.countDocuments({ docId })).to.equal(3);
    const res = await t.client('H41.001').call('GET', `/v1/inbox/${itemId}`);
    expect(res.headers.get('content-length')).to.equal(String(xml.length));
    expect(res.body.equals(xml)).to.equal(true);
  });

  it('serves payloads stored before chunk counts were recorded (chunks found by document)', async () => {
    const { PayloadChunk } = t.hub.stores.models;
    await PayloadChunk.updateOne({ _id: `${docId}:0` }, { $unset: { of: 1 } });
    const last = await PayloadChunk.findById(`${docId}:2`).lean();
    try {
      expect((await PayloadChunk.findById(`${docId}:0`).lean<{ of?: number }>())?.of).to.equal(undefined);
      expect((await t.client('H41.001').download(itemId)).equals(xml)).to.equal(true);
      // Without a count a lost last chunk is seen only by the length: cut, not left hanging.
      await PayloadChunk.deleteOne({ _id: `${docId}:2` });
      const err = await oneAttempt()
        .download(itemId)
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(SdkError);
      expect((err as SdkError).code).to.equal('HUB_UNREACHABLE'); // not a TIMEOUT waiting for bytes
    } finally {
      if (!(await PayloadChunk.findById(`${docId}:2`).lean()))
        await PayloadChunk.collection.insertOne(last as never);
      await PayloadChunk.updateOne({ _id: `${docId}:0` }, { $set: { of: 3 } });
    }
  });

  it('serves it on the national-axis API too (downloadEdoc raw, getEdoc base64)', async () => {
    const B = new VdxpSdkClient(`${t.url}/vdxp`, 'dms-H41.001', 'DEV-ONLY-secret-H41.001');
    const dl = await B.downloadEdoc(`{"docId":"${docId}_H41.001"}`);
    expect(dl.httpStatus).to.equal(200);
    expect(dl.body.equals(xml)).to.equal(true);
    const got = await B.getEdoc(`{"docId":"${docId}_H41.001"}`);
    const data = (JSON.parse(got.body.toString('utf8')) as { data: string }).data;
    expect(Buffer.from(data, 'base64').equals(xml)).to.equal(true);
  });

  it('cuts the download when a chunk is missing, and keeps serving other requests', async () => {
    const { PayloadChunk } = t.hub.stores.models;
    const middle = await PayloadChunk.findById(`${docId}:1`).lean();
    expect(middle).to.not.equal(null);
    await PayloadChunk.deleteOne({ _id: `${docId}:1` });
    try {
      let err: unknown;
      const got = await oneAttempt()
        .download(itemId)
        .catch((e: unknown) => {
          err = e;
          return null;
        });
      expect(got, 'a truncated document must not be returned').to.equal(null);
      expect(err).to.be.instanceOf(SdkError);
      expect((err as SdkError).code).to.equal('HUB_UNREACHABLE');
      // The hub is still answering.
      expect((await t.client('H41.001').inbox()).items.some((i) => i.id === itemId)).to.equal(true);
    } finally {
      await PayloadChunk.collection.insertOne(middle as never);
    }
    expect((await t.client('H41.001').download(itemId)).equals(xml)).to.equal(true);
  });
});
