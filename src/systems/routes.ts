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
import { callerOf, requireRight } from '../http/auth.ts';
import { on } from '../http/contract/route.ts';
import {
  addSystem,
  disableSystem,
  enableSystem,
  getSystem,
  listSystems,
  rotateSystem,
} from '../http/contract/admin.ts';
import type { SystemRecord, SystemsService } from './service.ts';

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

/** Where adminSystemsRouter is mounted (src/http/server.ts). */
const ADMIN = '/v1/admin';

export function adminSystemsRouter(systems: SystemsService): Router {
  const r = express.Router();
  r.use('/systems', requireRight('admin'));

  on(r, ADMIN, listSystems, async (_in, _req, res) => {
    res.json({ items: (await systems.list()).map(view) });
  });

  on(r, ADMIN, getSystem, async ({ params }, _req, res) => {
    res.json(view(await systems.get(params.id)));
  });

  on(r, ADMIN, addSystem, async ({ body }, req, res) => {
    const issued = await systems.add(callerOf(req).systemId, body);
    noStore(res)
      .status(201)
      .json({ ...view(issued), secret: issued.secret });
  });

  on(r, ADMIN, rotateSystem, async ({ params }, req, res) => {
    const issued = await systems.rotate(callerOf(req).systemId, params.id);
    noStore(res).json({ ...view(issued), secret: issued.secret });
  });

  on(r, ADMIN, disableSystem, async ({ params }, req, res) => {
    const caller = callerOf(req);
    // An administrator cannot lock itself out through its own request.
    if (params.id === caller.systemId)
      throw new HubError('CONFLICT', 'a system cannot disable itself; use another admin system or hubctl');
    res.json(view(await systems.disable(caller.systemId, params.id)));
  });

  on(r, ADMIN, enableSystem, async ({ params }, req, res) => {
    res.json(view(await systems.enable(callerOf(req).systemId, params.id)));
  });

  return r;
}
