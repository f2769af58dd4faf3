/**
 * The national-axis compatible API (docs/vdxp-protocol.md), mounted at /vdxp: an agency's existing
 * document-management system built on the axis's Java SDK switches to the hub by setting
 * `service.endpoint` to `https://<hub>/vdxp`. Every operation maps onto the hub's own use cases —
 * no second pipeline:
 *
 *   sendEdoc                 SubmissionService.submit (same checks, routing, storage and relay as POST /v1/documents)
 *   getReceivedEdocList      DocumentQueries.inbox (the pull inbox)
 *   getEdoc / downloadEdoc   DocumentQueries.download
 *   updateStatus             DocumentQueries.acknowledge (done | fail); processing is recorded only
 *   getSentEdocList          the caller's sent documents with each recipient's transport and business status
 *   countReceive*            waiting deliveries of the inbox
 *   getAgencies* / getSynchronizeUnit   the directory
 *   registerAgency / deleteAgency       DirectoryService.register / close ('admin' right); off unless
 *                                       vdxp.adminOperations allows the system and address (admin-gate.ts)
 *
 * Answers are always HTTP 200 with the envelope (envelope.ts), except downloadEdoc, whose errors
 * must have an empty body (§5.5). See docs/national-axis.md.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { inboxItem, isSender, systemParty } from '../access/policy.ts';
import { isLegacyCode, legacyToCurrent, normalizeCode, validateAgencyCode } from '../domain/codes.ts';
import { HubError, isHubError } from '../domain/errors.ts';
import type { CredentialStore } from '../domain/ports.ts';
import { withCredentials } from '../systems/credential-cache.ts';
import type { Agency, DocumentRecord, SystemCredential } from '../domain/types.ts';
import type { DocumentQueries } from '../documents/queries.ts';
import type { SubmissionService } from '../documents/submission.ts';
import type { DirectoryService } from '../directory/service.ts';
import type { Logger } from '../observability/logger.ts';
import type { MongoVdxpStore } from '../store/vdxp-store.ts';
import { authenticate, carriesNoSignature, type VdxpAuthResult } from './auth.ts';
import { AdminGate, type AdminOperationsSettings } from './admin-gate.ts';
import type { AuditLog } from '../domain/ports.ts';
import {
  failEnvelope,
  okEnvelope,
  sendEnvelope,
  streamListEnvelope,
  type EnvelopeObject,
} from './envelope.ts';
import { fileFromSendBody } from './hash-file.ts';
import { offeredTo } from '../federation/remote.ts';
import { readPayload } from '../domain/payload.ts';
import { sendPayload } from '../http/payload.ts';
import {
  agencyItem,
  agencyItemQd20,
  deliveryIdCandidates,
  levelOf,
  messageTypeOf,
  parseToHeader,
  receivedItem,
  refusedItem,
  sentItem,
  syncItem,
  vdxpErrorCode,
  vdxpErrorDesc,
} from './mapping.ts';

export type VdxpStore = Pick<
  MongoVdxpStore,
  | 'countAvailable'
  | 'delivery'
  | 'sentDocuments'
  | 'document'
  | 'deliveriesOf'
  | 'markProcessing'
  | 'processingMarks'
  | 'clearProcessing'
>;

export interface VdxpDeps {
  readonly log: Logger;
  readonly credentials: Pick<CredentialStore, 'find'>;
  readonly submissions: Pick<SubmissionService, 'submit'>;
  readonly queries: Pick<DocumentQueries, 'inbox' | 'download' | 'acknowledge'>;
  readonly directory: Pick<
    DirectoryService,
    'get' | 'search' | 'changes' | 'exportAll' | 'register' | 'close'
  >;
  readonly store: VdxpStore;
  readonly maxMessageBytes: number;
  readonly isStopping: () => boolean;
  /** registerAgency / deleteAgency: who may call them (off by default). */
  readonly adminOperations: AdminOperationsSettings;
  /** Refused administrative calls are recorded (`vdxp.admin.refused`). */
  readonly audit: Pick<AuditLog, 'append'>;
}

/** Received items per list call (oldest first); the DMS acknowledges them and lists again. */
export const RECEIVED_LIST_LIMIT = 500;
/** Sent documents per getSentEdocList call (newest first). */
export const SENT_LIST_LIMIT = 200;

/**
 * Operations whose SDK client is never closed (§2, quirk 12): each call would leave an idle
 * socket behind until the server's keep-alive timeout. Their answers close the connection.
 */
const LEAKY = new Set([
  'getreceivededoclist',
  'getsentedoclist',
  'getagencieslist',
  'getagencieslistqd20',
  'getsynchronizeunit',
  'downloadedoc',
]);

type Handler = (ctx: OpContext) => Promise<EnvelopeObject | void>;

interface OpContext {
  readonly req: Request;
  readonly res: Response;
  readonly body: Buffer;
  readonly auth: VdxpAuthResult;
}

function requireParam(v: string | undefined, name: string): string {
  if (v === undefined || v.trim() === '')
    throw new HubError('VALIDATION_FAILED', `the signed parameter ${name} is required`);
  return v.trim();
}

function requireAdmin(caller: SystemCredential): void {
  if (!caller.rights.includes('admin'))
    throw new HubError('FORBIDDEN', `the 'admin' right is required (system ${caller.systemId})`);
}

/** Tries the delivery ids a docId may stand for; the first one the caller may read wins. */
async function firstOwned<T>(
  raw: string,
  caller: SystemCredential,
  fn: (deliveryId: string) => Promise<T>,
): Promise<{ deliveryId: string; value: T }> {
  for (const id of deliveryIdCandidates(raw, caller.agencyCodes)) {
    try {
      return { deliveryId: id, value: await fn(id) };
    } catch (err) {
      if (!(isHubError(err) && err.code === 'NOT_FOUND')) throw err;
    }
  }
  throw new HubError('NOT_FOUND', `no received document ${raw} for system ${caller.systemId}`);
}

/** registerAgency's body (unsigned, verbatim from the caller; §5.12): parsed leniently. */
export interface RegisterAgencyBody {
  readonly pcode?: string;
  readonly code?: string;
  readonly name: string;
  readonly mail?: string;
  readonly mobile?: string;
  readonly fax?: string;
  readonly shortName?: string;
  readonly block?: string;
  readonly kind?: string;
}

export function parseRegisterAgencyBody(body: Buffer): RegisterAgencyBody {
  const text = body
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trim();
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HubError('VALIDATION_FAILED', 'the registerAgency body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new HubError('VALIDATION_FAILED', 'the registerAgency body must be a JSON object');
  const o = v as Record<string, unknown>;
  const s = (k: string): string | undefined => {
    const x = o[k];
    if (typeof x === 'number') return String(x);
    return typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined;
  };
  const name = s('name');
  if (!name) throw new HubError('VALIDATION_FAILED', 'the registerAgency body needs a name');
  const out: Record<string, string> = { name };
  for (const k of ['pcode', 'code', 'mail', 'mobile', 'fax', 'shortName', 'block', 'kind']) {
    const x = s(k);
    if (x !== undefined) out[k] = x;
  }
  return out as unknown as RegisterAgencyBody;
}

export function vdxpRouter(deps: VdxpDeps): Router {
  const { log, queries, directory, store } = deps;
  const r = express.Router();

  // sendEdoc: the file + CRLF; registerAgency: a JSON text; bounded. Read only once the signed
  // headers have been verified: an unauthenticated request never gets its body buffered (Node
  // discards the unread rest after the answer, so the client still reads the envelope).
  const rawBody = express.raw({ type: () => true, limit: deps.maxMessageBytes + 2 });
  const readBody = (req: Request, res: Response) =>
    new Promise<Buffer>((resolve, reject) => {
      rawBody(req, res, (err?: unknown) => {
        if (err) reject(err instanceof Error ? err : new Error('unreadable request body'));
        else resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      });
    });

  const ops = new Map<string, { name: string; methods: readonly string[]; run: Handler; admin: boolean }>();
  const op = (name: string, methods: readonly string[], run: Handler, o: { admin?: boolean } = {}) =>
    ops.set(name.toLowerCase(), { name, methods, run, admin: o.admin ?? false });
  const adminGate = new AdminGate(deps.adminOperations);

  // ---- documents -------------------------------------------------------------------------------

  op('sendEdoc', ['POST'], async ({ body, auth }) => {
    const file = fileFromSendBody(body, auth.params.get('hash-file'));
    const result = await deps.submissions.submit(auth.caller, file);
    // Recipients come from the signed edXML <To> only (the hub's rule: business data only from
    // signed bytes). `to` (JSON text, quirk 9; possibly left over from an earlier call, quirk 1)
    // is compared for the log, never used to route.
    const to = parseToHeader(auth.params.get('to')).map(normalizeCode);
    if (to.length) {
      const routed = new Set(result.recipients.flatMap((x) => [x.code, x.deliveredTo ?? x.code]));
      const unknown = to.filter((c) => !routed.has(c));
      if (unknown.length)
        log.info(
          { docId: result.docId, to: unknown },
          'vdxp sendEdoc: "to" names codes not in the edXML <To>',
        );
    }
    return okEnvelope({ DocId: result.docId });
  });

  op('getReceivedEdocList', ['POST', 'GET'], async ({ auth }) => {
    const type = messageTypeOf(auth.params.get('messagetype'));
    const items = await queries.inbox(auth.caller, {
      limit: RECEIVED_LIST_LIMIT,
      ...(type ? { type } : {}),
    });
    const marks = await store.processingMarks(items.map((d) => d.id));
    return okEnvelope({ data: items.map((d) => receivedItem(d, marks.get(d.id))) });
  });

  op('getSentEdocList', ['POST', 'GET'], async ({ auth }) => {
    const caller = auth.caller;
    const messageType = messageTypeOf(auth.params.get('messagetype')) ?? 'edoc';
    // docId narrows the list only when it names a message this system's agencies sent: headers
    // accumulate on an SDK object (quirk 1), and a docId left by getEdoc is a received one.
    const wanted = await sentDocumentNamed(auth.params.get('docId'), caller);
    const docs = wanted
      ? [wanted]
      : await store.sentDocuments({ senderCodes: caller.agencyCodes, messageType, limit: SENT_LIST_LIMIT });
    const lines = await Promise.all(
      docs.map(async (doc) => [
        ...(await store.deliveriesOf(doc)).map((d) => sentItem(doc, d)),
        ...doc.recipients.filter((x) => x.outcome === 'refused').map((x) => refusedItem(doc, x)),
      ]),
    );
    return okEnvelope({ data: lines.flat() });
  });

  async function sentDocumentNamed(
    raw: string | undefined,
    caller: SystemCredential,
  ): Promise<DocumentRecord | null> {
    const id = raw?.trim();
    if (!id) return null;
    const byId = /^[0-9a-f-]{36}$/i.test(id) ? await store.document(id.toLowerCase()) : null;
    if (byId && isSender(systemParty(caller), byId)) return byId;
    return null;
  }

  op('getEdoc', ['POST', 'GET'], async ({ auth }) => {
    const docId = requireParam(auth.params.get('docId'), 'docId');
    const { value } = await firstOwned(docId, auth.caller, (id) => queries.download(auth.caller, id));
    // Base64 of the exact bytes (§5.4); the SDK decodes them as UTF-8, which edXML is.
    return okEnvelope({ data: (await readPayload(value.payload)).toString('base64') });
  });

  op('downloadEdoc', ['GET', 'POST'], async ({ res, auth }) => {
    const docId = requireParam(auth.params.get('docId'), 'docId');
    const { value } = await firstOwned(docId, auth.caller, (id) => queries.download(auth.caller, id));
    res.status(200);
    await sendPayload(res, value.payload, value.document.size);
  });

  op('updateStatus', ['POST'], async ({ auth }) => {
    // Changes read every spelling of a key and refuse disagreeing ones (quirk 10 with quirk 1).
    const docId = requireParam(auth.params.getStrict('docId'), 'docId');
    const status = requireParam(auth.params.getStrict('status'), 'status').toLowerCase();
    const caller = auth.caller;
    if (status === 'done' || status === 'fail') {
      const reason =
        status === 'fail'
          ? auth.params.get('description')?.trim() ||
            auth.params.get('reason')?.trim() ||
            'reported as fail through the national-axis API (updateStatus)'
          : undefined;
      const { deliveryId } = await firstOwned(docId, caller, (id) =>
        queries.acknowledge(caller, id, status, reason),
      );
      await store.clearProcessing(deliveryId).catch(() => undefined);
      return okEnvelope();
    }
    if (status === 'processing') {
      // Recorded, not a state change: the item stays in the received list (shown as processing)
      // until done or fail, so a DMS that crashes mid-way still finds it.
      const { deliveryId, value: d } = await firstOwned(docId, caller, async (id) =>
        inboxItem(systemParty(caller), id, await store.delivery(id)),
      );
      if (d.transport === 'available' || d.transport === 'pushed')
        await store.markProcessing(deliveryId, new Date());
      return okEnvelope();
    }
    throw new HubError(
      'VALIDATION_FAILED',
      `status must be done, fail or processing, not ${JSON.stringify(status)}`,
    );
  });

  const count =
    (type: 'edoc' | 'status'): Handler =>
    async ({ auth }) =>
      okEnvelope({ count: await store.countAvailable(auth.caller.agencyCodes, type) });
  op('countReceiveEdoc', ['POST', 'GET'], count('edoc'));
  op('countReceiveStatus', ['POST', 'GET'], count('status'));

  // ---- directory -------------------------------------------------------------------------------

  async function* activeAgencies(filter: (a: Agency) => boolean = () => true) {
    for await (const a of directory.exportAll()) if (a.status === 'active' && filter(a)) yield a;
  }

  op('getAgenciesList', ['POST', 'GET'], async ({ res, auth }) => {
    // Federation: a peer is offered this hub's own units only (src/federation/remote.ts).
    await streamListEnvelope(res, map(activeAgencies(offeredTo(auth.caller)), agencyItem));
  });

  op('getAgenciesListQD20', ['POST', 'GET'], async ({ res, auth }) => {
    // `level` is the hierarchy level of the code (1 = ministries, provinces and other level-1
    // bodies, 2 = their units, ...); absent or empty: every level.
    const raw = auth.params.get('level')?.trim();
    if (raw && !/^\d{1,2}$/.test(raw))
      throw new HubError('VALIDATION_FAILED', 'level must be a hierarchy level: 1, 2, 3 or 4');
    const level = raw ? Number(raw) : undefined;
    await streamListEnvelope(
      res,
      map(
        activeAgencies((a) => level === undefined || levelOf(a.code) === level),
        agencyItemQd20,
      ),
    );
  });

  op('getSynchronizeUnit', ['POST', 'GET'], async ({ res, auth }) => {
    // Every unit with its change version, closed ones as deleted. A hub extension: a signed
    // `fromVersion` returns only the units changed after that version (the directory's change feed).
    // A federation peer is offered this hub's own units only, as by getAgenciesList (src/federation/remote.ts).
    const raw = auth.params.get('fromVersion')?.trim();
    if (raw && !/^\d+$/.test(raw))
      throw new HubError('VALIDATION_FAILED', 'fromVersion must be a version number');
    const units = raw ? changesSince(Number(raw)) : directory.exportAll();
    await streamListEnvelope(res, map(filter(units, offeredTo(auth.caller)), syncItem));
  });

  async function* changesSince(since: number): AsyncIterable<Agency> {
    let from = since;
    for (;;) {
      const page = await directory.changes(from, 500);
      yield* page.items;
      if (!page.more || page.next <= from) return;
      from = page.next;
    }
  }

  op(
    'registerAgency',
    ['POST'],
    async ({ body, auth }) => {
      requireAdmin(auth.caller);
      const agency = await registerAgency(parseRegisterAgencyBody(body), auth.systemId);
      return okEnvelope({ AgencyCode: agency.code });
    },
    { admin: true },
  );

  /**
   * Idempotent (the SDK retries POSTs, §2): a unit with the same code — or, without a code, the
   * same name under the same parent — that exists already is answered as registered.
   */
  async function registerAgency(b: RegisterAgencyBody, actor: string): Promise<Agency> {
    let code: string | undefined;
    let legacyCode: string | undefined;
    if (b.code) {
      const c = normalizeCode(b.code);
      if (isLegacyCode(c)) {
        legacyCode = c;
        code = legacyToCurrent(c) ?? undefined;
        if (!code) throw new HubError('AGENCY_CODE_INVALID', `"${c}" is not a valid QCVN 102 code`);
      } else code = c;
    }
    const parentRaw = b.pcode && b.pcode !== '0' ? normalizeCode(b.pcode) : undefined;
    const parent = parentRaw ? await agencyOrNull(parentRaw) : null;
    if (parentRaw && !parent)
      throw new HubError('VALIDATION_FAILED', `parent ${parentRaw} is not in the directory`);
    const parentCode = parent?.code ?? (code ? parentFromCode(code) : undefined);
    if (code) {
      const existing = await agencyOrNull(code);
      if (existing) {
        if (
          existing.status === 'active' &&
          existing.name === b.name &&
          (!parent || existing.parentCode === parent.code)
        )
          return existing;
        throw new HubError(
          'CONFLICT',
          `code ${code} is already issued (to ${existing.name}; codes are never reused)`,
        );
      }
    } else {
      if (!parent)
        throw new HubError('VALIDATION_FAILED', 'pcode (the parent unit) is required to assign a code');
      const page = await directory.search({ parent: parent.code, q: b.name, limit: 100 });
      const same = page.items.find(
        (a) => a.status === 'active' && a.name === b.name && a.parentCode === parent.code,
      );
      if (same) return same;
    }
    const parentAgency = parent ?? (parentCode ? await agencyOrNull(parentCode) : null);
    const block = (b.block ?? parentAgency?.block ?? 'state') as Agency['block'];
    const contact: Agency['contact'] = {
      ...(b.mail ? { email: b.mail } : {}),
      ...(b.mobile ? { phone: b.mobile } : {}),
      ...(b.fax ? { fax: b.fax } : {}),
    };
    const { agency } = await directory.register(actor, {
      name: b.name,
      block,
      kind: b.kind ?? 'unit',
      ...(b.shortName ? { shortName: b.shortName } : {}),
      ...(parentAgency ? { parentCode: parentAgency.code } : {}),
      ...(code ? { code } : {}),
      ...(legacyCode ? { legacyCode } : {}),
      contact,
    });
    return agency;
  }

  async function agencyOrNull(code: string): Promise<Agency | null> {
    try {
      return (await directory.get(code)).agency;
    } catch (err) {
      if (isHubError(err) && (err.code === 'NOT_FOUND' || err.code === 'AGENCY_CODE_INVALID')) return null;
      throw err;
    }
  }

  op(
    'deleteAgency',
    ['POST'],
    async ({ auth }) => {
      requireAdmin(auth.caller);
      const code = normalizeCode(requireParam(auth.params.getStrict('AgencyCode'), 'AgencyCode'));
      // Agencies are never deleted: the unit is closed (idempotently) and its code stays reserved.
      const agency = await agencyOrNull(code);
      if (!agency) throw new HubError('NOT_FOUND', `no agency with code ${code}`);
      await directory.close(auth.systemId, agency.code, { reason: 'deleteAgency (national-axis API)' });
      return okEnvelope({ AgencyCode: agency.code });
    },
    { admin: true },
  );

  async function checkAdmin(opName: string, auth: VdxpAuthResult, address: string | undefined) {
    try {
      adminGate.check(auth.systemId, address);
    } catch (err) {
      if (isHubError(err))
        await deps.audit.append({
          actor: auth.systemId,
          action: 'vdxp.admin.refused',
          subject: opName,
          data: { code: err.code, address: address ?? '' },
        });
      throw err;
    }
  }

  // ---- dispatch --------------------------------------------------------------------------------

  r.all('/:op', async (req: Request, res: Response) => {
    const opName = String(req.params.op);
    const name = opName.toLowerCase();
    const entry = ops.get(name);
    res.locals.vdxpOp = name;
    if (LEAKY.has(name)) res.setHeader('Connection', 'close');
    if (!entry) throw new HubError('NOT_FOUND', `no operation ${opName}`);
    if (!entry.methods.includes(req.method))
      throw new HubError('VALIDATION_FAILED', `${opName} is called with ${entry.methods.join(' or ')}`);
    if (deps.isStopping()) throw new HubError('UNAVAILABLE', 'the hub is shutting down');
    // downloadEdoc2 sends no XroadVnpt header at all (§5.6): unsupported, answered 401 with no body.
    if (name === 'downloadedoc' && carriesNoSignature(req.rawHeaders))
      throw new HubError('UNAUTHENTICATED', 'downloadEdoc2 sends no signature and is not supported');
    const auth = await withCredentials(deps.credentials, (lookup) => authenticate(req.rawHeaders, lookup));
    req.caller = auth.caller; // the access log names the authenticated system
    // Administrative operations: checked before the (unsigned) body is even read; a refusal changes
    // nothing and is audited (the request may be a replay of captured headers, issue 18 §5).
    if (entry.admin) await checkAdmin(entry.name, auth, req.ip);
    const body = await readBody(req, res);
    const answer = await entry.run({ req, res, body, auth });
    if (answer) sendEnvelope(res, answer);
  });

  r.use((req: Request, res: Response) => {
    // /vdxp itself, or a deeper path: not an operation.
    res.locals.vdxpOp ??= '';
    sendEnvelope(
      res,
      failEnvelope('404', vdxpErrorDesc(new HubError('NOT_FOUND', `no operation at ${req.path}`))),
    );
  });

  r.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const op = String(res.locals.vdxpOp ?? req.path.slice(1).toLowerCase());
    let e: HubError;
    if (isHubError(err)) e = err;
    else if ((err as { type?: string }).type === 'entity.too.large')
      e = new HubError('PAYLOAD_TOO_LARGE', `limit is ${deps.maxMessageBytes} bytes of edXML`);
    else if ((err as { type?: string }).type === 'request.aborted') return;
    else {
      log.error({ err, op }, 'vdxp request failed');
      e = new HubError('INTERNAL');
    }
    if (e.code !== 'INTERNAL') log.info({ op, code: e.code, reason: e.message }, 'vdxp request refused');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (op === 'downloadedoc') {
      // Any non-empty body would be saved as the document and reported SUCCESS (§5.5, quirk 7).
      res.status(e.status).setHeader('Content-Length', '0');
      res.end();
      return;
    }
    const extra: EnvelopeObject = op === 'sendedoc' ? { DocId: '' } : {}; // §5.1: DocId even on FAIL
    sendEnvelope(res, failEnvelope(vdxpErrorCode(e), vdxpErrorDesc(e), extra));
  });

  return r;
}

async function* map<T>(items: AsyncIterable<T>, fn: (x: T) => EnvelopeObject): AsyncIterable<EnvelopeObject> {
  for await (const x of items) yield fn(x);
}

async function* filter<T>(items: AsyncIterable<T>, keep: (x: T) => boolean): AsyncIterable<T> {
  for await (const x of items) if (keep(x)) yield x;
}

/** The parent a code names itself (H29.001 → H29), for registerAgency bodies without pcode. */
function parentFromCode(code: string): string | undefined {
  const v = validateAgencyCode(code);
  return v.ok ? (v.parsed.parent ?? undefined) : undefined;
}
