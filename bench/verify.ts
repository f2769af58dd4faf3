/**
 * Benchmark: signature verification per message size, in-process (one core) and through the
 * worker-thread pool. Usage: npm run bench:verify [-- --quick] [-- --xsd]. Prints a markdown table and
 * JSON. `--xsd` also times a validation of the same message against schemas/edxml.xsd with xmllint-wasm
 * (the measurement behind docs/architecture.md "edXML structure: the parser, not an XSD validator").
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { buildEdxml } from '../src/domain/edxml/index.ts';
import { loadSigningKey, signEdxml, verifyEdxml } from '../src/crypto/signature.ts';
import { TrustStore } from '../src/crypto/trust.ts';
import { VerifierPool } from '../src/crypto/verifier-pool.ts';
import { documentMessage } from '../test/support/messages.ts';

const quick = process.argv.includes('--quick');
const xsd = process.argv.includes('--xsd');
const certs = path.join(PROJECT_ROOT, 'certs-dev');
const key = loadSigningKey(
  path.join(certs, 'agencies/H29.001.pem'),
  path.join(certs, 'agencies/H29.001.key.pem'),
);
const trust = await TrustStore.fromDirectory(certs);
const limits = { maxBytes: 64 * 1024 * 1024, maxDepth: 64, maxElements: 20_000 };
const sizes: [string, number][] = [
  ['5 KB', 3_000],
  ['50 KB', 36_000],
  ['1 MB', 760_000],
  ['5 MB', 3_800_000],
];

function message(attachmentBytes: number): Buffer {
  const m = documentMessage('H29.001', ['H41.001']);
  m.attachments[0]!.contentBase64 = randomBytes(attachmentBytes).toString('base64');
  return Buffer.from(signEdxml(buildEdxml(m), key));
}

/** Mean ms of one XSD validation of `msg` (xmllint-wasm: a worker thread and a wasm instance per call). */
async function xsdMsEach(msg: Buffer, budgetMs: number): Promise<number> {
  const { validateXML } = await import('xmllint-wasm');
  const schema = {
    fileName: 'edxml.xsd',
    contents: readFileSync(path.join(PROJECT_ROOT, 'schemas/edxml.xsd'), 'utf8'),
  };
  const xml = { fileName: 'message.xml', contents: msg.toString('utf8') };
  let n = 0;
  const t0 = performance.now();
  do {
    const r = await validateXML({ xml, schema, maxMemoryPages: 4096 });
    if (!r.valid) throw new Error(`benchmark message does not validate: ${r.rawOutput}`);
    n++;
  } while (performance.now() - t0 < budgetMs);
  return (performance.now() - t0) / n;
}

const pool = await VerifierPool.create({
  size: os.availableParallelism(),
  trustDir: certs,
  revocation: 'require',
  maxCrlAgeSeconds: 0,
  limits,
});
const rows: {
  size: string;
  bytes: number;
  inProcessPerSec: number;
  msPerVerification: number;
  poolPerSec: number;
  poolWorkers: number;
  xsdMsEach?: number;
}[] = [];
for (const [label, att] of sizes) {
  const msg = message(att);
  const budgetMs = quick ? 1500 : 5000;
  await verifyEdxml(msg, trust, { limits }); // warm-up
  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < budgetMs) {
    await verifyEdxml(msg, trust, { limits });
    n++;
  }
  const inProc = n / ((performance.now() - t0) / 1000);
  // Pool: keep 4 requests per worker in flight.
  let done = 0;
  t0 = performance.now();
  const inflight = pool.size * 4;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (performance.now() - t0 < budgetMs) {
        await pool.verify(msg);
        done++;
      }
    }),
  );
  const poolRate = done / ((performance.now() - t0) / 1000);
  const xsdMs = xsd ? await xsdMsEach(msg, budgetMs) : undefined;
  rows.push({
    size: label,
    bytes: msg.length,
    inProcessPerSec: +inProc.toFixed(1),
    msPerVerification: +(1000 / inProc).toFixed(2),
    poolPerSec: +poolRate.toFixed(1),
    poolWorkers: pool.size,
    ...(xsdMs !== undefined ? { xsdMsEach: +xsdMs.toFixed(1) } : {}),
  });
}
await pool.close();

console.log(
  `\nSignature verification (RSA-SHA256, exclusive c14n), ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, Node ${process.version}\n`,
);
console.log(
  `| message | bytes | in-process /s (1 core) | ms each | pool /s | pool workers |${xsd ? ' xmllint-wasm XSD ms each |' : ''}`,
);
console.log(`|---|---|---|---|---|---|${xsd ? '---|' : ''}`);
for (const r of rows)
  console.log(
    `| ${r.size} | ${r.bytes} | ${r.inProcessPerSec} | ${r.msPerVerification} | ${r.poolPerSec} | ${r.poolWorkers} |${xsd ? ` ${r.xsdMsEach} |` : ''}`,
  );
console.log(
  '\n' +
    JSON.stringify({
      benchmark: 'verify',
      at: new Date().toISOString(),
      node: process.version,
      cores: os.availableParallelism(),
      rows,
    }),
);
