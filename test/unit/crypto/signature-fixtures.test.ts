/** Every file of the corpus in test/fixtures/signatures/ meets the outcome its name states. */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { HubError } from '../../../src/domain/errors.ts';
import { verifyEdxml } from '../../../src/crypto/signature.ts';
import { TrustStore } from '../../../src/crypto/trust.ts';
import { CERTS_DEV_AT } from '../../support/pinned-time.ts';

const dir = path.join(PROJECT_ROOT, 'test/fixtures/signatures');
const AT = CERTS_DEV_AT;

describe('signature corpus (test/fixtures/signatures, named by expected outcome)', () => {
  let trust: TrustStore;
  before(async () => {
    trust = await TrustStore.fromDirectory(path.join(PROJECT_ROOT, 'certs-dev'), { now: () => AT });
  });
  const files = readdirSync(dir).filter((f) => f.endsWith('.edxml'));
  it('has a case for every refusal class', () => {
    expect(files.length).to.be.greaterThanOrEqual(20);
  });
  for (const f of files) {
    const [outcome, name] = f.replace(/\.edxml$/, '').split('--') as [string, string];
    it(`${outcome === 'accepted' ? 'accepts' : `refuses with ${outcome.slice('refused-'.length)}`}: ${name.replace(/-/g, ' ')}`, async () => {
      const bytes = readFileSync(path.join(dir, f));
      if (outcome === 'accepted') {
        expect((await verifyEdxml(bytes, trust, { at: AT })).signedXml.length).to.be.greaterThan(0);
        return;
      }
      try {
        await verifyEdxml(bytes, trust, { at: AT });
        expect.fail('accepted');
      } catch (err) {
        expect(err).to.be.instanceOf(HubError);
        expect((err as HubError).code).to.equal(outcome.slice('refused-'.length));
      }
    });
  }
});
