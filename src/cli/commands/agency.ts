/**
 * Agency-side hubctl commands, over the hub's HTTP API through the SDK (HUB_URL, HUB_SYSTEM_ID,
 * HUB_SECRET or --hub/--system/--secret-file/--secret-stdin): send, inbox, fetch, ack, status, track,
 * revoke, lookup. A secret is never taken from the command line (--secret is refused).
 * Keys: --key <key.pem> --cert <cert.pem>, or --key <agency.p12> with --password-file <file> or
 * --password-env <VAR> (default variable HUB_KEY_PASSWORD); never a password on the command line.
 * Transient failures are retried with backoff (--retries, --timeout); refusals print the hub's code,
 * reason and a hint (src/cli/errors.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { isBusinessCode } from '../../domain/status.ts';
import { documentIdSender } from '../../domain/ids.ts';
import { BUSINESS_DOC_TYPES, type EdocMessage, type Priority } from '../../domain/edxml/index.ts';
import { fmtDateTime } from '../../web/format.ts';
import type { TrustStore } from '../../crypto/trust.ts';
import { hubPins, verifierTrust, withVerifyOptions, type VerifyOpts } from '../verify-options.ts';
import { HubClient, originalFromView } from '../../sdk/client.ts';
import { SdkError } from '../../sdk/errors.ts';
import { loadAgencyKey, readPassword, type AgencyKey } from '../../sdk/keystore.ts';
import { attachmentFromFile, docIdOf, newDocument, type DocumentRef } from '../../sdk/messages.ts';

interface Conn {
  hub?: string;
  system?: string;
  secret?: string;
  secretFile?: string;
  secretStdin?: boolean;
  retries?: string;
  timeout?: string;
}

interface KeyOpts {
  key?: string;
  cert?: string;
  passwordFile?: string;
  passwordEnv?: string;
}

interface TrustOpts extends VerifyOpts {
  verify?: boolean;
}

function int(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new SdkError('USAGE', `${name} must be an integer ≥ ${min}`);
  return n;
}

async function trustStore(o: TrustOpts): Promise<TrustStore | undefined> {
  if (o.verify === false) return undefined;
  return verifierTrust(o);
}

async function client(o: Conn & TrustOpts, quiet: boolean): Promise<HubClient> {
  const baseUrl = o.hub ?? process.env.HUB_URL ?? 'http://127.0.0.1:8080';
  const systemId = o.system ?? process.env.HUB_SYSTEM_ID;
  const secret = systemSecret(o);
  if (!systemId || !secret)
    throw new SdkError(
      'USAGE',
      'set HUB_SYSTEM_ID (or --system) and the secret: HUB_SECRET, --secret-file <file> or --secret-stdin',
    );
  const retries = int(o.retries, '--retries', 0);
  const timeoutMs = int(o.timeout, '--timeout', 1);
  const trust = await trustStore(o);
  const pinned = hubPins(o);
  return new HubClient({
    baseUrl,
    systemId,
    secret,
    ...(trust ? { trust, hubPins: pinned.pins, hubSigningEku: pinned.eku } : {}),
    ...(retries !== undefined ? { retry: { attempts: retries + 1 } } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    onRetry: (e) => {
      if (!quiet)
        console.error(`hubctl: ${e.reason}; retrying in ${e.delayMs} ms (attempt ${e.attempt + 1})`);
    },
  });
}

/**
 * The system secret, from a file (first line), standard input or HUB_SECRET: never from argv, where
 * other users (ps, /proc) and the shell history see it.
 */
function systemSecret(o: Conn): string | undefined {
  if (o.secret !== undefined)
    throw new SdkError(
      'USAGE',
      '--secret is refused: a secret on the command line is visible to other users and kept in the shell history; use HUB_SECRET, --secret-file <file> or --secret-stdin',
    );
  if (o.secretFile) return readPassword({ file: o.secretFile });
  if (o.secretStdin) return readFileSync(0, 'utf8').split(/\r?\n/)[0];
  return process.env.HUB_SECRET;
}

/** Vietnam time, as people read it (dd/MM/yyyy, HH:mm, UTC+7). */
const vnTime = (at: string | Date | undefined) => fmtDateTime(at, 'en');

/** The agency key: PEM key + certificate, or a PKCS#12 key store (detected by content). */
export function agencyKey(o: KeyOpts, required: true): AgencyKey;
export function agencyKey(o: KeyOpts, required: false): AgencyKey | undefined;
export function agencyKey(o: KeyOpts, required: boolean): AgencyKey | undefined {
  if (!o.key) {
    if (required)
      throw new SdkError('USAGE', '--key is required (PEM private key with --cert, or a .p12 file)');
    return undefined;
  }
  let head: Buffer;
  try {
    head = readFileSync(o.key);
  } catch (err) {
    throw new SdkError('KEYSTORE_INVALID', `cannot read ${o.key}: ${(err as Error).message}`);
  }
  if (!head.includes('-----BEGIN')) {
    const password = readPassword({
      ...(o.passwordFile ? { file: o.passwordFile } : {}),
      env: o.passwordEnv ?? 'HUB_KEY_PASSWORD',
    });
    return loadAgencyKey({ p12: head, password });
  }
  if (!o.cert)
    throw new SdkError('USAGE', '--cert is required with a PEM key (or give a .p12 key store as --key)');
  return loadAgencyKey({ keyFile: o.key, certFile: o.cert });
}

function withConn(cmd: Command): Command {
  return cmd
    .option('--hub <url>', 'hub base URL (HUB_URL, default http://127.0.0.1:8080)')
    .option('--system <id>', 'system id (HUB_SYSTEM_ID)')
    .option('--secret <s>', 'refused: never put a secret on the command line')
    .option('--secret-file <file>', 'file whose first line is the system secret (or HUB_SECRET)')
    .option('--secret-stdin', 'read the system secret from standard input (first line)')
    .option('--retries <n>', 'retries on transient failures (default 4)')
    .option('--timeout <ms>', 'per-attempt timeout in ms (default 30000)');
}

function withKey(cmd: Command, what: string): Command {
  return cmd
    .option('--key <file>', `${what}: PEM private key (with --cert) or PKCS#12 (.p12/.pfx) key store`)
    .option('--cert <pem>', 'agency certificate (PEM), with a PEM --key')
    .option('--password-file <file>', 'file whose first line is the PKCS#12 password')
    .option(
      '--password-env <var>',
      'environment variable holding the PKCS#12 password (default HUB_KEY_PASSWORD)',
    );
}

function withTrust(cmd: Command, what: string): Command {
  return withVerifyOptions(cmd).option('--no-verify', `do not verify ${what}`);
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;

  withTrust(withKey(withConn(program.command('send')), 'signing key'), 'the hub receipt')
    .description('build, sign (and optionally encrypt) and send a document; prints the verified receipt')
    .requiredOption('--from <code>', 'sending agency code')
    .requiredOption('--to <codes>', 'recipient codes, comma-separated')
    .requiredOption('--subject <text>', 'subject (trích yếu)')
    .option('--number <n>', 'document number (default: random, development only)')
    .option('--notation <s>', 'notation (ký hiệu)', 'VP')
    .option('--content <text>', 'content (nội dung)')
    .option('--attach <files...>', 'attachments')
    .option(
      '--priority <0-4>',
      'priority: 0 normal, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc, 4 hỏa tốc hẹn giờ',
      '0',
    )
    .option('--due <yyyy/MM/dd>', 'due date (hạn xử lý)')
    .option(
      '--encrypt [certs...]',
      'encrypt for the recipients: their certificates from the directory, or these PEM files named <code>.pem',
    )
    .action(
      async (
        o: Conn &
          KeyOpts &
          TrustOpts & {
            from: string;
            to: string;
            subject: string;
            number?: string;
            notation: string;
            content?: string;
            attach?: string[];
            priority: string;
            due?: string;
            encrypt?: boolean | string[];
          },
      ) => {
        const priority = Number(o.priority);
        if (![0, 1, 2, 3, 4].includes(priority)) throw new SdkError('USAGE', '--priority must be 0 to 4');
        if (o.due && !/^\d{4}\/\d{2}\/\d{2}$/.test(o.due))
          throw new SdkError('USAGE', '--due must be yyyy/MM/dd');
        const key = agencyKey(o, true);
        const msg: EdocMessage = newDocument({
          from: o.from,
          to: o.to
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean),
          subject: o.subject,
          notation: o.notation,
          ...(o.number ? { number: o.number } : {}),
          ...(o.content ? { content: o.content } : {}),
          priority: priority as Priority,
          ...(o.due ? { dueDate: o.due } : {}),
          attachments: (o.attach ?? []).map((f) => attachmentFromFile(f)),
        });
        const c = await client(o, json());
        const encrypt =
          o.encrypt === undefined || o.encrypt === false
            ? undefined
            : o.encrypt === true || o.encrypt.length === 0
              ? true
              : o.encrypt.map((f) => ({
                  code: path.basename(f).replace(/\.pem$/, ''),
                  certificatePem: readFileSync(f, 'utf8'),
                }));
        const r = await c.send(msg, key, encrypt ? { encrypt } : {});
        if (json()) {
          const { signedXml: _x, message: _m, verifiedReceipt, ...rest } = r;
          console.log(JSON.stringify({ ...rest, receiptVerified: verifiedReceipt !== undefined }));
          return;
        }
        console.log(
          `${r.duplicate ? 'already accepted' : 'accepted'}: ${r.documentId}\n  docId ${r.docId}\n  sha256 ${r.sha256}`,
        );
        if (r.verifiedReceipt)
          console.log(`  receipt verified: signed by ${r.verifiedReceipt.signer.leaf.subject}`);
        if (r.encryptedFor.length) console.log(`  encrypted for ${r.encryptedFor.join(', ')}`);
        for (const x of r.recipients)
          console.log(
            `  ${x.code}: ${x.outcome}${x.deliveredTo && x.deliveredTo !== x.code ? ` → ${x.deliveredTo}` : ''}${x.reason ? ` (${x.reason})` : ''}`,
          );
      },
    );

  withConn(program.command('inbox'))
    .description(
      'list unacknowledged messages (all pages): status codes, and recalls / updates to answer with 15 or 16',
    )
    .option('--type <edoc|status>', 'message type')
    .action(async (o: Conn & { type?: 'edoc' | 'status' }) => {
      if (o.type && o.type !== 'edoc' && o.type !== 'status')
        throw new SdkError('USAGE', '--type is edoc or status');
      const c = await client({ ...o, verify: false }, json());
      const items = [];
      for await (const i of c.inboxAll(o.type ? { type: o.type } : {})) items.push(i);
      // What each item is, from the hub's view of it (metadata only, not the message bytes).
      const described = [];
      for (let at = 0; at < items.length; at += 8)
        described.push(
          ...(await Promise.all(
            items
              .slice(at, at + 8)
              .map(async (i) => ({ ...i, ...whatItIs((await c.document(i.docId)).meta) })),
          )),
        );
      if (json()) console.log(JSON.stringify(described));
      else if (described.length === 0) console.log('inbox empty');
      else {
        for (const i of described)
          console.log(
            `${i.id}  ${i.messageType.padEnd(6)} from ${i.from.padEnd(14)} ${i.documentId}${i.what ? `  ${i.what}` : ''}`,
          );
        if (described.some((i) => i.request))
          console.log(
            'RECALL / UPDATE: answer with `hubctl status <inboxId> 15` (agree) or `16` (refuse), then ack the item',
          );
      }
    });

  withTrust(withKey(withConn(program.command('fetch <id>')), 'own key, to decrypt'), 'the sender’s signature')
    .description(
      'download an inbox item, verify its signature, decrypt it (with --key); writes it and its attachments',
    )
    .option('--out <dir>', 'output directory', '.')
    .action(async (id: string, o: Conn & KeyOpts & TrustOpts & { out: string }) => {
      const key = agencyKey(o, false);
      const c = await client(o, json());
      const r = await c.receive(id, { ...(key ? { key } : {}), verify: o.verify !== false });
      mkdirSync(o.out, { recursive: true });
      const base = id.replace(/[^A-Za-z0-9.-]/g, '_');
      writeFileSync(path.join(o.out, `${base}.edxml`), r.bytes);
      const files: string[] = [`${base}.edxml`];
      if (r.encrypted && r.message) {
        writeFileSync(path.join(o.out, `${base}.decrypted.edxml`), r.xml);
        files.push(`${base}.decrypted.edxml`);
      }
      if (r.message?.kind === 'edoc') {
        for (const a of r.message.attachments) {
          const name = `${base}-${path.basename(a.attachmentName)}`;
          writeFileSync(path.join(o.out, name), Buffer.from(a.contentBase64, 'base64'));
          files.push(name);
        }
      }
      const stillEncrypted = r.message === null;
      const signer = r.signer?.leaf.subject;
      console.log(
        json()
          ? JSON.stringify({
              files,
              encrypted: r.encrypted,
              decrypted: r.encrypted && !stillEncrypted,
              signer,
            })
          : `wrote ${files.join(', ')}${signer ? `\n  signature verified: ${signer}` : ''}${stillEncrypted ? '\n  encrypted: pass --key (and --cert) to decrypt' : ''}`,
      );
    });

  withConn(program.command('ack <id>'))
    .description('acknowledge an inbox item (idempotent)')
    .option('--fail <reason>', 'acknowledge as failed, with the reason')
    .action(async (id: string, o: Conn & { fail?: string }) => {
      const c = await client({ ...o, verify: false }, json());
      const r = await c.ack(id, o.fail ? 'fail' : 'done', o.fail);
      console.log(json() ? JSON.stringify(r) : `${r.id}: ${r.transport}`);
    });

  withTrust(withKey(withConn(program.command('status <inboxId> <code>')), 'signing key'), 'the hub receipt')
    .description('send a signed status (01…06, 02, 15, 16) about a received document')
    .option('--note <text>', 'description')
    .action(async (inboxId: string, code: string, o: Conn & KeyOpts & TrustOpts & { note?: string }) => {
      if (!isBusinessCode(code) || code === '13')
        throw new SdkError('USAGE', `status code must be one of 01-06, 15, 16 (got ${code})`);
      const key = agencyKey(o, true);
      const c = await client(o, json());
      const received = (await c.receive(inboxId, { key, verify: false })).message;
      if (received?.kind !== 'edoc') throw new SdkError('USAGE', 'that inbox item is not a document');
      // 15/16 answer a recall or update: given the recall's inbox item, the status is about the original.
      const request = received.business?.docType ? received.business : undefined;
      const original: EdocMessage | DocumentRef =
        (code === '15' || code === '16') && request?.documentId
          ? { senderCode: received.from.organId, documentId: request.documentId }
          : received;
      const to = inboxId.split(':').pop()!;
      const r = await c.sendStatus(
        { from: to, original, code, ...(o.note ? { description: o.note } : {}) },
        key,
      );
      console.log(
        json()
          ? JSON.stringify({
              docId: r.docId,
              documentId: r.documentId,
              statusCode: code,
              duplicate: r.duplicate,
            })
          : `status ${code} accepted for ${original.documentId} (receipt ${r.docId})`,
      );
    });

  withConn(program.command('track <id>'))
    .description(
      'per-recipient delivery state and status timeline of a document, by the hub docId or its DocumentId (Vietnam time)',
    )
    .option('--sender <code>', 'the sending agency, for a DocumentId (default: its first part)')
    .action(async (id: string, o: Conn & { sender?: string }) => {
      const c = await client({ ...o, verify: false }, json());
      // A DocumentId ({sender},{yyyy/MM/dd},{number}/{notation}) names the document with its sender.
      const sender = o.sender ?? documentIdSender(id);
      const v = await c.document(id.includes(',') && sender ? docIdOf(sender, id) : id);
      if (json()) {
        console.log(JSON.stringify(v));
        return;
      }
      console.log(
        `${v.documentId}  (${v.messageType}, from ${v.sender}; docId ${v.id}; times: Vietnam, UTC+7)`,
      );
      for (const ch of v.chain ?? []) console.log(`  ${ch.type} by ${ch.documentId}`);
      console.log(`${'recipient'.padEnd(16)}${'transport'.padEnd(14)}${'status'.padEnd(10)}timeline`);
      for (const d of v.deliveries) {
        const tl = d.timeline.map((e) => `${e.code} ${vnTime(e.at)}`).join(' → ');
        const flags = [d.pendingRequest ? `pending ${d.pendingRequest}` : '', d.overdue ? 'OVERDUE' : '']
          .filter(Boolean)
          .join(', ');
        console.log(
          `${(d.recipient + (d.requestedCode ? '*' : '')).padEnd(16)}${d.transport.padEnd(14)}${String(d.status ?? '-').padEnd(10)}${tl || '-'}${flags ? `  (${flags})` : ''}`,
        );
      }
      if (v.deliveries.some((d) => d.requestedCode))
        console.log('* rerouted to the successor of the addressed (closed) agency');
    });

  withTrust(withKey(withConn(program.command('revoke <docId>')), 'signing key'), 'the hub receipt')
    .description('revoke (thu hồi) a document this agency sent: recipients get a recall to answer with 15/16')
    .requiredOption('--reason <text>', 'reason (BussinessDocReason)')
    .option('--number <n>', 'number of the revocation document')
    .action(async (docId: string, o: Conn & KeyOpts & TrustOpts & { reason: string; number?: string }) => {
      const key = agencyKey(o, true);
      const c = await client(o, json());
      const view = await c.document(docId);
      const r = await c.revoke(originalFromView(view), key, {
        from: view.sender,
        reason: o.reason,
        ...(o.number ? { number: o.number } : {}),
      });
      console.log(
        json()
          ? JSON.stringify({ docId: r.docId, documentId: r.documentId, revokes: view.documentId })
          : `revocation ${r.documentId} accepted (docId ${r.docId}); recipients: ${r.recipients.map((x) => x.code).join(', ')}`,
      );
    });

  withConn(program.command('lookup <code>'))
    .description(
      'directory lookup over the API: the agency, where documents to it go, its certificates in force',
    )
    .action(async (code: string, o: Conn) => {
      const c = await client({ ...o, verify: false }, json());
      const [a, certs] = await Promise.all([c.agency(code), c.agencyCertificates(code)]);
      if (json()) {
        console.log(
          JSON.stringify({
            ...a,
            certificates: certs.certificates.map(({ pem: _pem, ...x }) => x),
          }),
        );
        return;
      }
      console.log(`${a.code}  ${a.name}  (${a.block}, ${a.kind}, ${a.status})`);
      if (a.routing)
        console.log(
          `  routing: ${a.routing.outcome}${a.routing.deliveredTo && a.routing.deliveredTo !== a.code ? ` → ${a.routing.deliveredTo}` : ''}${a.routing.reason ? ` (${a.routing.reason})` : ''}`,
        );
      for (const x of certs.certificates)
        console.log(
          `  certificate ${x.fingerprintSha256}${x.notAfter ? ` until ${x.notAfter.slice(0, 10)}` : ''}`,
        );
      if (certs.certificates.length === 0) console.log('  no certificate in force');
    });
}

/** How hubctl inbox names an item: a status code, or a recall / update / replacement to answer. */
function whatItIs(meta: Record<string, unknown> | undefined): {
  what?: string;
  request?: 'recall' | 'update';
} {
  const m = meta ?? {};
  if (typeof m.statusCode === 'string')
    return {
      what: `status ${m.statusCode}${typeof m.responseForDocumentId === 'string' ? ` about ${m.responseForDocumentId}` : ''}`,
    };
  const type = m.businessType;
  if (type === 1 || type === 2 || type === 3) {
    const ref = typeof m.refDocumentId === 'string' ? ` of ${m.refDocumentId}` : '';
    const label = type === 1 ? 'RECALL' : type === 2 ? 'UPDATE' : 'REPLACEMENT';
    return {
      what: `${label}${ref} (${BUSINESS_DOC_TYPES[type].vi})`,
      ...(type === 3 ? {} : { request: type === 1 ? ('recall' as const) : ('update' as const) }),
    };
  }
  return {};
}
