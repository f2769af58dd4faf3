/**
 * The SDK as an agency team gets it: packages/sdk built from the hub's sources (ESM + CommonJS with
 * declarations), packed with npm, installed from the tarball into a project outside the repository,
 * then a CommonJS script (require) submits a document and an ESM script (import) pulls the inbox,
 * verifies, acknowledges and checks the receipt — with a trust directory holding the ROOT only (the
 * receipt carries the hub's intermediate). docs/sdk.md's examples are type-checked against the
 * installed package, as written.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/config.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

const run = promisify(execFile);
const PKG = path.join(PROJECT_ROOT, 'packages/sdk');
const CERTS = path.join(PROJECT_ROOT, 'certs-dev');

/** The ```ts blocks of a markdown file, in order. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const SEND_CJS = `
const { HubClient, TrustStore, loadAgencyKey, newDocument, attachmentFromBuffer } = require('@vn-dochub/sdk');
const path = require('node:path');
(async () => {
  const certs = process.env.CERTS;
  const key = loadAgencyKey({
    keyFile: path.join(certs, 'agencies/H29.001.key.pem'),
    certFile: path.join(certs, 'agencies/H29.001.pem'),
    chainFiles: [path.join(certs, 'state-ca.pem')], // sent along: the recipient needs only the roots
  });
  const hub = new HubClient({
    baseUrl: process.env.HUB_URL,
    systemId: 'dms-H29.001',
    secret: process.env.HUB_SECRET,
    trust: await TrustStore.fromDirectory(process.env.ROOTS),
    hubPins: [process.env.HUB_PIN],
  });
  const msg = newDocument({
    from: 'H29.001',
    to: ['H41.001'],
    notation: 'UBND-VP',
    subject: 'Gửi từ gói SDK (CommonJS)',
    attachments: [attachmentFromBuffer('phu-luc.txt', Buffer.from('nội dung'))],
  });
  const sent = await hub.send(msg, key);
  console.log(JSON.stringify({
    docId: sent.docId,
    documentId: sent.documentId,
    receipt: sent.receipt,
    verified: sent.verifiedReceipt !== undefined,
    signer: sent.verifiedReceipt && sent.verifiedReceipt.signer.leaf.subject,
  }));
})().catch((err) => { console.error(err.code, err.message); process.exit(1); });
`;

const RECEIVE_MJS = `
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HubClient, TrustStore, loadAgencyKey, verifyReceipt } from '@vn-dochub/sdk';
const certs = process.env.CERTS;
const key = loadAgencyKey({
  keyFile: path.join(certs, 'agencies/H41.001.key.pem'),
  certFile: path.join(certs, 'agencies/H41.001.pem'),
});
const trust = await TrustStore.fromDirectory(process.env.ROOTS);
const hub = new HubClient({
  baseUrl: process.env.HUB_URL,
  systemId: 'dms-H41.001',
  secret: process.env.HUB_SECRET,
  trust,
  hubPins: [process.env.HUB_PIN],
});
const sent = JSON.parse(readFileSync(process.env.SENT, 'utf8'));
// The receipt alone, checked offline with the roots and the pin.
const receipt = await verifyReceipt(sent.receipt, { trust, pins: [process.env.HUB_PIN] });
let item;
for (const deadline = Date.now() + 20_000; !item && Date.now() < deadline; ) {
  item = (await hub.inbox({ type: 'edoc' })).items.find((i) => i.documentId === sent.documentId);
  if (!item) await new Promise((r) => setTimeout(r, 100));
}
if (!item) throw new Error('not delivered');
const got = await hub.receive(item.id, { key });
await hub.ack(item.id);
const status = await hub.sendStatus({ from: 'H41.001', original: got.message, code: '01' }, key);
console.log(JSON.stringify({
  receiptDocumentId: receipt.documentId,
  subject: got.message.kind === 'edoc' ? got.message.subject : null,
  signer: got.signer && got.signer.leaf.subject,
  statusVerified: status.verifiedReceipt !== undefined,
}));
`;

describe('SDK package (@vn-dochub/sdk): built, packed, installed, used from CommonJS and ESM', function () {
  this.timeout(300_000);
  let t: TestHub;
  let dir: string;
  let app: string;
  let roots: string;
  let installed: string;
  const env = () => ({
    ...process.env,
    HUB_URL: t.url,
    HUB_PIN: t.hub.config.pki.hubPins[0]!,
    CERTS,
    ROOTS: roots,
  });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sdk-package-'));
    // Build into a staging copy of the package (the worktree is left as it is), then pack it.
    const stage = path.join(dir, 'stage');
    mkdirSync(stage);
    for (const f of ['package.json', 'README.md']) copyFileSync(path.join(PKG, f), path.join(stage, f));
    await run(process.execPath, [path.join(PKG, 'build.mjs'), path.join(stage, 'dist')], {
      timeout: 120_000,
    });
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: stage,
      timeout: 60_000,
    });
    const tarball = path.join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'dms-app', private: true }));
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball],
      { cwd: app, timeout: 180_000 },
    );
    installed = path.join(app, 'node_modules/@vn-dochub/sdk');
    // The roots alone: no intermediate CA certificate (CRLs for revocation checks).
    roots = path.join(dir, 'roots');
    mkdirSync(path.join(roots, 'crl'), { recursive: true });
    copyFileSync(path.join(CERTS, 'root-ca.pem'), path.join(roots, 'root-ca.pem'));
    for (const f of readdirSync(path.join(CERTS, 'crl')).filter((n) => n.endsWith('.crl')))
      copyFileSync(path.join(CERTS, 'crl', f), path.join(roots, 'crl', f));
    t = await startTestHub('sdkpackage');
  });
  after(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds JavaScript and declarations only, with no .ts import specifiers', () => {
    const files = readdirSync(path.join(installed, 'dist'), { recursive: true, encoding: 'utf8' });
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).to.deep.equal([]);
    expect(files.some((f) => f === path.join('cjs', 'index.js'))).to.equal(true);
    expect(files.some((f) => f === path.join('esm', 'index.d.ts'))).to.equal(true);
    for (const f of files.filter((n) => /\.(js|d\.ts)$/.test(n))) {
      const text = readFileSync(path.join(installed, 'dist', f), 'utf8');
      expect(text, f).to.not.match(/(from\s+|require\(|import\()['"][^'"]+\.ts['"]/);
    }
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const hub = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const [name, version] of Object.entries(manifest.dependencies))
      if (hub.dependencies[name]) expect(version, name).to.equal(hub.dependencies[name]);
  });

  it('CommonJS submits with a receipt verified by the roots alone; ESM pulls, verifies, acknowledges, answers', async () => {
    const send = path.join(app, 'send.cjs');
    writeFileSync(send, SEND_CJS);
    const s = await run(process.execPath, [send], {
      env: { ...env(), HUB_SECRET: 'DEV-ONLY-secret-H29.001' },
      timeout: 60_000,
    });
    const sent = JSON.parse(s.stdout) as {
      docId: string;
      documentId: string;
      verified: boolean;
      signer: string;
    };
    expect(sent.verified).to.equal(true);
    expect(sent.signer).to.contain('hub');
    const sentFile = path.join(app, 'sent.json');
    writeFileSync(sentFile, s.stdout);

    const receive = path.join(app, 'receive.mjs');
    writeFileSync(receive, RECEIVE_MJS);
    const r = await run(process.execPath, [receive], {
      env: { ...env(), HUB_SECRET: 'DEV-ONLY-secret-H41.001', SENT: sentFile },
      timeout: 60_000,
    });
    const got = JSON.parse(r.stdout) as { signer: string };
    expect(got).to.deep.equal({
      receiptDocumentId: sent.documentId,
      subject: 'Gửi từ gói SDK (CommonJS)',
      signer: got.signer,
      statusVerified: true,
    });
    expect(got.signer).to.contain('H29.001');
    const view = await t.client('H29.001').document(sent.docId);
    expect(view.deliveries.map((d) => [d.recipient, d.status])).to.deep.equal([['H41.001', '01']]);
  });

  it("docs/sdk.md's examples type-check against the installed package (strict, as ESM)", async () => {
    const blocks = tsBlocks(readFileSync(path.join(PROJECT_ROOT, 'docs/sdk.md'), 'utf8'));
    expect(blocks.length).to.be.greaterThan(5);
    const src = path.join(app, 'examples');
    mkdirSync(src);
    // One module, blocks in the order of the guide (each builds on the ones before it).
    writeFileSync(path.join(src, 'guide.mts'), blocks.join('\n'));
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2024',
          lib: ['es2024'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          // As the hub itself (and tsc --init): @peculiar/x509's declarations need the DOM's WebCrypto types.
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(PROJECT_ROOT, 'node_modules/@types')],
        },
        include: ['examples/*.mts'],
      }),
    );
    const tsc = path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', app], { cwd: app, timeout: 120_000 }).catch(
      (err: { stdout: string }) => ({ stdout: err.stdout, failed: true }),
    );
    expect(r.stdout).to.equal('');
    expect('failed' in r).to.equal(false);
  });
});
