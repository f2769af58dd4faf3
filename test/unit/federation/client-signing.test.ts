/**
 * The peer client signs exactly as the official SDK does: the worked examples of
 * docs/vdxp-protocol.md §3.6 (headers produced by the SDK itself), and the hub's own /vdxp
 * authentication accepts what the client sends.
 */
import assert from 'node:assert/strict';
import { PeerClient } from '../../../src/federation/client.ts';
import { gsonString, javaHashMapOrder, sdkTimestamp, signParams } from '../../../src/vdxp/signing.ts';
import { authenticate } from '../../../src/vdxp/auth.ts';
import { sdkHashFile } from '../../../src/vdxp/hash-file.ts';

const SECRET = 's3cr3t-test';
const TS = '01022024T030405+0678';

describe('federation client signing (docs/vdxp-protocol.md §3.6)', () => {
  it('example 1: getAgenciesList headers, key order and HMAC', () => {
    const s = signParams(
      [
        ['timestamp', TS],
        ['systemid', '000.00.00.X00'],
        ['Content-Type', 'application/json'],
      ],
      SECRET,
    );
    assert.equal(s.signHeaderKey, 'systemid;timestamp;Content-Type');
    assert.equal(
      s.signHeader,
      '{"XroadVnpt-systemid":"000.00.00.X00","XroadVnpt-timestamp":"01022024T030405+0678","XroadVnpt-Content-Type":"application/json"}',
    );
    assert.equal(s.hashHeader, 'bc84e9b4543a3fbb1c0642d992829a7efcd1aec25a4865b35b3ef9ccdd25021b');
    assert.equal(s.headers['Content-Type'], 'application/json');
    assert.equal(s.headers['XroadVnpt-Content-Type'], 'application/json');
  });

  it('example 2: sendEdoc with hash-file', () => {
    const file = Buffer.from('<edXML>test 2</edXML>\n');
    assert.equal(sdkHashFile(file), '80b8abc576e7a97c914d1bd68a975b2f7ab43be3785272206af5d36de2938');
    const s = signParams(
      [
        ['timestamp', TS],
        ['systemid', '000.00.00.X00'],
        ['Content-Type', 'application/octet-stream'],
        ['servicetype', 'eDoc'],
        ['messagetype', 'edoc'],
        ['hash-file', sdkHashFile(file)],
        ['from', '000.00.00.X00'],
      ],
      SECRET,
    );
    assert.equal(s.signHeaderKey, 'systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type');
    assert.equal(s.hashHeader, '2a5783896e789feb4ba828e2a5d2af9baaa981450b017ea3ed530858a3f080ca');
  });

  it('HashMap order of §3.3 for a status update, and 13+ keys in 32 buckets', () => {
    assert.deepEqual(javaHashMapOrder(['timestamp', 'systemid', 'Content-Type', 'docId', 'status']), [
      'systemid',
      'docId',
      'timestamp',
      'Content-Type',
      'status',
    ]);
    const many = Array.from({ length: 13 }, (_, i) => `k${i}`);
    assert.deepEqual(new Set(javaHashMapOrder(many)), new Set(many));
  });

  it('Gson escaping (§3.2) and the SDK timestamp shape (§3.4)', () => {
    assert.equal(gsonString('a=b<c>&\'d"e\\f/g'), '"a=b<c>&\'d\\"e\\\\f/g"');
    assert.equal(sdkTimestamp(new Date(Date.UTC(2024, 1, 1, 3, 4, 5, 678))), '01022024T030405+0678');
    assert.throws(() => signParams([['x', 'Thành công']], SECRET), /ASCII/);
  });

  it("the hub's /vdxp authentication accepts the client's headers", async () => {
    const client = new PeerClient(
      { baseUrl: 'http://127.0.0.1:1/vdxp', systemId: 'hub-b', secret: SECRET },
      () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
    );
    const headers = client.signedHeaders('application/json', [
      ['docId', 'abc'],
      ['status', 'done'],
    ]);
    const raw = Object.entries(headers).flat();
    const auth = await authenticate(raw, (id) =>
      Promise.resolve(
        id === 'hub-b'
          ? { systemId: 'hub-b', secret: SECRET, agencyCodes: [], rights: ['send'] as const, active: true }
          : null,
      ),
    );
    assert.equal(auth.systemId, 'hub-b');
    assert.equal(auth.params.get('docId'), 'abc');
    await assert.rejects(
      authenticate(raw, () =>
        Promise.resolve({
          systemId: 'hub-b',
          secret: 'other',
          agencyCodes: [],
          rights: ['send'] as const,
          active: true,
        }),
      ),
      /invalid signature/,
    );
  });
});
