/**
 * The HMAC test vectors and the docId example of docs/integration.md, recomputed from the document itself
 * with the hub's own code (the function that verifies requests): the guide cannot drift from the hub.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { docIdFor } from '../../../src/domain/ids.ts';
import {
  parseAuthorization,
  sha256Hex,
  signRequest,
  stringToSign,
  verifySignature,
} from '../../../src/http/hmac-auth.ts';

const guide = readFileSync(path.join(PROJECT_ROOT, 'docs/integration.md'), 'utf8');

/** The ```text blocks of the guide, as key → value (split at the first ': '). */
function blocks(): Map<string, string>[] {
  return [...guide.matchAll(/^```text\n([\s\S]*?)^```$/gm)].map(
    (m) =>
      new Map(
        m[1]!
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const i = line.indexOf(':');
            return [line.slice(0, i), line.slice(i + 1).replace(/^ /, '')] as [string, string];
          }),
      ),
  );
}

describe('docs/integration.md: HMAC test vectors and docId', () => {
  const vectors = blocks().filter((b) => b.has('vector'));

  it('has the documented vectors (an empty body and a JSON body)', () => {
    expect(vectors.map((v) => v.get('body'))).to.deep.equal(['', '{"result":"done"}']);
  });

  for (const [i, v] of vectors.entries()) {
    it(`vector ${i + 1}: ${v.get('vector')}`, () => {
      const get = (k: string) => {
        const value = v.get(k);
        if (value === undefined) throw new Error(`vector ${i + 1} has no ${k}`);
        return value;
      };
      const body = Buffer.from(get('body'), 'utf8');
      const parts = {
        method: get('method'),
        pathWithQuery: get('pathWithQuery'),
        timestamp: Number(get('timestamp')),
        nonce: get('nonce'),
        body,
      };
      expect(sha256Hex(body)).to.equal(get('bodySha256'));
      expect(stringToSign(parts)).to.equal(get('stringToSign').replaceAll('\\n', '\n'));
      const authorization = signRequest(get('systemId'), get('secret'), parts);
      expect(authorization).to.equal(get('authorization'));
      expect(authorization.endsWith(`Signature=${get('signature')}`)).to.equal(true);
      // And the hub accepts it: the verifying side agrees with the documented values.
      const parsed = parseAuthorization(authorization)!;
      expect(verifySignature(get('secret'), parsed, { ...parts, bodySha256: get('bodySha256') })).to.equal(
        true,
      );
    });
  }

  it('the docId example', () => {
    const ex = blocks().find((b) => b.has('docId of'))!;
    expect(docIdFor(ex.get('docId of')!)).to.equal(ex.get('docId'));
  });
});
