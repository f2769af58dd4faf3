/** hubctl agency commands as child processes against the real hub: send, inbox, fetch, status, track, ack. */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { devSystemArgs, hubctlAsync as hubctl } from '../support/hubctl.ts';

describe('hubctl agency commands', function () {
  this.timeout(300_000); // hubctl child processes on a loaded machine
  let t: TestHub;
  const dir = mkdtempSync(path.join(tmpdir(), 'agency-cli-'));
  const pdf = path.join(dir, 'cong-van.pdf');
  const cert = (c: string) => path.join(PROJECT_ROOT, 'certs-dev/agencies', `${c}.pem`);
  const key = (c: string) => path.join(PROJECT_ROOT, 'certs-dev/agencies', `${c}.key.pem`);
  const as = (code: string) => devSystemArgs(t.url, code);

  before(async () => {
    t = await startTestHub('agencycli');
    writeFileSync(pdf, randomBytes(5000));
  });
  after(async () => {
    await t?.close();
  });

  it('sends a signed document with an attachment; the recipient lists, fetches, reports 03 and acknowledges; the sender tracks it', async () => {
    const sent = await hubctl([
      '--json',
      'send',
      ...as('H29.001'),
      '--from',
      'H29.001',
      '--to',
      'H41.001',
      '--subject',
      'Kế hoạch sáp nhập',
      '--attach',
      pdf,
      '--key',
      key('H29.001'),
      '--cert',
      cert('H29.001'),
    ]);
    expect(sent.code, sent.err).to.equal(0);
    const receipt = JSON.parse(sent.out) as { docId: string; documentId: string };
    let items: { id: string; documentId: string }[] = [];
    for (let i = 0; i < 50 && !items.some((x) => x.documentId === receipt.documentId); i++) {
      items = JSON.parse((await hubctl(['--json', 'inbox', ...as('H41.001')])).out) as typeof items;
      if (!items.length) await new Promise((r) => setTimeout(r, 200));
    }
    const item = items.find((x) => x.documentId === receipt.documentId)!;
    expect(item).to.not.equal(undefined);
    const fetched = await hubctl(['--json', 'fetch', item.id, ...as('H41.001'), '--out', dir]);
    expect(fetched.code, fetched.err).to.equal(0);
    const files = (JSON.parse(fetched.out) as { files: string[] }).files;
    const attachment = files.find((f) => f.endsWith('cong-van.pdf'))!;
    expect(readFileSync(path.join(dir, attachment)).equals(readFileSync(pdf))).to.equal(true);
    const st = await hubctl([
      'status',
      item.id,
      '03',
      ...as('H41.001'),
      '--key',
      key('H41.001'),
      '--cert',
      cert('H41.001'),
      '--note',
      'Đã vào sổ',
    ]);
    expect(st.code, st.err).to.equal(0);
    const track = await hubctl(['track', receipt.docId, ...as('H29.001')]);
    expect(track.code, track.err).to.equal(0);
    expect(track.out).to.match(/H41\.001\s+available\s+03\s+03 \d\d\/\d\d\/\d{4}, \d\d:\d\d/); // Vietnam time
    const ack = await hubctl(['ack', item.id, ...as('H41.001')]);
    expect(ack.out).to.contain('acknowledged');
  });

  it('exits with 3 and the hub’s code when the hub refuses', async () => {
    const r = await hubctl([
      'send',
      ...as('H29.001'),
      '--from',
      'H29.001',
      '--to',
      'X99.999',
      '--subject',
      'x',
      '--key',
      key('H29.001'),
      '--cert',
      cert('H29.001'),
    ]);
    expect(r.code).to.equal(3);
    expect(r.err).to.contain('UNKNOWN_RECIPIENT');
  });
});
