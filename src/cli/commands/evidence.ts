/** hubctl evidence export|verify — evidence bundles, verifiable offline. */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { evidenceIncompleteness, exportEvidence, verifyEvidence } from '../../evidence/bundle.ts';
import { storedTrust } from '../revocation.ts';
import { EXIT, openContext } from '../context.ts';
import { x509 } from '../../crypto/x509.ts';
import { hubPins, trustDir, withVerifyOptions, type VerifyOpts } from '../verify-options.ts';

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const ev = program.command('evidence').description('evidence bundles of accepted documents');
  ev.command('export <docId>')
    .description(
      'write the evidence bundle (zip) of a document; refuses (EVIDENCE_INCOMPLETE) when a chain or a usable CRL is missing',
    )
    .option('--out <file>', 'output file', '')
    .option('--db <name>', 'database name')
    .option(
      '--allow-incomplete',
      'write it anyway, marked incomplete in its manifest (verification then fails)',
    )
    .action(async (docId: string, o: { out: string; db?: string; allowIncomplete?: boolean }) => {
      const ctx = await openContext(o.db ? { dbName: o.db } : {});
      try {
        const { trust } = await storedTrust(ctx);
        const zip = await exportEvidence(
          docId,
          {
            stores: ctx.stores,
            trust,
            hubCertPem: readFileSync(ctx.config.pki.hubCert, 'utf8'),
          },
          { allowIncomplete: o.allowIncomplete === true },
        );
        const incomplete = evidenceIncompleteness(zip);
        const out = o.out || `evidence-${docId}.zip`;
        writeFileSync(out, zip);
        if (incomplete.length)
          console.error(
            `hubctl: the bundle is INCOMPLETE (marked so in its manifest):\n  ${incomplete.join('\n  ')}`,
          );
        console.log(
          json()
            ? JSON.stringify({ file: out, bytes: zip.length, ...(incomplete.length ? { incomplete } : {}) })
            : `wrote ${out} (${zip.length} bytes)`,
        );
      } finally {
        await ctx.close();
      }
    });
  withVerifyOptions(
    ev
      .command('verify <bundle>')
      .description(
        'verify a bundle offline: trust anchors (self-signed CA certificates in --trust), pinned hub certificates',
      ),
  ).action(async (bundle: string, o: VerifyOpts) => {
    const dir = trustDir(o);
    const roots = readdirSync(dir)
      .filter((f) => f.endsWith('.pem') && !f.endsWith('.key.pem'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .filter((pem) => {
        const c = new x509.X509Certificate(pem);
        return c.subject === c.issuer;
      });
    const report = await verifyEvidence(readFileSync(bundle), {
      roots,
      ...hubPins(o),
      ...(o.revocation ? { revocation: o.revocation } : {}),
    });
    if (json()) console.log(JSON.stringify(report));
    else {
      for (const c of report.checks)
        console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}${c.detail ? `  (${c.detail})` : ''}`);
      console.log(
        report.ok
          ? `evidence of ${report.documentId} verified at ${report.verifiedAt} (the receipt's time)`
          : `evidence does NOT verify${report.code ? ` (${report.code})` : ''}`,
      );
    }
    process.exitCode = report.ok ? EXIT.OK : EXIT.FAILURE;
  });
}
