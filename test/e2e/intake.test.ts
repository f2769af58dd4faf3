/**
 * Request intake (issue 18 §4-§6): nothing large is read before the caller is known, a signed /v1
 * request is accepted once, paths that do not decode are the client's error, and /metrics is not
 * served on the public port.
 */
import { expect } from 'chai';
import { eventually, startTestHub, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';
import { postLarge } from '../support/large-post.ts';
import { CONTENT_SHA256_HEADER, sha256Hex, signRequest } from '../../src/http/hmac-auth.ts';
import { HubClient } from '../../src/sdk/client.ts';

const MiB = 1024 * 1024;
const ADMIN = { systemId: 'hub-admin', secret: 'DEV-ONLY-secret-admin' }; // DEV-ONLY seed credential
const H29 = { systemId: 'dms-H29.001', secret: 'DEV-ONLY-secret-H29.001' };
const H41 = { systemId: 'dms-H41.001', secret: 'DEV-ONLY-secret-H41.001' };
const G22 = { systemId: 'dms-G22', secret: 'DEV-ONLY-secret-G22' };

/** Headers of a signed /v1 request, fixed so that the very same request can be sent twice. */
function signedHeaders(
  who: { systemId: string; secret: string },
  method: string,
  pathWithQuery: string,
  body: Uint8Array,
  o: { declaredSha256?: string; timestamp?: number } = {},
): Record<string, string> {
  const bodySha256 = sha256Hex(body);
  return {
    authorization: signRequest(who.systemId, who.secret, {
      method,
      pathWithQuery,
      timestamp: o.timestamp ?? Math.floor(Date.now() / 1000),
      bodySha256: o.declaredSha256 ?? bodySha256,
    }),
    [CONTENT_SHA256_HEADER]: o.declaredSha256 ?? bodySha256,
  };
}

describe('request intake', function () {
  this.timeout(60_000);
  let t: TestHub;

  before(async () => {
    t = await startTestHub('intake');
  });
  after(async () => {
    await t?.close();
  });

  describe('malformed percent-encoding in the path', () => {
    let errors: unknown[];
    let restore: () => void;
    beforeEach(() => {
      errors = [];
      const log = t.hub.log;
      const original = log.error.bind(log);
      log.error = (...args: unknown[]) => void errors.push(args);
      restore = () => (log.error = original);
    });
    afterEach(() => restore());

    it('answers 400 URL_MALFORMED on /v1 for a signed request, and logs no error', async () => {
      const res = await t.client('H29.001').request('GET', '/v1/documents/%E0%A4%A');
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { code: string }).code).to.equal('URL_MALFORMED');
      expect(errors).to.deep.equal([]);
    });

    for (const p of ['/ui/documents/%E0%A4%A', '/vdxp/%E0%A4%A', '/v1/agencies/%FF']) {
      it(`answers 400 URL_MALFORMED for ${p}, and logs no error`, async () => {
        const res = await fetch(`${t.url}${p}`);
        expect(res.status).to.equal(400);
        expect(await res.text()).to.contain('URL_MALFORMED');
        expect(errors).to.deep.equal([]);
      });
    }
  });

  describe('nothing large is read before the caller is known', () => {
    const BIG = 24 * MiB;
    // The hub reads what the kernel already buffered before it answers: far less than the body.
    const SMALL_READ = 2 * MiB;

    it('answers 401 to an unsigned 24 MiB POST and closes the connection having read a fraction', async () => {
      const r = await postLarge(t.url, '/v1/documents', {}, BIG, { server: t.hub.server });
      expect(r.status).to.equal(401);
      expect(r.code).to.equal('UNAUTHENTICATED');
      expect(r.serverBytesRead).to.be.below(SMALL_READ);
    });

    it('answers 401 to a 24 MiB POST from an unknown system, having read a fraction', async () => {
      const h = signedHeaders(
        { systemId: 'dms-nobody', secret: 'x' },
        'POST',
        '/v1/documents',
        Buffer.alloc(0),
      );
      const r = await postLarge(t.url, '/v1/documents', h, BIG, { server: t.hub.server });
      expect(r.status).to.equal(401);
      expect(r.serverBytesRead).to.be.below(SMALL_READ);
    });

    it('answers 401 to a 24 MiB POST with a wrong signature over the declared hash, having read a fraction', async () => {
      const h = signedHeaders({ ...H29, secret: 'wrong' }, 'POST', '/v1/documents', Buffer.alloc(0));
      const r = await postLarge(t.url, '/v1/documents', h, BIG, { server: t.hub.server });
      expect(r.status).to.equal(401);
      expect(r.serverBytesRead).to.be.below(SMALL_READ);
    });

    it('answers 428 BODY_HASH_REQUIRED to a known system sending 24 MiB without X-Hub-Content-SHA256', async () => {
      const h = signedHeaders(H29, 'POST', '/v1/documents', Buffer.alloc(BIG, 0x61));
      delete h[CONTENT_SHA256_HEADER];
      const r = await postLarge(t.url, '/v1/documents', h, BIG, { server: t.hub.server });
      expect(r.status).to.equal(428);
      expect(r.code).to.equal('BODY_HASH_REQUIRED');
      expect(r.serverBytesRead).to.be.below(SMALL_READ);
    });

    it('still accepts a small request signed the old way (no header, no nonce)', async () => {
      const h = signedHeaders(H29, 'GET', '/v1/inbox', Buffer.alloc(0));
      delete h[CONTENT_SHA256_HEADER];
      const res = await fetch(`${t.url}/v1/inbox`, { headers: h });
      expect(res.status).to.equal(200);
    });

    it('refuses a body that is not the one the signature declared (BODY_HASH_MISMATCH), storing nothing', async () => {
      const before = await t.hub.stores.models.Document.countDocuments();
      const xml = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001'));
      const h = signedHeaders(H29, 'POST', '/v1/documents', Buffer.from(xml), {
        declaredSha256: sha256Hex(Buffer.from('<edXML/>')),
      });
      const res = await fetch(`${t.url}/v1/documents`, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/xml' },
        body: xml,
      });
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { code: string }).code).to.equal('BODY_HASH_MISMATCH');
      expect(await t.hub.stores.models.Document.countDocuments()).to.equal(before);
    });
  });

  describe('a signed request is accepted once', () => {
    it('refuses a replayed rotation with REQUEST_REPLAYED, and the secret does not change again', async () => {
      const path = '/v1/admin/systems/dms-M41.001/rotate';
      const h = signedHeaders(ADMIN, 'POST', path, Buffer.alloc(0));
      const first = await fetch(`${t.url}${path}`, { method: 'POST', headers: h });
      expect(first.status).to.equal(200);
      const { secret } = (await first.json()) as { secret: string };
      const replay = await fetch(`${t.url}${path}`, { method: 'POST', headers: h });
      expect(replay.status).to.equal(401);
      const body = (await replay.json()) as { code: string; secret?: string };
      expect(body.code).to.equal('REQUEST_REPLAYED');
      expect(body.secret).to.equal(undefined);
      expect((await t.hub.stores.credentials.find('dms-M41.001'))!.secret).to.equal(secret);
    });

    it('refuses a replayed submission with REQUEST_REPLAYED', async () => {
      const xml = signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001'));
      const h = {
        ...signedHeaders(H29, 'POST', '/v1/documents', Buffer.from(xml)),
        'content-type': 'application/xml',
      };
      const first = await fetch(`${t.url}/v1/documents`, { method: 'POST', headers: h, body: xml });
      expect(first.status).to.equal(202);
      const replay = await fetch(`${t.url}/v1/documents`, { method: 'POST', headers: h, body: xml });
      expect(replay.status).to.equal(401);
      expect(((await replay.json()) as { code: string }).code).to.equal('REQUEST_REPLAYED');
    });

    it('lets the SDK send the same request twice in one second (a fresh nonce each time)', async () => {
      const c = t.client('H29.001');
      const [a, b] = await Promise.all([c.request('GET', '/v1/inbox'), c.request('GET', '/v1/inbox')]);
      expect([a.status, b.status]).to.deep.equal([200, 200]);
    });
  });
});

describe('request intake limits', function () {
  this.timeout(60_000);
  let t: TestHub;

  before(async () => {
    t = await startTestHub('intakelimits', {
      http: {
        port: 0,
        host: '127.0.0.1',
        largeBodyBytes: 1024,
        maxConcurrentLargeBodies: 1,
        rateLimit: {
          perAddress: { burst: 1000, perSecond: 1000 },
          perCredential: { burst: 3, perSecond: 0.001 },
        },
      },
    });
  });
  after(async () => {
    await t?.close();
  });

  it('answers 503 INTAKE_BUSY with Retry-After while every large-body slot is taken, and frees it after', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const body = Buffer.alloc(256 * 1024, 0x61);
    const slow = postLarge(
      t.url,
      '/v1/documents',
      signedHeaders(H29, 'POST', '/v1/documents', body),
      body.length,
      {
        server: t.hub.server,
        hold,
      },
    );
    // The first upload holds the only slot as soon as its headers are in.
    await eventually(async () => (await t.hub.metrics.largeBodiesInFlight.get()).values[0]?.value === 1);
    const busy = await postLarge(
      t.url,
      '/v1/documents',
      signedHeaders(H41, 'POST', '/v1/documents', body),
      body.length,
    );
    expect(busy.code).to.equal('INTAKE_BUSY');
    expect(busy.status).to.equal(503);
    expect(busy.retryAfter).to.match(/^\d+$/);
    release();
    expect((await slow).code).to.not.equal('INTAKE_BUSY');
    await eventually(async () => (await t.hub.metrics.largeBodiesInFlight.get()).values[0]?.value === 0);
  });

  it('answers 429 RATE_LIMITED with Retry-After once a system has spent its burst', async () => {
    const c = new HubClient({ baseUrl: t.url, ...G22 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await c.request('GET', '/v1/inbox');
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).to.deep.equal([200, 200, 200]);
    expect(statuses[3]).to.equal(429);
    expect(((await last!.json()) as { code: string }).code).to.equal('RATE_LIMITED');
    expect(last!.headers.get('retry-after')).to.match(/^\d+$/);
  });
});
