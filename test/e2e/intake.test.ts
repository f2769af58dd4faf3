/**
 * Request intake (issue 18 §4-§6): nothing large is read before the caller is known, a signed /v1
 * request is accepted once, paths that do not decode are the client's error, and /metrics is not
 * served on the public port.
 */
import { expect } from 'chai';
import { startTestHub, type TestHub } from '../support/hub.ts';

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
      log.error = ((...args: unknown[]) => void errors.push(args)) as typeof log.error;
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
});
