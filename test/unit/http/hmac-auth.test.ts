import { expect } from 'chai';
import { parseAuthorization, sha256Hex, signRequest, verifySignature } from '../../../src/http/hmac-auth.ts';

const parts = {
  method: 'POST',
  pathWithQuery: '/v1/documents',
  timestamp: 1_763_800_000,
  body: Buffer.from('<edXML/>'),
};

describe('HUB1-HMAC-SHA256 request authentication', () => {
  it('verifies a request signed with the right secret', () => {
    const auth = parseAuthorization(signRequest('dms-H29.001', 's3cret', parts));
    expect(auth).to.include({ systemId: 'dms-H29.001', timestamp: parts.timestamp });
    expect(verifySignature('s3cret', auth!, parts)).to.equal(true);
  });

  it('rejects a wrong secret, another body, another path or another method', () => {
    const auth = parseAuthorization(signRequest('dms-H29.001', 's3cret', parts))!;
    expect(verifySignature('other', auth, parts)).to.equal(false);
    expect(verifySignature('s3cret', auth, { ...parts, body: Buffer.from('<edXML />') })).to.equal(false);
    expect(verifySignature('s3cret', auth, { ...parts, pathWithQuery: '/v1/inbox' })).to.equal(false);
    expect(verifySignature('s3cret', auth, { ...parts, method: 'PUT' })).to.equal(false);
    expect(verifySignature('s3cret', auth, { ...parts, timestamp: parts.timestamp + 1 })).to.equal(false);
  });

  it('refuses malformed Authorization headers', () => {
    expect(parseAuthorization(undefined)).to.equal(null);
    expect(parseAuthorization('Bearer abc')).to.equal(null);
    expect(
      parseAuthorization('HUB1-HMAC-SHA256 Credential=x, Timestamp=abc, Signature=' + 'a'.repeat(64)),
    ).to.equal(null);
    expect(parseAuthorization('HUB1-HMAC-SHA256 Credential=x, Timestamp=1, Signature=zz')).to.equal(null);
  });

  it('verifies a signature over the declared body hash and nonce, and not without the nonce', () => {
    const declared = { ...parts, bodySha256: sha256Hex(parts.body), nonce: 'n0nce-abcdef' };
    const auth = parseAuthorization(signRequest('dms-H29.001', 's3cret', declared))!;
    expect(auth.nonce).to.equal('n0nce-abcdef');
    expect(verifySignature('s3cret', auth, { ...parts, bodySha256: declared.bodySha256 })).to.equal(true);
    expect(verifySignature('s3cret', auth, parts)).to.equal(true);
    expect(verifySignature('s3cret', { ...auth, nonce: 'other-nonce' }, parts)).to.equal(false);
    const { nonce: _dropped, ...withoutNonce } = auth;
    expect(verifySignature('s3cret', withoutNonce, parts)).to.equal(false);
  });
});
