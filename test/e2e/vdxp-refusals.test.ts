/**
 * Bad input on the national-axis API (/vdxp): wrong secret, unknown system, missing or altered
 * signed headers, a header that differs from its signed value, a hash-file that does not match
 * the body, an oversize body, and messages the hub's own checks refuse. Each is answered with the
 * FAIL envelope (sendEdoc: with DocId) and stores nothing.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { sdkHashFileOf, VdxpSdkClient, type SdkResponse } from '../support/vdxp-sdk.ts';

const MAX = 200_000;

type Envelope = { status: string; ErrorCode: string; ErrorDesc: string; DocId?: string };

function refused(r: SdkResponse, code: string, hubCode: string): Envelope {
  expect(r.httpStatus).to.equal(200);
  expect(/^[\x20-\x7e]*$/.test(r.body.toString('latin1'))).to.equal(true);
  const e = r.json<Envelope>();
  expect(e, JSON.stringify(e)).to.include({ status: 'FAIL', ErrorCode: code, DocId: '' });
  expect(e.ErrorDesc).to.contain(`[${hubCode}]`);
  return e;
}

function setHeader(raw: string[], name: string, value: string): void {
  const i = raw.findIndex((x, j) => j % 2 === 0 && x === name);
  if (i < 0) throw new Error(`no header ${name}`);
  raw[i + 1] = value;
}

function dropHeader(raw: string[], name: string): void {
  const i = raw.findIndex((x, j) => j % 2 === 0 && x === name);
  if (i < 0) throw new Error(`no header ${name}`);
  raw.splice(i, 2);
}

describe('national-axis API (/vdxp): bad input is refused with the envelope and stores nothing', function () {
  this.timeout(90_000);
  let t: TestHub;
  let endpoint: string;
  let xml: Buffer;
  let initial: Record<string, number>;

  const sender = () => new VdxpSdkClient(endpoint, 'dms-H29.001', 'DEV-ONLY-secret-H29.001');
  const headers = '{"from":"H29.001","servicetype":"eDoc","messagetype":"edoc"}';

  async function counts() {
    const m = t.hub.stores.models;
    return {
      documents: await m.Document.countDocuments(),
      deliveries: await m.Delivery.countDocuments(),
      outbox: await m.Outbox.countDocuments(),
      payloads: await m.PayloadChunk.countDocuments(),
    };
  }

  before(async () => {
    t = await startTestHub('vdxprefuse', { http: { port: 0, host: '127.0.0.1', maxMessageBytes: MAX } });
    endpoint = `${t.url}/vdxp`;
    xml = Buffer.from(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')), 'utf8');
    initial = await counts();
  });
  afterEach(async () => {
    expect(await counts()).to.deep.equal(initial);
  });
  after(async () => {
    await t?.close();
  });

  it('a wrong secret and an unknown systemId get the same answer', async () => {
    const wrong = refused(
      await new VdxpSdkClient(endpoint, 'dms-H29.001', 'DEV-ONLY-secret-H41.001').sendEdoc(headers, xml),
      '401',
      'UNAUTHENTICATED',
    );
    const unknown = refused(
      await new VdxpSdkClient(endpoint, 'dms-nobody', 'DEV-ONLY-secret-H29.001').sendEdoc(headers, xml),
      '401',
      'UNAUTHENTICATED',
    );
    expect(unknown.ErrorDesc).to.equal(wrong.ErrorDesc);
  });

  it('missing signed headers: hash-header, sign-header, sign-header-key, or systemid not signed', async () => {
    for (const h of ['XroadVnpt-hash-header', 'XroadVnpt-sign-header', 'XroadVnpt-sign-header-key']) {
      const e = refused(
        await sender().call('sendEdoc', headers, { file: xml, tamper: (r) => dropHeader(r.rawHeaders, h) }),
        '401',
        'UNAUTHENTICATED',
      );
      expect(e.ErrorDesc).to.contain(h);
    }
    const noSystemId = sender();
    noSystemId.map.delete('systemid');
    refused(await noSystemId.sendEdoc(headers, xml), '401', 'UNAUTHENTICATED');
    // hash-file itself not signed: the body cannot be bound to the signature.
    const noHash = await sender().call('sendEdoc', headers, {
      file: xml,
      tamper: (r) => {
        const sdk = sender();
        const s = sdk.sign('getAgenciesList', headers); // signed without hash-file
        r.rawHeaders.splice(0, r.rawHeaders.length, ...s.rawHeaders);
      },
    });
    refused(noHash, '400', 'VALIDATION_FAILED');
  });

  it('an altered sign-header (the HMAC no longer matches)', async () => {
    const other = sdkHashFileOf(Buffer.from('<edXML>other</edXML>'));
    const r = await sender().call('sendEdoc', headers, {
      file: xml,
      tamper: ({ rawHeaders }) => {
        const i = rawHeaders.indexOf('XroadVnpt-sign-header');
        rawHeaders[i + 1] = rawHeaders[i + 1]!.replace(/("XroadVnpt-hash-file":")[0-9a-f]+/, `$1${other}`);
      },
    });
    expect(refused(r, '401', 'UNAUTHENTICATED').ErrorDesc).to.contain('invalid signature');
  });

  it('a header that differs from its signed value', async () => {
    const r = await sender().call('sendEdoc', headers, {
      file: xml,
      tamper: ({ rawHeaders }) => setHeader(rawHeaders, 'XroadVnpt-from', 'H41.001'),
    });
    expect(refused(r, '401', 'UNAUTHENTICATED').ErrorDesc).to.contain('XroadVnpt-from');
    const r2 = await sender().call('sendEdoc', headers, {
      file: xml,
      tamper: ({ rawHeaders }) =>
        setHeader(rawHeaders, 'XroadVnpt-hash-file', sdkHashFileOf(Buffer.from('x'))),
    });
    refused(r2, '401', 'UNAUTHENTICATED');
  });

  it('a body whose hash differs from the signed hash-file', async () => {
    const r = await sender().call('sendEdoc', headers, {
      file: xml,
      tamper: (req) => {
        const b = Buffer.from(req.body);
        b[100] = b[100]! ^ 1;
        req.body = b;
      },
    });
    refused(r, '1006', 'CONTENT_HASH_MISMATCH');
  });

  it('an oversize body (over http.maxMessageBytes)', async () => {
    const big = Buffer.concat([xml, Buffer.from(`<!-- ${randomBytes(MAX).toString('hex')} -->`)]);
    const e = refused(await sender().sendEdoc(headers, big), '413', 'PAYLOAD_TOO_LARGE');
    expect(e.ErrorDesc).to.contain(String(MAX));
    // Without a valid signature the body is not even read: the answer is the authentication failure.
    const stranger = new VdxpSdkClient(endpoint, 'dms-H29.001', 'wrong');
    refused(await stranger.sendEdoc(headers, big), '401', 'UNAUTHENTICATED');
  });

  it('messages the hub itself refuses: altered after signing, another agency’s, no valid recipient', async () => {
    const tampered = Buffer.from(
      xml.toString('utf8').replace('Nội dung công văn', 'Nội dung đã sửa'),
      'utf8',
    );
    expect(tampered.equals(xml)).to.equal(false);
    const e = refused(await sender().sendEdoc(headers, tampered), '1104', 'SIGNATURE_INVALID');
    expect(e.ErrorDesc).to.match(/^Ch/); // Vietnamese first
    // The system of H41.001 cannot send for H29.001 (the edXML's signed From).
    refused(
      await new VdxpSdkClient(endpoint, 'dms-H41.001', 'DEV-ONLY-secret-H41.001').sendEdoc(headers, xml),
      '1302',
      'CALLER_MISMATCH',
    );
    const nowhere = Buffer.from(
      signed(documentMessage('H29.001', ['H99.999']), t.signingKey('H29.001')),
      'utf8',
    );
    refused(await sender().sendEdoc(headers, nowhere), '1402', 'UNKNOWN_RECIPIENT');
    refused(
      await sender().sendEdoc(headers, Buffer.from('<edXML>test 2</edXML>\n')),
      '1005',
      'SCHEMA_INVALID',
    );
  });

  it('says why a message is refused, as /v1 does, in Vietnamese and English', async () => {
    const bad = Buffer.from('<edXML>test 2</edXML>\n');
    const v1 = (await (
      await t.client('H29.001').request('POST', '/v1/documents', bad, 'application/xml')
    ).json()) as { code: string; message: string };
    expect(v1.code).to.equal('SCHEMA_INVALID');
    const reason = v1.message.slice('The message does not follow the edXML schema: '.length);
    expect(reason).to.not.equal('');
    const e = refused(await sender().sendEdoc(headers, bad), '1005', 'SCHEMA_INVALID');
    expect(e.ErrorDesc).to.equal(
      `Thông điệp không đúng cấu trúc edXML (The message does not follow the edXML schema): ${reason} [SCHEMA_INVALID]`,
    );
  });
});
