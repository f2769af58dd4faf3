/**
 * Agency-side hubctl commands, over the hub's HTTP API (HUB_URL, HUB_SYSTEM_ID, HUB_SECRET or the
 * --hub/--system/--secret options): send, inbox, fetch, ack, status, track.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildEdxml, parseEdxml, type EdocMessage, type StatusMessage } from '../../domain/edxml/index.ts';
import { isBusinessCode } from '../../domain/status.ts';
import { HubError } from '../../domain/errors.ts';
import { loadSigningKey, signEdxml } from '../../crypto/signature.ts';
import { decryptEdxml, encryptEdxml, isEncrypted } from '../../crypto/encryption.ts';
import { HubApiError, HubClient } from '../../sdk/client.ts';

interface Conn {
  hub?: string;
  system?: string;
  secret?: string;
}

function client(o: Conn): HubClient {
  const baseUrl = o.hub ?? process.env.HUB_URL ?? 'http://127.0.0.1:8080';
  const systemId = o.system ?? process.env.HUB_SYSTEM_ID;
  const secret = o.secret ?? process.env.HUB_SECRET;
  if (!systemId || !secret)
    throw new HubError('UNAUTHENTICATED', 'set HUB_SYSTEM_ID and HUB_SECRET (or --system and --secret)');
  return new HubClient({ baseUrl, systemId, secret });
}

const vnNow = () => {
  const d = new Date(Date.now() + 7 * 3_600_000).toISOString();
  return {
    date: d.slice(0, 10).replace(/-/g, '/'),
    time: `${d.slice(0, 10).replace(/-/g, '/')} ${d.slice(11, 19)}`,
  };
};

function withConn(cmd: Command): Command {
  return cmd
    .option('--hub <url>', 'hub base URL (HUB_URL)')
    .option('--system <id>', 'system id (HUB_SYSTEM_ID)')
    .option('--secret <s>', 'system secret (HUB_SECRET)');
}

/** The hub's refusals exit with code 3, printing the hub's own error code and reason. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HubApiError) {
      console.error(`hubctl: ${err.code}: ${err.message}`);
      process.exit(3);
    }
    throw err;
  }
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;

  withConn(program.command('send'))
    .description('build, sign (and optionally encrypt) and send a document')
    .requiredOption('--from <code>', 'sending agency code')
    .requiredOption('--to <codes>', 'recipient codes, comma-separated')
    .requiredOption('--subject <text>', 'subject (trích yếu)')
    .requiredOption('--key <pem>', 'private key of the agency certificate (PEM)')
    .requiredOption('--cert <pem>', 'agency certificate (PEM)')
    .option('--number <n>', 'document number (default: random)')
    .option('--notation <s>', 'notation (ký hiệu)', 'VP')
    .option('--attach <files...>', 'attachments')
    .option('--priority <0-4>', 'priority: 0 normal … 3 hỏa tốc', '0')
    .option('--due <yyyy/MM/dd>', 'due date')
    .option('--encrypt <certs...>', 'encrypt for these recipient certificates (PEM files named <code>.pem)')
    .action(
      async (
        o: Conn & {
          from: string;
          to: string;
          subject: string;
          key: string;
          cert: string;
          number?: string;
          notation: string;
          attach?: string[];
          priority: string;
          due?: string;
          encrypt?: string[];
        },
      ) => {
        const now = vnNow();
        const number = o.number ?? String(Math.floor(Math.random() * 9000) + 1000);
        const attachments = (o.attach ?? []).map((f, i) => ({
          contentId: `cid:${i + 1}`,
          attachmentName: path.basename(f),
          contentType: 'application/octet-stream',
          contentBase64: readFileSync(f).toString('base64'),
        }));
        const msg: EdocMessage = {
          kind: 'edoc',
          from: { organId: o.from },
          to: o.to.split(',').map((c) => ({ organId: c.trim() })),
          documentId: `${o.from},${now.date},${number}/${o.notation}`,
          code: { codeNumber: number, codeNotation: o.notation },
          promulgationInfo: { promulgationDate: now.date },
          subject: o.subject,
          toPlaces: [],
          responseFor: [],
          otherInfo: { priority: Number(o.priority) as 0, appendixes: [] },
          traceHeaders: [{ organId: o.from, timestamp: now.time }],
          business: { docType: 0, replacements: [] },
          manifest: attachments.map((a) => ({
            contentId: a.contentId,
            attachmentName: a.attachmentName,
            contentType: a.contentType,
          })),
          attachments,
          ...(o.due ? { dueDate: o.due } : {}),
        };
        let xml = buildEdxml(msg);
        if (o.encrypt?.length)
          xml = encryptEdxml(
            xml,
            o.encrypt.map((f) => ({
              code: path.basename(f).replace(/\.pem$/, ''),
              certificatePem: readFileSync(f, 'utf8'),
            })),
          );
        const signed = signEdxml(xml, loadSigningKey(o.cert, o.key));
        const r = await call(() => client(o).submit(signed));
        if (json()) console.log(JSON.stringify(r));
        else {
          console.log(
            `${r.duplicate ? 'already accepted' : 'accepted'}: ${r.documentId}\n  docId ${r.docId}\n  sha256 ${r.sha256}`,
          );
          for (const x of r.recipients)
            console.log(
              `  ${x.code}: ${x.outcome}${x.deliveredTo && x.deliveredTo !== x.code ? ` → ${x.deliveredTo}` : ''}${x.reason ? ` (${x.reason})` : ''}`,
            );
        }
      },
    );

  withConn(program.command('inbox'))
    .description('list unacknowledged messages')
    .option('--type <edoc|status>', 'message type')
    .action(async (o: Conn & { type?: 'edoc' | 'status' }) => {
      const r = await call(() => client(o).inbox(o.type ? { type: o.type } : {}));
      if (json()) console.log(JSON.stringify(r.items));
      else if (r.items.length === 0) console.log('inbox empty');
      else
        for (const i of r.items)
          console.log(`${i.id}  ${i.messageType.padEnd(6)} from ${i.from.padEnd(14)} ${i.documentId}`);
    });

  withConn(program.command('fetch <id>'))
    .description(
      'download an inbox item (and decrypt it with --key/--cert); writes the message and attachments',
    )
    .option('--out <dir>', 'output directory', '.')
    .option('--key <pem>', 'own private key, to decrypt')
    .option('--cert <pem>', 'own certificate, to decrypt')
    .action(async (id: string, o: Conn & { out: string; key?: string; cert?: string }) => {
      const bytes = await call(() => client(o).download(id));
      mkdirSync(o.out, { recursive: true });
      const base = id.replace(/[^A-Za-z0-9.-]/g, '_');
      writeFileSync(path.join(o.out, `${base}.edxml`), bytes);
      let xml = bytes.toString('utf8');
      if (isEncrypted(xml) && o.key && o.cert)
        xml = decryptEdxml(xml, {
          certificatePem: readFileSync(o.cert, 'utf8'),
          privateKeyPem: readFileSync(o.key, 'utf8'),
        });
      const files: string[] = [`${base}.edxml`];
      const m = isEncrypted(xml) ? null : parseEdxml(xml);
      if (m?.kind === 'edoc') {
        for (const a of m.attachments) {
          const name = `${base}-${path.basename(a.attachmentName)}`;
          writeFileSync(path.join(o.out, name), Buffer.from(a.contentBase64, 'base64'));
          files.push(name);
        }
      }
      console.log(
        json()
          ? JSON.stringify({ files, encrypted: isEncrypted(xml) })
          : `wrote ${files.join(', ')}${isEncrypted(xml) ? ' (encrypted: pass --key and --cert to decrypt)' : ''}`,
      );
    });

  withConn(program.command('ack <id>'))
    .description('acknowledge an inbox item')
    .option('--fail <reason>', 'acknowledge as failed, with the reason')
    .action(async (id: string, o: Conn & { fail?: string }) => {
      const r = await call(() => client(o).ack(id, o.fail ? 'fail' : 'done', o.fail));
      console.log(json() ? JSON.stringify(r) : `${r.id}: ${r.transport}`);
    });

  withConn(program.command('status <inboxId> <code>'))
    .description('send a signed status (01…06, 02, 15, 16) about a received document')
    .requiredOption('--key <pem>', 'private key of the agency certificate')
    .requiredOption('--cert <pem>', 'agency certificate')
    .option('--note <text>', 'description')
    .action(async (inboxId: string, code: string, o: Conn & { key: string; cert: string; note?: string }) => {
      if (!isBusinessCode(code) || code === '13')
        throw new HubError('VALIDATION_FAILED', `status code must be one of 01-06, 15, 16 (got ${code})`);
      const c = client(o);
      const original = parseEdxml((await call(() => c.download(inboxId))).toString('utf8'));
      if (original.kind !== 'edoc')
        throw new HubError('VALIDATION_FAILED', 'that inbox item is not a document');
      const to = inboxId.split(':').pop()!;
      const status: StatusMessage = {
        kind: 'status',
        from: { organId: to },
        responseFor: {
          organId: original.from.organId,
          code: `${original.code.codeNumber}/${original.code.codeNotation}`,
          promulgationDate: original.promulgationInfo.promulgationDate,
          documentId: original.documentId,
        },
        statusCode: code,
        ...(o.note ? { description: o.note } : {}),
        timestamp: vnNow().time,
      };
      const r = await call(() => c.submit(signEdxml(buildEdxml(status), loadSigningKey(o.cert, o.key))));
      console.log(
        json()
          ? JSON.stringify(r)
          : `status ${code} accepted for ${original.documentId} (receipt ${r.docId})`,
      );
    });

  withConn(program.command('track <docId>'))
    .description('per-recipient delivery state and status timeline of a document')
    .action(async (docId: string, o: Conn) => {
      const v = await call(() => client(o).document(docId));
      if (json()) {
        console.log(JSON.stringify(v));
        return;
      }
      console.log(`${v.documentId}  (${v.messageType}, from ${v.sender})`);
      console.log(`${'recipient'.padEnd(16)}${'transport'.padEnd(14)}${'status'.padEnd(10)}timeline`);
      for (const d of v.deliveries) {
        const tl = d.timeline
          .map((e) => `${e.code}@${new Date(e.at).toISOString().slice(5, 16)}`)
          .join(' → ');
        console.log(
          `${(d.recipient + (d.requestedCode ? '*' : '')).padEnd(16)}${d.transport.padEnd(14)}${String(d.status ?? '-').padEnd(10)}${tl || '-'}`,
        );
      }
      if (v.deliveries.some((d) => d.requestedCode))
        console.log('* rerouted to the successor of the addressed (closed) agency');
    });
}
