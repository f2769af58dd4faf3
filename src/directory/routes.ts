/**
 * HTTP API of the directory, mounted under /v1 after the HMAC authentication:
 * - every agency system: GET /agencies, /agencies/changes, /agencies/{code};
 * - systems with the 'admin' right: /admin/agencies (register, update, close, import, export).
 */
import express, { type Response, type Router } from 'express';
import { callerOf, requireRight } from '../http/auth.ts';
import { on } from '../http/contract/route.ts';
import {
  agencyCertificates,
  agencyChanges,
  closeAgency,
  exportAgencies,
  getAgency,
  importAgencies,
  recoverImports,
  registerAgency,
  searchAgencies,
  updateAgency,
} from '../http/contract/directory.ts';
import { exportCsvHeader, exportCsvRow } from './csv.ts';
import type { DirectoryService } from './service.ts';
import { adminView, publicView } from './views.ts';

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

/** Where directoryRouter is mounted (src/http/server.ts). */
const V1 = '/v1';

export function directoryRouter(directory: DirectoryService): Router {
  const r = express.Router();

  // ---- every authenticated agency system ----
  on(r, V1, searchAgencies, async ({ query }, _req, res) => {
    const page = await directory.search(query);
    res.json({ items: page.items.map(publicView), ...(page.next ? { next: page.next } : {}) });
  });

  on(r, V1, agencyChanges, async ({ query }, _req, res) => {
    const feed = await directory.changes(query.since, query.limit);
    res.json({ ...feed, items: feed.items.map(publicView) });
  });

  on(r, V1, getAgency, async ({ params }, _req, res) => {
    const { agency, routing } = await directory.get(params.code);
    res.json({ ...publicView(agency), routing });
  });

  // The certificates in force (PEM), so that senders can encrypt for this agency (SDK, hubctl send --encrypt).
  on(r, V1, agencyCertificates, async ({ params }, _req, res) => {
    const { agency, routing } = await directory.get(params.code);
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

  on(r, V1, registerAgency, async ({ body }, req, res) => {
    const { parent, parentCode, ...rest } = body;
    const parentOf = parent ?? parentCode;
    const { agency, closed } = await directory.register(callerOf(req).systemId, {
      ...rest,
      ...(parentOf ? { parentCode: parentOf } : {}),
    });
    res.setHeader('Location', `/v1/agencies/${agency.code}`);
    res.status(201).json({ ...adminView(agency), closed: closed.map(adminView) });
  });

  on(r, V1, importAgencies, async ({ query }, req, res) => {
    const result = await directory.importCsv(
      callerOf(req).systemId,
      (req.rawBody ?? Buffer.alloc(0)).toString('utf8'),
      {
        dryRun: query.dryRun === true,
        ...(query.validFrom ? { validFrom: query.validFrom } : {}),
      },
    );
    res.status(result.dryRun ? 200 : 201);
    if (!result.dryRun && (query.format === 'csv' || req.accepts(['json', 'text/csv']) === 'text/csv')) {
      res.type('text/csv; charset=utf-8').send(result.resultCsv);
      return;
    }
    res.json(result);
  });

  on(r, V1, recoverImports, async (_in, req, res) => {
    res.json({ rolledBack: await directory.recoverInterruptedImports(callerOf(req).systemId) });
  });

  on(r, V1, exportAgencies, async ({ query }, _req, res) => {
    await streamExport(directory, query.format, res);
  });

  on(r, V1, updateAgency, async ({ params, body }, req, res) => {
    res.json(adminView(await directory.update(callerOf(req).systemId, params.code, body)));
  });

  on(r, V1, closeAgency, async ({ params, body }, req, res) => {
    res.json(adminView(await directory.close(callerOf(req).systemId, params.code, body)));
  });

  return r;
}
