/**
 * hubctl receipt verify <receipt.xml> — checks a hub receipt: signed by a pinned hub signing
 * certificate chaining to the trust anchors, valid at the receipt's own time (src/crypto/hub-signed.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyReceipt } from '../../crypto/receipt.ts';
import { EXIT } from '../context.ts';
import { hubTrust, withVerifyOptions, type VerifyOpts } from '../verify-options.ts';

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  withVerifyOptions(
    program
      .command('receipt')
      .description('hub receipts')
      .command('verify <receipt>')
      .description('verify a hub-signed receipt; with --message, also that it covers those exact bytes')
      .option('--message <file>', 'the submitted message file'),
  ).action(async (file: string, o: VerifyOpts & { message?: string }) => {
    const r = await verifyReceipt(readFileSync(file), await hubTrust(o));
    const covers = o.message
      ? createHash('sha256').update(readFileSync(o.message)).digest('hex') === r.sha256
      : undefined;
    const out = {
      ok: covers !== false,
      documentId: r.documentId,
      sender: r.senderCode,
      receivedAt: r.receivedAt,
      sha256: r.sha256,
      recipients: r.recipients,
      signer: r.signer.leaf.subject,
      ...(covers === undefined ? {} : { coversMessage: covers }),
    };
    if (json()) console.log(JSON.stringify(out));
    else {
      console.log(
        `receipt signed by ${out.signer}\n  ${r.documentId} from ${r.senderCode} at ${r.receivedAt}\n  sha256 ${r.sha256}`,
      );
      for (const x of r.recipients)
        console.log(
          `  ${x.code}: ${x.outcome}${x.deliveredTo && x.deliveredTo !== x.code ? ` → ${x.deliveredTo}` : ''}${x.reason ? ` (${x.reason})` : ''}`,
        );
      if (covers !== undefined)
        console.log(covers ? '  covers the given message' : '  DOES NOT cover the given message');
    }
    process.exitCode = out.ok ? EXIT.OK : EXIT.FAILURE;
  });
}
