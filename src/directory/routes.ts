/**
 * HTTP API of the directory, mounted under /v1 after the HMAC authentication:
 * - every agency system: GET /agencies, /agencies/changes, /agencies/{code};
 * - systems with the 'admin' right: /admin/agencies (register, update, close, import, export).
 */
import express, { type Response, type Router } from 'express';
import { parseCalendarDate } from '../domain/calendar.ts';
import { HubError } from '../domain/errors.ts';
import { jsonBody, str } from '../http/body.ts';
import type { Agency, Block } from '../domain/types.ts';
import { callerOf, requireRight } from '../http/auth.ts';
import { exportCsvHeader, exportCsvRow } from './csv.ts';
import type { DirectoryService, PredecessorCorrection, RegisterInput, UpdateInput } from './service.ts';
import { adminView, publicView } from './views.ts';

function int(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n))
    throw new HubError('VALIDATION_FAILED', `${name} must be a non-negative integer`);
  return n;
}

function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HubError('VALIDATION_FAILED', `${key} must be a string`);
  return v;
}

/** A calendar date (no time zone shift): YYYY-MM-DD, or an ISO date-time with its offset. */
function optDate(body: Record<string, unknown>, key: string): Date | undefined {
  const v = optString(body, key);
  if (v === undefined) return undefined;
  const d = parseCalendarDate(v);
  if (!d)
    throw new HubError(
      'VALIDATION_FAILED',
      `${key} must be a date (YYYY-MM-DD, or an ISO 8601 date-time with its offset)`,
    );
  return d;
}

function optCodes(body: Record<string, unknown>, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((c) => typeof c !== 'string'))
    throw new HubError('VALIDATION_FAILED', `${key} must be an array of codes`);
  return v as string[];
}

function optObject<T>(body: Record<string, unknown>, key: string): T | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new HubError('VALIDATION_FAILED', `${key} must be an object`);
  return v as T;
}

/** `{mode, reason}`: the explicit correction of a closed unit's successors (docs/directory.md §4). */
function optCorrection(body: Record<string, unknown>, key: string): PredecessorCorrection | undefined {
  const c = optObject<Record<string, unknown>>(body, key);
  if (!c) return undefined;
  return {
    mode: optString(c, 'mode') as PredecessorCorrection['mode'],
    reason: optString(c, 'reason') ?? '',
  };
}

function registerInput(body: Record<string, unknown>): RegisterInput {
  const name = optString(body, 'name');
  const block = optString(body, 'block');
  const kind = optString(body, 'kind');
  if (!name || !block || !kind) throw new HubError('VALIDATION_FAILED', 'name, block and kind are required');
  const parentCode = optString(body, 'parent') ?? optString(body, 'parentCode');
  const province = optString(body, 'province');
  const shortName = optString(body, 'shortName');
  const code = optString(body, 'code');
  const legacyCode = optString(body, 'legacyCode');
  const predecessors = optCodes(body, 'predecessors');
  const validFrom = optDate(body, 'validFrom');
  const contact = optObject<Agency['contact']>(body, 'contact');
  const delivery = optObject<Agency['delivery']>(body, 'delivery');
  const distinctFrom = optCodes(body, 'distinctFrom');
  const correction = optCorrection(body, 'predecessorCorrection');
  return {
    name,
    block: block as Block,
    kind,
    ...(parentCode ? { parentCode } : {}),
    ...(province ? { province } : {}),
    ...(shortName ? { shortName } : {}),
    ...(code ? { code } : {}),
    ...(legacyCode ? { legacyCode } : {}),
    ...(predecessors ? { predecessors } : {}),
    ...(validFrom ? { validFrom } : {}),
    ...(contact ? { contact } : {}),
    ...(delivery ? { delivery } : {}),
    ...(distinctFrom ? { distinctFrom } : {}),
    ...(correction ? { predecessorCorrection: correction } : {}),
  };
}

async function write(res: Response, chunk: string): Promise<void> {
  if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
}

export async function streamExport(
  directory: DirectoryService,
  format: 'csv' | 'json',
  res: Response,
): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  if (format === 'csv') {
    res.type('text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="directory-${stamp}.csv"`);
    await write(res, '\uFEFF' + exportCsvHeader()); // BOM: spreadsheet programs then read UTF-8
    for await (const a of directory.exportAll()) await write(res, exportCsvRow(a));
  } else {
    res.type('application/json; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="directory-${stamp}.json"`);
    await write(res, `{"exportedAt":${JSON.stringify(new Date())},"items":[`);
    let first = true;
    for await (const a of directory.exportAll()) {
      await write(res, (first ? '\n' : ',\n') + JSON.stringify(adminView(a)));
      first = false;
    }
    await write(res, '\n]}\n');
  }
  res.end();
}

export function directoryRouter(directory: DirectoryService): Router {
  const r = express.Router();

  // ---- every authenticated agency system ----
  r.get('/agencies', async (req, res) => {
    const limit = int(req.query.limit, 'limit');
    const page = await directory.search({
      ...(str(req.query.q) ? { q: str(req.query.q) } : {}),
      ...(str(req.query.code) ? { code: str(req.query.code) } : {}),
      ...(str(req.query.block) ? { block: str(req.query.block) } : {}),
      ...(str(req.query.province) ? { province: str(req.query.province) } : {}),
      ...(str(req.query.status) ? { status: str(req.query.status) } : {}),
      ...(str(req.query.parent) ? { parent: str(req.query.parent) } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(str(req.query.cursor) ? { cursor: str(req.query.cursor) } : {}),
    });
    res.json({ items: page.items.map(publicView), ...(page.next ? { next: page.next } : {}) });
  });

  r.get('/agencies/changes', async (req, res) => {
    const since = int(req.query.since ?? '0', 'since')!;
    const limit = int(req.query.limit, 'limit');
    const feed = await directory.changes(since, limit);
    res.json({ ...feed, items: feed.items.map(publicView) });
  });

  r.get('/agencies/:code', async (req, res) => {
    const { agency, routing } = await directory.get(req.params.code);
    res.json({ ...publicView(agency), routing });
  });

  // The certificates in force (PEM), so that senders can encrypt for this agency (SDK, hubctl send --encrypt).
  r.get('/agencies/:code/certificates', async (req, res) => {
    const { agency, routing } = await directory.get(req.params.code);
    const now = Date.now();
    res.json({
      code: agency.code,
      status: agency.status,
      routing,
      certificates: agency.certificates
        .filter((c) => c.pem && !c.revokedAt && (!c.notAfter || c.notAfter.getTime() > now))
        .map((c) => ({
          fingerprintSha256: c.fingerprintSha256,
          ...(c.subject ? { subject: c.subject } : {}),
          ...(c.notAfter ? { notAfter: c.notAfter } : {}),
          pem: c.pem,
        })),
    });
  });

  // ---- administrators ----
  r.use('/admin/agencies', requireRight('admin'));

  r.post('/admin/agencies', async (req, res) => {
    const { agency, closed } = await directory.register(callerOf(req).systemId, registerInput(jsonBody(req)));
    res.setHeader('Location', `/v1/agencies/${agency.code}`);
    res.status(201).json({ ...adminView(agency), closed: closed.map(adminView) });
  });

  r.post('/admin/agencies/import', async (req, res) => {
    const validFrom = optDate({ validFrom: str(req.query.validFrom) }, 'validFrom');
    const result = await directory.importCsv(
      callerOf(req).systemId,
      (req.rawBody ?? Buffer.alloc(0)).toString('utf8'),
      {
        dryRun: req.query.dryRun === 'true',
        ...(validFrom ? { validFrom } : {}),
      },
    );
    res.status(result.dryRun ? 200 : 201);
    if (!result.dryRun && (req.query.format === 'csv' || req.accepts(['json', 'text/csv']) === 'text/csv')) {
      res.type('text/csv; charset=utf-8').send(result.resultCsv);
      return;
    }
    res.json(result);
  });

  r.post('/admin/agencies/imports/recover', async (req, res) => {
    res.json({ rolledBack: await directory.recoverInterruptedImports(callerOf(req).systemId) });
  });

  r.get('/admin/agencies/export', async (req, res) => {
    const format = str(req.query.format) ?? 'json';
    if (format !== 'csv' && format !== 'json')
      throw new HubError('VALIDATION_FAILED', 'format must be csv or json');
    await streamExport(directory, format, res);
  });

  r.patch('/admin/agencies/:code', async (req, res) => {
    const body = jsonBody(req);
    const input: UpdateInput = {
      ...(body.name !== undefined ? { name: optString(body, 'name')! } : {}),
      ...('shortName' in body ? { shortName: optString(body, 'shortName') ?? null } : {}),
      ...(body.kind !== undefined ? { kind: optString(body, 'kind')! } : {}),
      ...(body.contact !== undefined ? { contact: optObject<Agency['contact']>(body, 'contact')! } : {}),
      ...(body.delivery !== undefined ? { delivery: optObject<Agency['delivery']>(body, 'delivery')! } : {}),
    };
    for (const k of Object.keys(body))
      if (!['name', 'shortName', 'kind', 'contact', 'delivery'].includes(k))
        throw new HubError(
          'VALIDATION_FAILED',
          `${k} cannot be changed (codes, block and parent are permanent)`,
        );
    res.json(adminView(await directory.update(callerOf(req).systemId, req.params.code, input)));
  });

  r.post('/admin/agencies/:code/close', async (req, res) => {
    const body = jsonBody(req);
    const successors = optCodes(body, 'successors');
    const at = optDate(body, 'at');
    const reason = optString(body, 'reason');
    const correction = optCorrection(body, 'correction');
    const agency = await directory.close(callerOf(req).systemId, req.params.code, {
      ...(successors ? { successors } : {}),
      ...(at ? { at } : {}),
      ...(reason ? { reason } : {}),
      ...(correction ? { correction } : {}),
    });
    res.json(adminView(agency));
  });

  return r;
}
