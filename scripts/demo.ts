/**
 * npm run demo — live traffic between agencies of the three blocks (State, Party, Front) through a
 * running hub, with the SDK and the development credentials and PKI (certs-dev/, DEVELOPMENT ONLY).
 *
 *   npm run demo -- [--hub http://127.0.0.1:8080] [--documents 40] [--duration <s>] [--concurrency 4]
 *                   [--agencies H29.001,H41.001,…] [--seed 1] [--every 5] [--timeout 900]
 *                   [--summary-json <file>] [--quiet]
 *
 * 1. makes sure every demo agency has its dev certificate registered (admin API, dev admin system);
 * 2. sends --documents documents (spread over --duration seconds when given): 1–3 recipients, 1–2
 *    attachments, about a third encrypted for the recipients (certificates from the directory), some
 *    with a DueDate, priorities from normal to hỏa tốc; every receipt verified;
 * 3. recipients poll their inboxes, verify, decrypt, acknowledge and answer with statuses
 *    01 → 03 → 04 → 05 → 06, some stopping at 03, some refusing (01 → 02);
 * 4. the first document is recalled once its recipients accepted it (revocation, answered by 15);
 * 5. prints a live line (TTY) or a periodic line, then a summary table with the hub's own view of
 *    every document, and exits 0 (1 if anything failed or did not finish before --timeout, 4 if the
 *    hub is unreachable).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import type { EdocMessage, Priority, StatusCode } from '../src/domain/edxml/index.ts';
import { TrustStore } from '../src/crypto/trust.ts';
import { HubApiError, HubClient, type InboxItem } from '../src/sdk/client.ts';
import { SdkError } from '../src/sdk/errors.ts';
import { loadAgencyKey, type AgencyKey } from '../src/sdk/keystore.ts';
import { attachmentFromBuffer, newDocument, originalOf } from '../src/sdk/messages.ts';

const opts = new Command('demo')
  .description('simulated document traffic between agencies of the three blocks through a running hub')
  .option('--hub <url>', 'hub base URL (HUB_URL)', process.env.HUB_URL ?? 'http://127.0.0.1:8080')
  .option('--documents <n>', 'documents to send', '40')
  .option('--duration <seconds>', 'spread the sending over this many seconds (default: as fast as allowed)')
  .option('--concurrency <n>', 'documents in flight at once', '4')
  .option(
    '--agencies <codes>',
    'demo agencies (dev credentials dms-<code>)',
    'H29.001,H41.001,G22,D29.001,D41.001,M29.001,M41.001',
  )
  .option('--certs <dir>', 'development PKI', path.join(PROJECT_ROOT, 'certs-dev'))
  .option(
    '--admin-system <id>',
    'admin system for certificate registration',
    process.env.HUB_ADMIN_SYSTEM ?? 'hub-admin',
  )
  .option(
    '--admin-secret <s>',
    'its secret (HUB_ADMIN_SECRET)',
    process.env.HUB_ADMIN_SECRET ?? 'DEV-ONLY-secret-admin',
  )
  .option('--seed <n>', 'random seed', String(Date.now() % 100_000))
  .option('--every <seconds>', 'progress line period when stdout is not a terminal', '5')
  .option('--poll <ms>', 'inbox polling interval', '400')
  .option('--timeout <seconds>', 'give up (exit 1) if the traffic has not settled by then', '900')
  .option('--summary-json <file>', 'also write the summary as JSON')
  .option('--quiet', 'no progress lines')
  .parse()
  .opts<{
    hub: string;
    documents: string;
    duration?: string;
    concurrency: string;
    agencies: string;
    certs: string;
    adminSystem: string;
    adminSecret: string;
    seed: string;
    every: string;
    poll: string;
    timeout: string;
    summaryJson?: string;
    quiet?: boolean;
  }>();

function num(v: string, name: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    console.error(`demo: --${name} must be a number ≥ ${min}`);
    process.exit(2);
  }
  return n;
}

const DOCS = num(opts.documents, 'documents', 1);
const DURATION_MS = opts.duration ? num(opts.duration, 'duration', 0) * 1000 : 0;
const CONCURRENCY = num(opts.concurrency, 'concurrency', 1);
const POLL_MS = num(opts.poll, 'poll', 50);
const TIMEOUT_MS = num(opts.timeout, 'timeout', 1) * 1000;
const started = Date.now();

// ------------------------------------------------------------------ seeded randomness (mulberry32)
let seed = num(opts.seed, 'seed', 0) >>> 0;
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
function sample<T>(xs: readonly T[], n: number): T[] {
  const copy = [...xs];
  const out: T[] = [];
  while (out.length < n && copy.length) out.push(copy.splice(Math.floor(rand() * copy.length), 1)[0]!);
  return out;
}
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));

// ------------------------------------------------------------------ state
const BLOCK_OF: Record<string, string> = { H: 'state', G: 'state', D: 'party', M: 'front' };
const blockOf = (code: string) => BLOCK_OF[code[0] ?? ''] ?? 'other';

interface Agent {
  readonly code: string;
  readonly block: string;
  readonly client: HubClient;
  readonly key: AgencyKey;
  sent: number;
  received: number;
  acked: number;
  statusesSent: number;
  statusesReceived: number;
}

interface SentDoc {
  readonly message: EdocMessage;
  readonly docId: string;
  readonly encrypted: boolean;
  /** recipient → planned status path */
  readonly plans: Map<string, StatusCode[]>;
  readonly recall: boolean;
}

const stats = {
  sent: 0,
  encrypted: 0,
  withDueDate: 0,
  byPriority: { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 } as Record<Priority, number>,
  attachments: 0,
  received: 0,
  acked: 0,
  statuses: {} as Record<string, number>,
  statusesRelayed: 0,
  revocationsSent: 0,
  revocationsReceived: 0,
  errors: {} as Record<string, number>,
  certificatesRegistered: [] as string[],
};
const sentDocs = new Map<string, SentDoc>(); // by DocumentId
const tasks = new Set<Promise<void>>();
let stopping = false;
let recallFailed = false;

function track(p: Promise<void>): void {
  tasks.add(p);
  void p.finally(() => tasks.delete(p));
}

function fail(what: string, err: unknown): void {
  const code =
    err instanceof HubApiError || err instanceof SdkError ? err.code : ((err as Error)?.name ?? 'ERROR');
  stats.errors[code] = (stats.errors[code] ?? 0) + 1;
  if (!opts.quiet) console.error(`\ndemo: ${what}: ${code}: ${(err as Error)?.message ?? String(err)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ setup
async function setup(): Promise<Agent[]> {
  const trust = await TrustStore.fromDirectory(opts.certs, { revocation: 'prefer' });
  const admin = new HubClient({ baseUrl: opts.hub, systemId: opts.adminSystem, secret: opts.adminSecret });
  const agents: Agent[] = [];
  for (const code of opts.agencies
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)) {
    let key: AgencyKey;
    try {
      key = loadAgencyKey({
        keyFile: path.join(opts.certs, 'agencies', `${code}.key.pem`),
        certFile: path.join(opts.certs, 'agencies', `${code}.pem`),
      });
    } catch (err) {
      console.error(`demo: skipping ${code}: no development key (${(err as Error).message})`);
      continue;
    }
    const client = new HubClient({
      baseUrl: opts.hub,
      systemId: `dms-${code}`,
      secret: `DEV-ONLY-secret-${code}`,
      trust,
      hubPins: loadConfig().pki.hubPins, // development pins (config/default.json)
    });
    let certs;
    try {
      certs = await client.agencyCertificates(code);
    } catch (err) {
      if (err instanceof SdkError && (err.code === 'HUB_UNREACHABLE' || err.code === 'TIMEOUT')) throw err;
      console.error(
        `demo: skipping ${code}: ${err instanceof HubApiError ? err.code : ''} ${(err as Error).message}`,
      );
      continue;
    }
    if (certs.status !== 'active') {
      console.error(`demo: skipping ${code}: the agency is ${certs.status}`);
      continue;
    }
    if (!certs.certificates.some((c) => c.fingerprintSha256 === key.fingerprintSha256)) {
      const res = await admin.call(
        'POST',
        `/v1/admin/agencies/${encodeURIComponent(code)}/certificates`,
        key.certificatePem,
        'application/x-pem-file',
      );
      if (res.status !== 201) throw new Error(`registering the certificate of ${code}: HTTP ${res.status}`);
      stats.certificatesRegistered.push(code);
      console.log(`registered the dev certificate of ${code} (${key.fingerprintSha256.slice(0, 16)}…)`);
    }
    agents.push({
      code,
      block: blockOf(code),
      client,
      key,
      sent: 0,
      received: 0,
      acked: 0,
      statusesSent: 0,
      statusesReceived: 0,
    });
  }
  if (agents.length < 2) throw new Error('fewer than two usable demo agencies');
  const blocks = new Set(agents.map((a) => a.block));
  console.log(
    `demo agencies: ${agents.map((a) => `${a.code} (${a.block})`).join(', ')}${blocks.size < 3 ? '  [warning: not all three blocks]' : ''}`,
  );
  return agents;
}

// ------------------------------------------------------------------ sending
const SUBJECTS = [
  'V/v triển khai mô hình chính quyền địa phương hai cấp',
  'V/v báo cáo tình hình bàn giao hồ sơ, tài liệu sau sắp xếp',
  'Kế hoạch tổ chức hội nghị tổng kết công tác năm',
  'V/v rà soát danh sách cán bộ, công chức cấp xã',
  'Thông báo kết luận của Thường trực',
  'V/v phối hợp tuyên truyền kỷ niệm ngày thành lập Mặt trận',
  'Công văn đôn đốc thực hiện chỉ tiêu kinh tế - xã hội',
];
const FILES = ['cong-van.pdf', 'phu-luc.xlsx', 'bao-cao.docx', 'ke-hoach.pdf', 'danh-sach.zip'];

function planFor(recall: boolean): StatusCode[] {
  if (recall) return ['01', '03'];
  const r = rand();
  if (r < 0.12) return ['01', '02'];
  if (r < 0.3) return ['01', '03'];
  if (r < 0.45) return ['01', '03', '04', '05'];
  return ['01', '03', '04', '05', '06'];
}

async function sendOne(agents: Agent[], i: number): Promise<void> {
  const recall = i === 0;
  const sender = recall ? agents[0]! : pick(agents);
  const others = agents.filter((a) => a !== sender);
  const recipients = sample(others, recall ? 1 : 1 + Math.floor(rand() * Math.min(3, others.length)));
  const r = rand();
  const priority = (r < 0.5 ? 0 : r < 0.7 ? 1 : r < 0.85 ? 2 : 3) as Priority;
  const due = rand() < 0.4 ? new Date(Date.now() + (1 + Math.floor(rand() * 10)) * 86_400_000) : undefined;
  const encrypt = !recall && rand() < 0.35;
  const files = sample(FILES, 1 + Math.floor(rand() * 2));
  const message = newDocument({
    from: sender.code,
    to: recipients.map((a) => a.code),
    notation: sender.block === 'party' ? 'CV/ĐU' : sender.block === 'front' ? 'CV/MTTQ' : 'UBND-VP',
    subject: recall ? 'Thông báo (sẽ được thu hồi để minh họa)' : pick(SUBJECTS),
    priority,
    ...(due ? { dueDate: due } : {}),
    signerInfo: { competence: 'TL. Chủ tịch', position: 'Chánh Văn phòng', fullName: 'Nguyễn Văn Minh' },
    attachments: files.map((f) => attachmentFromBuffer(f, randomBytes(2_000 + Math.floor(rand() * 28_000)))),
  });
  const plans = new Map(recipients.map((a) => [a.code, planFor(recall)]));
  // Registered before sending: recipients may see the document before the receipt arrives here.
  const pending: SentDoc = { message, docId: '', encrypted: encrypt, plans, recall };
  sentDocs.set(message.documentId, pending);
  try {
    const res = await sender.client.send(message, sender.key, encrypt ? { encrypt: true } : {});
    sentDocs.set(message.documentId, { ...pending, docId: res.docId });
    sender.sent++;
    stats.sent++;
    stats.attachments += files.length;
    stats.byPriority[priority]++;
    if (due) stats.withDueDate++;
    if (encrypt) stats.encrypted++;
  } catch (err) {
    sentDocs.delete(message.documentId);
    fail(`sending ${message.documentId}`, err);
  }
}

async function sendAll(agents: Agent[]): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < DOCS && !stopping; i++) {
    if (DURATION_MS) {
      const at = started + (i * DURATION_MS) / DOCS;
      if (at > Date.now()) await sleep(at - Date.now());
    }
    while (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
    const p = sendOne(agents, i).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}

// ------------------------------------------------------------------ receiving
const recallAnswered = new Map<string, Set<string>>(); // original DocumentId → recipients that answered 15
const planDone = new Map<string, Set<string>>(); // DocumentId → recipients whose plan is complete

async function runPlan(agent: Agent, doc: SentDoc, plan: StatusCode[]): Promise<void> {
  for (const code of plan) {
    await sleep(50 + Math.floor(rand() * 250)); // a clerk takes a moment
    try {
      await agent.client.sendStatus(
        { from: agent.code, original: doc.message, code, description: `Trạng thái ${code} (demo)` },
        agent.key,
      );
      agent.statusesSent++;
      stats.statuses[code] = (stats.statuses[code] ?? 0) + 1;
    } catch (err) {
      fail(`status ${code} from ${agent.code} for ${doc.message.documentId}`, err);
      break;
    }
  }
  const done = planDone.get(doc.message.documentId) ?? new Set<string>();
  done.add(agent.code);
  planDone.set(doc.message.documentId, done);
}

async function handle(agent: Agent, item: InboxItem): Promise<void> {
  const got = await agent.client.receive(item.id, { key: agent.key });
  await agent.client.ack(item.id);
  agent.acked++;
  stats.acked++;
  const m = got.message;
  if (!m) throw new SdkError('USAGE', `${item.id} could not be decrypted with the key of ${agent.code}`);
  if (m.kind === 'status') {
    agent.statusesReceived++;
    stats.statusesRelayed++;
    return;
  }
  agent.received++;
  stats.received++;
  if (m.business?.docType === 1 && m.business.documentId) {
    // a revocation: agree (15) about the original
    stats.revocationsReceived++;
    const originalId = m.business.documentId;
    const original = sentDocs.get(originalId);
    await agent.client.sendStatus(
      {
        from: agent.code,
        original: original ? original.message : { senderCode: m.from.organId, documentId: originalId },
        code: '15',
        description: 'Đồng ý thu hồi (demo)',
      },
      agent.key,
    );
    agent.statusesSent++;
    stats.statuses['15'] = (stats.statuses['15'] ?? 0) + 1;
    const s = recallAnswered.get(originalId) ?? new Set<string>();
    s.add(agent.code);
    recallAnswered.set(originalId, s);
    return;
  }
  const doc = sentDocs.get(m.documentId);
  const plan = doc?.plans.get(agent.code);
  if (!doc || !plan) return; // not from this demo run: acknowledged, no statuses
  await runPlan(agent, doc, plan);
}

async function inboxLoop(agent: Agent): Promise<void> {
  // Each inbox item is handled once in this run: a listing fetched before an acknowledgement landed
  // may still show an item whose handling already finished.
  const seen = new Set<string>();
  while (!stopping) {
    try {
      for await (const item of agent.client.inboxAll()) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        track(handle(agent, item).catch((err: unknown) => fail(`handling ${item.id} at ${agent.code}`, err)));
      }
    } catch (err) {
      fail(`polling the inbox of ${agent.code}`, err);
    }
    await sleep(POLL_MS);
  }
}

async function recallFirst(agents: Agent[]): Promise<void> {
  const target = [...sentDocs.values()].find((d) => d.recall);
  if (!target) return;
  const recipients = [...target.plans.keys()];
  while (!stopping && !recipients.every((r) => planDone.get(target.message.documentId)?.has(r)))
    await sleep(100);
  if (stopping) return;
  const sender = agents.find((a) => a.code === target.message.from.organId)!;
  try {
    await sender.client.revoke(originalOf(target.message), sender.key, {
      from: sender.code,
      reason: 'Ban hành nhầm đối tượng (demo)',
    });
    stats.revocationsSent++;
  } catch (err) {
    recallFailed = true;
    fail(`revoking ${target.message.documentId}`, err);
  }
}

// ------------------------------------------------------------------ reporting
function progressLine(): string {
  const s = Object.entries(stats.statuses)
    .sort()
    .map(([c, n]) => `${c}:${n}`)
    .join(' ');
  const errs = Object.values(stats.errors).reduce((a, b) => a + b, 0);
  return `[${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s] sent ${stats.sent}/${DOCS} · received ${stats.received} · acked ${stats.acked} · statuses ${s || '-'} · relayed ${stats.statusesRelayed} · recall ${stats.revocationsSent}/${stats.revocationsReceived} · errors ${errs}`;
}

function startProgress(): () => void {
  if (opts.quiet) return () => undefined;
  const tty = process.stdout.isTTY === true;
  const every = tty ? 500 : num(opts.every, 'every', 0.1) * 1000;
  const t = setInterval(() => {
    if (tty) process.stdout.write(`\r\x1b[K${progressLine()}`);
    else console.log(progressLine());
  }, every);
  return () => {
    clearInterval(t);
    if (tty) process.stdout.write(`\r\x1b[K`);
  };
}

async function hubView(agents: Agent[]) {
  const byStatus: Record<string, number> = {};
  let deliveries = 0;
  let overdue = 0;
  for (const d of sentDocs.values()) {
    if (!d.docId) continue;
    const sender = agents.find((a) => a.code === d.message.from.organId)!;
    const v = await sender.client.document(d.docId);
    for (const x of v.deliveries) {
      deliveries++;
      const k = x.status ?? 'none';
      byStatus[k] = (byStatus[k] ?? 0) + 1;
      if (x.overdue) overdue++;
    }
  }
  return { documents: [...sentDocs.values()].filter((d) => d.docId).length, deliveries, byStatus, overdue };
}

function table(agents: Agent[]): string {
  const head = ['agency', 'block', 'sent', 'received', 'acked', 'statuses sent', 'statuses recv'];
  const rows = agents.map((a) =>
    [a.code, a.block, a.sent, a.received, a.acked, a.statusesSent, a.statusesReceived].map(String),
  );
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

// ------------------------------------------------------------------ main
async function main(): Promise<number> {
  console.log(
    `demo: hub ${opts.hub}, ${DOCS} documents${DURATION_MS ? ` over ${DURATION_MS / 1000}s` : ''}, seed ${opts.seed}`,
  );
  const agents = await setup();
  const stopProgress = startProgress();
  const loops = agents.map((a) => inboxLoop(a));
  const deadline = started + TIMEOUT_MS;
  await sendAll(agents);
  const recall = recallFirst(agents);
  // settle: every planned status sent, the recall answered, every status relayed to its sender
  const expectedRelays = () => Object.values(stats.statuses).reduce((a, b) => a + b, 0);
  const recallTarget = [...sentDocs.values()].find((d) => d.recall && d.docId);
  let settled = false;
  while (Date.now() < deadline) {
    const plansDone = [...sentDocs.values()]
      .filter((d) => d.docId)
      .every((d) => [...d.plans.keys()].every((r) => planDone.get(d.message.documentId)?.has(r)));
    const recallDone =
      !recallTarget ||
      recallFailed ||
      (stats.revocationsSent === 1 &&
        [...recallTarget.plans.keys()].every((r) =>
          recallAnswered.get(recallTarget.message.documentId)?.has(r),
        ));
    if (plansDone && recallDone && tasks.size === 0 && stats.statusesRelayed >= expectedRelays()) {
      settled = true;
      break;
    }
    await sleep(200);
  }
  stopping = true;
  await recall;
  await Promise.all(loops);
  await Promise.all([...tasks]);
  stopProgress();

  const hub = await hubView(agents);
  const errors = Object.values(stats.errors).reduce((a, b) => a + b, 0);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n=== demo summary (${secs}s) ===`);
  console.log(table(agents));
  console.log('');
  console.log(
    `documents sent ${stats.sent} (encrypted ${stats.encrypted}, with DueDate ${stats.withDueDate}, priority ${Object.entries(
      stats.byPriority,
    )
      .map(([p, n]) => `${p}:${n}`)
      .join(' ')}), attachments ${stats.attachments}`,
  );
  console.log(`documents received ${stats.received}, inbox items acknowledged ${stats.acked}`);
  console.log(
    `statuses sent ${
      Object.entries(stats.statuses)
        .sort()
        .map(([c, n]) => `${c}:${n}`)
        .join(' ') || '-'
    }; relayed to senders ${stats.statusesRelayed}`,
  );
  console.log(
    `recall: ${stats.revocationsSent} revocation sent, received by ${stats.revocationsReceived}, answered 15 by ${[...recallAnswered.values()].reduce((a, s) => a + s.size, 0)}`,
  );
  console.log(
    `hub view: ${hub.documents} documents, ${hub.deliveries} deliveries; status ${Object.entries(hub.byStatus)
      .sort()
      .map(([c, n]) => `${c}:${n}`)
      .join(' ')}; overdue ${hub.overdue}`,
  );
  if (stats.certificatesRegistered.length)
    console.log(`certificates registered: ${stats.certificatesRegistered.join(', ')}`);
  console.log(
    `errors: ${
      errors
        ? Object.entries(stats.errors)
            .map(([c, n]) => `${c}:${n}`)
            .join(' ')
        : 'none'
    }`,
  );
  if (!settled) console.log(`NOT SETTLED: the traffic did not finish within ${TIMEOUT_MS / 1000}s`);
  if (opts.summaryJson)
    writeFileSync(
      opts.summaryJson,
      JSON.stringify(
        {
          settled,
          seconds: Number(secs),
          ...stats,
          agencies: agents.map(({ client: _c, key: _k, ...a }) => a),
          documents: [...sentDocs.values()]
            .filter((d) => d.docId)
            .map((d) => ({
              docId: d.docId,
              documentId: d.message.documentId,
              from: d.message.from.organId,
              to: [...d.plans.keys()],
              encrypted: d.encrypted,
              recall: d.recall,
            })),
          hub,
        },
        null,
        2,
      ),
    );
  return settled && errors === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    stopping = true;
    if (err instanceof SdkError && (err.code === 'HUB_UNREACHABLE' || err.code === 'TIMEOUT')) {
      console.error(
        `demo: ${err.code}: ${err.message}\n  hint: start the hub (npm start) or pass --hub <url>`,
      );
      process.exit(4);
    }
    console.error(`demo: ${err instanceof HubApiError ? `${err.code}: ` : ''}${(err as Error).message}`);
    process.exit(1);
  },
);
