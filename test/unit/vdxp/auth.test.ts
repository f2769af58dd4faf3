/**
 * Verification of national-axis SDK requests (src/vdxp/auth.ts) against the worked vectors of
 * docs/vdxp-protocol.md §3.6, and against requests built by the independent test client
 * (test/support/vdxp-sdk.ts), tampered in every way §3.7 checks.
 */
import { expect } from 'chai';
import { authenticate, carriesNoSignature } from '../../../src/vdxp/auth.ts';
import { HubError } from '../../../src/domain/errors.ts';
import type { SystemCredential } from '../../../src/domain/types.ts';
import { hashMapOrder, VdxpSdkClient } from '../../support/vdxp-sdk.ts';

const SECRET = 's3cr3t-test';
const SYSTEM = '000.00.00.X00';
const cred: SystemCredential = {
  systemId: SYSTEM,
  secret: SECRET,
  agencyCodes: ['H29.001'],
  rights: ['send'],
  active: true,
};
const lookup = (id: string) => Promise.resolve(id === SYSTEM ? cred : null);

/** §3.6 Example 1, header for header as the SDK emitted them. */
const EXAMPLE_1 = [
  'XroadVnpt-systemid',
  '000.00.00.X00',
  'XroadVnpt-timestamp',
  '01022024T030405+0678',
  'Content-Type',
  'application/json',
  'XroadVnpt-Content-Type',
  'application/json',
  'XroadVnpt-sign-header-key',
  'systemid;timestamp;Content-Type',
  'XroadVnpt-sign-header',
  '{"XroadVnpt-systemid":"000.00.00.X00","XroadVnpt-timestamp":"01022024T030405+0678","XroadVnpt-Content-Type":"application/json"}',
  'XroadVnpt-hash-header',
  'bc84e9b4543a3fbb1c0642d992829a7efcd1aec25a4865b35b3ef9ccdd25021b',
  'User-Agent',
  'JAVASDKAgent/1.0.0 XRoad/VPCP',
  'XroadVnpt-version',
  '3.0.201608',
];

/** §3.6 Example 2 (sendEdoc of `<edXML>test 2</edXML>\n`). */
const EXAMPLE_2_SIGN_HEADER =
  '{"XroadVnpt-systemid":"000.00.00.X00","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-hash-file":"80b8abc576e7a97c914d1bd68a975b2f7ab43be3785272206af5d36de2938","XroadVnpt-from":"000.00.00.X00","XroadVnpt-timestamp":"01022024T030405+0678","XroadVnpt-Content-Type":"application/octet-stream"}';
const EXAMPLE_2 = [
  'XroadVnpt-systemid',
  '000.00.00.X00',
  'XroadVnpt-servicetype',
  'eDoc',
  'XroadVnpt-messagetype',
  'edoc',
  'XroadVnpt-hash-file',
  '80b8abc576e7a97c914d1bd68a975b2f7ab43be3785272206af5d36de2938',
  'XroadVnpt-from',
  '000.00.00.X00',
  'XroadVnpt-timestamp',
  '01022024T030405+0678',
  'XroadVnpt-Content-Type',
  'application/octet-stream',
  'Content-Type',
  'application/octet-stream',
  'XroadVnpt-sign-header-key',
  'systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type',
  'XroadVnpt-sign-header',
  EXAMPLE_2_SIGN_HEADER,
  'XroadVnpt-hash-header',
  '2a5783896e789feb4ba828e2a5d2af9baaa981450b017ea3ed530858a3f080ca',
];

function set(raw: string[], name: string, value: string): string[] {
  const out = [...raw];
  const i = out.findIndex((x, j) => j % 2 === 0 && x.toLowerCase() === name.toLowerCase());
  if (i < 0) out.push(name, value);
  else out[i + 1] = value;
  return out;
}

function drop(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.toLowerCase() !== name.toLowerCase()) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

async function refusal(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(HubError);
    return err as HubError;
  }
  throw new Error('expected a refusal');
}

describe('vdxp request authentication (signed XroadVnpt-* headers)', () => {
  it('accepts the worked example 1 of the protocol (getAgenciesList)', async () => {
    const r = await authenticate(EXAMPLE_1, lookup);
    expect(r.systemId).to.equal(SYSTEM);
    expect(r.caller).to.equal(cred);
    expect(r.params.entries).to.deep.equal([
      ['systemid', '000.00.00.X00'],
      ['timestamp', '01022024T030405+0678'],
      ['Content-Type', 'application/json'],
    ]);
  });

  it('accepts the worked example 2 of the protocol (sendEdoc) and reads its signed parameters', async () => {
    const r = await authenticate(EXAMPLE_2, lookup);
    expect(r.params.get('hash-file')).to.equal(
      '80b8abc576e7a97c914d1bd68a975b2f7ab43be3785272206af5d36de2938',
    );
    expect(r.params.get('messagetype')).to.equal('edoc');
    expect(r.params.get('from')).to.equal('000.00.00.X00');
  });

  it('accepts the HMAC in upper-case hex too', async () => {
    const raw = set(
      EXAMPLE_1,
      'XroadVnpt-hash-header',
      'BC84E9B4543A3FBB1C0642D992829A7EFCD1AEC25A4865B35B3EF9CCDD25021B',
    );
    expect((await authenticate(raw, lookup)).systemId).to.equal(SYSTEM);
  });

  it('the test client reproduces the protocol examples exactly (order, JSON and HMAC)', () => {
    const sdk = new VdxpSdkClient('http://127.0.0.1:1/vdxp', SYSTEM, SECRET, '01022024T030405+0678');
    const one = sdk.sign('getAgenciesList', '{}');
    expect(one.signHeaderKey).to.equal('systemid;timestamp;Content-Type');
    expect(one.hashHeader).to.equal('bc84e9b4543a3fbb1c0642d992829a7efcd1aec25a4865b35b3ef9ccdd25021b');
    const sdk2 = new VdxpSdkClient('http://127.0.0.1:1/vdxp', SYSTEM, SECRET, '01022024T030405+0678');
    const two = sdk2.sign(
      'sendEdoc',
      '{"from":"000.00.00.X00","servicetype":"eDoc","messagetype":"edoc"}',
      Buffer.from('<edXML>test 2</edXML>\n'),
    );
    expect(two.signHeader).to.equal(EXAMPLE_2_SIGN_HEADER);
    expect(two.hashHeader).to.equal('2a5783896e789feb4ba828e2a5d2af9baaa981450b017ea3ed530858a3f080ca');
    // The other order observed on the wire (§3.3).
    expect(hashMapOrder(['timestamp', 'systemid', 'Content-Type', 'docId', 'status']).join(';')).to.equal(
      'systemid;docId;timestamp;Content-Type;status',
    );
  });

  it('refuses a wrong secret, an unknown and a disabled system with one answer that reveals no HMAC', async () => {
    const wrong = await refusal(authenticate(EXAMPLE_1, () => Promise.resolve({ ...cred, secret: 'other' })));
    const unknown = await refusal(authenticate(EXAMPLE_1, () => Promise.resolve(null)));
    const disabled = await refusal(
      authenticate(EXAMPLE_1, () => Promise.resolve({ ...cred, active: false })),
    );
    for (const e of [wrong, unknown, disabled]) {
      expect(e.code).to.equal('UNAUTHENTICATED');
      expect(e.message).to.equal(wrong.message);
      expect(e.message).to.not.match(/[0-9a-f]{16}/i);
    }
  });

  it('refuses requests missing any of the signing headers', async () => {
    for (const h of ['XroadVnpt-sign-header', 'XroadVnpt-sign-header-key', 'XroadVnpt-hash-header']) {
      const e = await refusal(authenticate(drop(EXAMPLE_1, h), lookup));
      expect(e.code).to.equal('UNAUTHENTICATED');
      expect(e.message).to.contain(h);
    }
    const twice = await refusal(
      authenticate(
        [
          ...EXAMPLE_1,
          'XroadVnpt-hash-header',
          'bc84e9b4543a3fbb1c0642d992829a7efcd1aec25a4865b35b3ef9ccdd25021b',
        ],
        lookup,
      ),
    );
    expect(twice.message).to.contain('more than once');
  });

  it('refuses an altered sign-header (the HMAC no longer matches)', async () => {
    const altered = EXAMPLE_1[11]!.replace('X00', 'X01');
    const e = await refusal(authenticate(set(EXAMPLE_1, 'XroadVnpt-sign-header', altered), lookup));
    expect(e.code).to.equal('UNAUTHENTICATED');
    expect(e.message).to.contain('invalid signature');
  });

  it('refuses a parameter header that differs from its signed value', async () => {
    const e = await refusal(authenticate(set(EXAMPLE_1, 'XroadVnpt-systemid', '000.00.00.X01'), lookup));
    expect(e.code).to.equal('UNAUTHENTICATED');
    expect(e.message).to.contain('XroadVnpt-systemid does not carry its signed value');
    const e2 = await refusal(authenticate(set(EXAMPLE_2, 'XroadVnpt-hash-file', 'ff'), lookup));
    expect(e2.message).to.contain('hash-file does not carry its signed value');
  });

  it('refuses a sign-header-key that does not list the signed keys in order', async () => {
    const e = await refusal(
      authenticate(set(EXAMPLE_1, 'XroadVnpt-sign-header-key', 'timestamp;systemid;Content-Type'), lookup),
    );
    expect(e.message).to.contain('sign-header-key');
    const e2 = await refusal(
      authenticate(set(EXAMPLE_1, 'XroadVnpt-sign-header-key', 'systemid;timestamp'), lookup),
    );
    expect(e2.message).to.contain('sign-header-key');
  });

  it('requires systemid and timestamp among the signed keys, and the timestamp shape only', async () => {
    const sdk = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET, '01022024T030405+0678');
    sdk.map.delete('timestamp');
    const e = await refusal(authenticate(sdk.sign('getAgenciesList', '{}').rawHeaders, lookup));
    expect(e.message).to.contain('systemid and timestamp');
    const bad = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET, '2024-02-01T03:04:05Z');
    const e2 = await refusal(authenticate(bad.sign('getAgenciesList', '{}').rawHeaders, lookup));
    expect(e2.message).to.contain('ddMMyyyyTHHmmss+SSSS');
    // A timestamp from long ago is fine: SDK objects keep theirs for life (quirk 2).
    const old = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET, '01011999T000000+0000');
    expect((await authenticate(old.sign('getAgenciesList', '{}').rawHeaders, lookup)).systemId).to.equal(
      SYSTEM,
    );
  });

  it('verifies requests carrying headers accumulated from earlier calls on the same SDK object', async () => {
    const sdk = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET);
    sdk.sign('sendEdoc', '{"from":"H29.001","servicetype":"eDoc","messagetype":"edoc"}', Buffer.from('<a/>'));
    sdk.sign('getEdoc', '{"docId":"d-1","filePath":"C:\\\\edoc\\\\in"}');
    sdk.sign('updateStatus', '{"docId":"d-1","status":"done"}');
    const count = sdk.sign('countReceiveEdoc', '{}');
    const r = await authenticate(count.rawHeaders, lookup);
    // All of them signed and accepted; the endpoints read only what they need (router tests).
    expect(r.params.entries.map(([k]) => k)).to.include.members([
      'hash-file',
      'docId',
      'filePath',
      'status',
      'from',
      'servicetype',
      'messagetype',
    ]);
    expect(r.params.get('filePath')).to.equal('C:\\edoc\\in');
  });

  it('looks parameters up case-insensitively, exact spelling first, refusing disagreeing spellings for changes', async () => {
    const sdk = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET);
    const one = await authenticate(
      sdk.sign('updateStatus', '{"docid":"A","STATUS":"done"}').rawHeaders,
      lookup,
    );
    expect(one.params.get('docId')).to.equal('A');
    expect(one.params.getStrict('status')).to.equal('done');
    // Both spellings present (quirk 10): sent as two headers with one name, both verified.
    const both = await authenticate(sdk.sign('getEdoc', '{"docId":"B"}').rawHeaders, lookup);
    expect(both.params.all('docid')).to.have.members(['A', 'B']);
    expect(both.params.get('docId')).to.equal('B');
    expect(() => both.params.getStrict('docId')).to.throw(HubError, /several spellings/);
    const agree = await authenticate(sdk.sign('getEdoc', '{"docId":"A"}').rawHeaders, lookup);
    expect(agree.params.getStrict('docId')).to.equal('A');
  });

  it('verifies non-ASCII values sent as UTF-8 (sendEdoc); the Apache calls mangle them (quirk 11)', async () => {
    const sdk = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET);
    const send = sdk.sign('sendEdoc', '{"from":"H29.001","note":"Công văn số 1"}', Buffer.from('<a/>'));
    const r = await authenticate(send.rawHeaders, lookup);
    expect(r.params.get('note')).to.equal('Công văn số 1');
    const apache = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET).sign(
      'getSentEdocList',
      '{"note":"Công văn"}',
    );
    const e = await refusal(authenticate(apache.rawHeaders, lookup));
    expect(e.code).to.equal('UNAUTHENTICATED');
  });

  it('keeps the JSON text of `to` as signed (quirk 9)', async () => {
    const sdk = new VdxpSdkClient('http://x/vdxp', SYSTEM, SECRET);
    const arr = await authenticate(
      sdk.sign('sendEdoc', '{"to":["H41.001","G22"]}', Buffer.from('<a/>')).rawHeaders,
      lookup,
    );
    expect(arr.params.get('to')).to.equal('["H41.001","G22"]');
    const str = await authenticate(
      sdk.sign('sendEdoc', '{"to":"H41.001"}', Buffer.from('<a/>')).rawHeaders,
      lookup,
    );
    expect(str.params.get('to')).to.equal('"H41.001"');
  });

  it('tells requests without any XroadVnpt header (downloadEdoc2) apart', () => {
    expect(carriesNoSignature(['User-Agent', 'Apache-HttpClient/4.5.6', 'Host', 'x'])).to.equal(true);
    expect(carriesNoSignature(EXAMPLE_1)).to.equal(false);
  });
});
