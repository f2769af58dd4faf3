/** Envelopes (ASCII-escaped JSON, no nulls), hash-file, the error table and identifier mappings. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  asciiJson,
  failEnvelope,
  okEnvelope,
  streamListEnvelope,
  type EnvelopeObject,
} from '../../../src/vdxp/envelope.ts';
import { fileFromSendBody, sdkHashFile } from '../../../src/vdxp/hash-file.ts';
import {
  deliveryIdCandidates,
  levelOf,
  parseToHeader,
  VDXP_ERROR_CODES,
  VDXP_ERROR_DESC_MAX,
  vdxpDocIdOf,
  vdxpErrorCode,
  vdxpErrorDesc,
  vnTime,
} from '../../../src/vdxp/mapping.ts';
import { parseRegisterAgencyBody } from '../../../src/vdxp/router.ts';
import { ERROR_CODES, HubError, type ErrorCode } from '../../../src/domain/errors.ts';
import { PROJECT_ROOT } from '../../../src/config.ts';

const TINY = Buffer.from('<edXML>test 2</edXML>\n');
const TINY_HASH_FILE = '80b8abc576e7a97c914d1bd68a975b2f7ab43be3785272206af5d36de2938';

describe('vdxp envelopes', () => {
  it('escapes every non-ASCII character (sendEdoc reads its answer as US-ASCII)', () => {
    const text = asciiJson(okEnvelope({ DocId: 'x' }));
    expect(text).to.equal('{"status":"OK","ErrorCode":"0","ErrorDesc":"Th\\u00e0nh c\\u00f4ng","DocId":"x"}');
    expect(/^[\x20-\x7e]*$/.test(text)).to.equal(true);
    const tricky = { ErrorDesc: 'Đã đến 𝄞 "q" \\ \u2028 <&>', n: 3 };
    const out = asciiJson(tricky);
    expect(/^[\x20-\x7e]*$/.test(out)).to.equal(true);
    expect(JSON.parse(out)).to.deep.equal(tricky);
  });

  it('never sends null: absent values are omitted, in items too', () => {
    const text = asciiJson(okEnvelope({ data: [{ a: '1', b: undefined, c: null }, null] }));
    expect(text).to.not.contain('null');
    expect(JSON.parse(text)).to.deep.equal({
      status: 'OK',
      ErrorCode: '0',
      ErrorDesc: 'Thành công',
      data: [{ a: '1' }],
    });
  });

  it('carries the three keys on failures, with a code that is never "0"', () => {
    expect(failEnvelope('404', 'x', { DocId: '' })).to.deep.equal({
      status: 'FAIL',
      ErrorCode: '404',
      ErrorDesc: 'x',
      DocId: '',
    });
    expect(failEnvelope('0', '').ErrorCode).to.not.equal('0');
    expect(failEnvelope('0', '').ErrorDesc).to.not.equal('');
  });
});

describe('vdxp streamed lists (the whole directory)', () => {
  async function serve(items: () => AsyncIterable<EnvelopeObject>) {
    const app = express();
    app.get('/', async (_req, res) => {
      try {
        await streamListEnvelope(res, items());
      } catch {
        if (!res.headersSent) res.status(200).json({ status: 'FAIL', ErrorCode: '500', ErrorDesc: 'x' });
      }
    });
    const srv = http.createServer(app);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
    return { url, close: () => new Promise<void>((r) => srv.close(() => r())) };
  }

  it('streams a large list as one ASCII envelope', async () => {
    const s = await serve(async function* () {
      await Promise.resolve(); // a store read
      for (let i = 0; i < 20_000; i++) yield { id: `H${i}`, name: `Ủy ban nhân dân xã số ${i}`, pid: null };
    });
    try {
      const text = await (await fetch(s.url)).text();
      expect(text.length).to.be.greaterThan(500_000);
      expect(/^[\x20-\x7e]*$/.test(text)).to.equal(true);
      const e = JSON.parse(text) as {
        status: string;
        ErrorCode: string;
        data: { id: string; name: string }[];
      };
      expect(e).to.include({ status: 'OK', ErrorCode: '0' });
      expect(e.data).to.have.length(20_000);
      expect(e.data[19_999]).to.deep.equal({ id: 'H19999', name: 'Ủy ban nhân dân xã số 19999' });
    } finally {
      await s.close();
    }
  });

  it('fails before the first byte with a proper answer, and cuts the connection after it', async () => {
    const early = await serve(async function* () {
      await Promise.resolve();
      throw new Error('store down');
      yield {};
    });
    try {
      expect(await (await fetch(early.url)).json()).to.include({ status: 'FAIL' });
    } finally {
      await early.close();
    }
    const late = await serve(async function* () {
      await Promise.resolve();
      for (let i = 0; i < 10_000; i++) yield { id: `H${i}`, name: 'x'.repeat(20) };
      throw new Error('store down');
    });
    try {
      let failed = false;
      try {
        JSON.parse(await (await fetch(late.url)).text());
      } catch {
        failed = true; // never a truncated list that parses as complete
      }
      expect(failed).to.equal(true);
    } finally {
      await late.close();
    }
  });
});

describe('vdxp hash-file', () => {
  it('encodes SHA-256 as unpadded hex, like the SDK (protocol example)', () => {
    expect(sdkHashFile(TINY)).to.equal(TINY_HASH_FILE);
  });

  it('takes the file from the body without the CRLF the SDK appends, or as sent', () => {
    expect(
      fileFromSendBody(Buffer.concat([TINY, Buffer.from('\r\n')]), TINY_HASH_FILE).equals(TINY),
    ).to.equal(true);
    expect(fileFromSendBody(TINY, TINY_HASH_FILE).equals(TINY)).to.equal(true);
    expect(fileFromSendBody(TINY, TINY_HASH_FILE.toUpperCase()).equals(TINY)).to.equal(true);
  });

  it('refuses a body whose hash differs, a missing hash-file and an empty body', () => {
    const other = Buffer.from('<edXML>test 3</edXML>\n\r\n');
    expect(() => fileFromSendBody(other, TINY_HASH_FILE))
      .to.throw(HubError)
      .with.property('code', 'CONTENT_HASH_MISMATCH');
    expect(() => fileFromSendBody(TINY, undefined))
      .to.throw(HubError)
      .with.property('code', 'VALIDATION_FAILED');
    expect(() => fileFromSendBody(Buffer.alloc(0), TINY_HASH_FILE))
      .to.throw(HubError)
      .with.property('code', 'VALIDATION_FAILED');
    expect(() => fileFromSendBody(TINY, 'not-hex'))
      .to.throw(HubError)
      .with.property('code', 'CONTENT_HASH_MISMATCH');
  });
});

describe('vdxp mappings', () => {
  it('maps every hub error code to a non-zero ErrorCode; the 1xxx codes are unique', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const e = new HubError(code, 'reason');
      expect(vdxpErrorCode(e)).to.match(/^[1-9]\d*$/);
      expect(vdxpErrorDesc(e)).to.contain(`[${code}]`).and.contain('reason');
    }
    const specific = Object.values(VDXP_ERROR_CODES).filter((c) => c.length === 4);
    expect(new Set(specific).size).to.equal(specific.length);
  });

  it('ErrorDesc: Vietnamese, English, the reason, the code; a long reason is cut, never the code', () => {
    expect(vdxpErrorDesc(new HubError('SCHEMA_INVALID', 'missing TraceHeader[1]/OrganId'))).to.equal(
      'Thông điệp không đúng cấu trúc edXML (The message does not follow the edXML schema): ' +
        'missing TraceHeader[1]/OrganId [SCHEMA_INVALID]',
    );
    expect(vdxpErrorDesc(new HubError('NOT_FOUND'))).to.equal('Không tìm thấy (Not found) [NOT_FOUND]');
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const long = vdxpErrorDesc(new HubError(code, 'x'.repeat(5000)));
      expect(long.length).to.be.at.most(VDXP_ERROR_DESC_MAX);
      expect(long).to.match(new RegExp(`x… \\[${code}\\]$`));
    }
  });

  it('documents every ErrorCode in docs/national-axis.md', () => {
    const doc = readFileSync(path.join(PROJECT_ROOT, 'docs/national-axis.md'), 'utf8');
    for (const [hub, code] of Object.entries(VDXP_ERROR_CODES))
      expect(doc, `${hub} → ${code}`).to.match(new RegExp(`\\|\\s*\`?${code}\`?\\s*\\|\\s*\`${hub}\``));
  });

  it('reads `to` as JSON text (array, quoted string) or as a plain list', () => {
    expect(parseToHeader('["H41.001","G22"]')).to.deep.equal(['H41.001', 'G22']);
    expect(parseToHeader('"H41.001"')).to.deep.equal(['H41.001']);
    expect(parseToHeader('H41.001, G22')).to.deep.equal(['H41.001', 'G22']);
    expect(parseToHeader('000.00.00.H41')).to.deep.equal(['000.00.00.H41']);
    expect(parseToHeader(undefined)).to.deep.equal([]);
    expect(parseToHeader('[]')).to.deep.equal([]);
  });

  it('gives receivers a filename-safe docId that maps back to the delivery', () => {
    const doc = '0a1b2c3d-0000-4000-8000-123456789abc';
    const id = vdxpDocIdOf(`${doc}:H41.001`);
    expect(id).to.equal(`${doc}_H41.001`);
    expect(id).to.not.match(/[:\\/*?"<>|]/);
    expect(deliveryIdCandidates(id, ['H41.001'])).to.deep.equal([`${doc}:H41.001`]);
    expect(deliveryIdCandidates(`${doc}:h41.001`, [])).to.deep.equal([`${doc}:H41.001`]);
    expect(deliveryIdCandidates(doc, ['H41.001', 'D41.001'])).to.deep.equal([
      `${doc}:H41.001`,
      `${doc}:D41.001`,
    ]);
    expect(deliveryIdCandidates('../../etc/passwd', ['H41.001'])).to.deep.equal([]);
  });

  it('writes times as yyyy-MM-dd HH:mm:ss in Vietnam time, and code levels from the code', () => {
    expect(vnTime(new Date('2026-11-21T23:19:38.500Z'))).to.equal('2026-11-22 06:19:38');
    expect(vnTime(undefined)).to.equal(undefined);
    expect(levelOf('H29')).to.equal(1);
    expect(levelOf('H29.001')).to.equal(2);
    expect(levelOf('000.00.00.G22')).to.equal(1);
  });

  it('parses registerAgency bodies leniently and refuses what is not a JSON object with a name', () => {
    expect(
      parseRegisterAgencyBody(
        Buffer.from(
          '\uFEFF{"id":"","pcode":"H29","code":"","name":"UBND phường X","mail":"x@example.invalid","mobile":"","fax":null}',
        ),
      ),
    ).to.deep.equal({ pcode: 'H29', name: 'UBND phường X', mail: 'x@example.invalid' });
    expect(() => parseRegisterAgencyBody(Buffer.from("{'name':'x'}")))
      .to.throw(HubError)
      .with.property('code', 'VALIDATION_FAILED');
    expect(() => parseRegisterAgencyBody(Buffer.from('{"pcode":"H29"}'))).to.throw(HubError, /name/);
  });
});
