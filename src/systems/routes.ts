/**
 * Admin API of agency-system credentials, mounted under /v1/admin after the HMAC authentication
 * (systems with the 'admin' right):
 *
 *   GET  /systems                 list (never the secrets)
 *   GET  /systems/{id}
 *   POST /systems                 {systemId, agencyCodes, rights?} → 201 with the secret, once
 *   POST /systems/{id}/rotate     → the new secret, once; the old one stops working
 *   POST /systems/{id}/disable    POST /systems/{id}/enable
 */
import express, { type Response, type Router } from 'express';
import { HubError } from '../domain/errors.ts';
import { jsonBody } from '../http/body.ts';
import { callerOf, requireRight } from '../http/auth.ts';
import type { SystemRecord, SystemsService } from './service.ts';

function stringList(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new HubError('VALIDATION_FAILED', `${name} must be a list of strings`);
  return v as string[];
}

function view(r: SystemRecord) {
  return {
    systemId: r.systemId,
    agencyCodes: r.agencyCodes,
    rights: r.rights,
    active: r.active,
    ...(r.createdAt ? { createdAt: r.createdAt } : {}),
    ...(r.rotatedAt ? { rotatedAt: r.rotatedAt } : {}),
    ...(r.disabledAt ? { disabledAt: r.disabledAt } : {}),
  };
}

/** A response carrying a secret must not be stored by any cache. */
function noStore(res: Response): Response {
  res.setHeader('Cache-Control', 'no-store');
  return res;
}

export function adminSystemsRouter(systems: SystemsService): Router {
  const r = express.Router();
  r.use('/systems', requireRight('admin'));

  r.get('/systems', async (_req, res) => {
    res.json({ items: (await systems.list()).map(view) });
  });

  r.get('/systems/:id', async (req, res) => {
    res.json(view(await systems.get(req.params.id)));
  });

  r.post('/systems', async (req, res) => {
    const body = jsonBody(req);
    const systemId = body.systemId;
    if (typeof systemId !== 'string') throw new HubError('VALIDATION_FAILED', 'systemId is required');
    const agencyCodes = stringList(body.agencyCodes, 'agencyCodes') ?? [];
    const rights = stringList(body.rights, 'rights');
    const issued = await systems.add(callerOf(req).systemId, {
      systemId,
      agencyCodes,
      ...(rights ? { rights } : {}),
    });
    noStore(res)
      .status(201)
      .json({ ...view(issued), secret: issued.secret });
  });

  r.post('/systems/:id/rotate', async (req, res) => {
    const issued = await systems.rotate(callerOf(req).systemId, req.params.id);
    noStore(res).json({ ...view(issued), secret: issued.secret });
  });

  r.post('/systems/:id/disable', async (req, res) => {
    const caller = callerOf(req);
    // An administrator cannot lock itself out through its own request.
    if (req.params.id === caller.systemId)
      throw new HubError('CONFLICT', 'a system cannot disable itself; use another admin system or hubctl');
    res.json(view(await systems.disable(caller.systemId, req.params.id)));
  });

  r.post('/systems/:id/enable', async (req, res) => {
    res.json(view(await systems.enable(callerOf(req).systemId, req.params.id)));
  });

  return r;
}
