/** Admin API (systems with the 'admin' right): agency certificates and dead letters. */
import express, { type Router } from 'express';
import type { CertificateService } from '../certs/service.ts';
import type { DeadLetterService } from '../delivery/dead-letters.ts';
import { HubError } from '../domain/errors.ts';
import { callerOf, requireRight } from './auth.ts';
import { on } from './contract/route.ts';
import {
  getDeadLetter,
  listCertificates,
  listDeadLetters,
  registerCertificate,
  replayDeadLetter,
  unregisterCertificate,
} from './contract/admin.ts';

/** Where both routers are mounted (src/http/server.ts). */
const ADMIN = '/v1/admin';

export function adminCertificatesRouter(certs: CertificateService): Router {
  const r = express.Router();
  r.use(requireRight('admin'));
  on(r, ADMIN, listCertificates, async ({ query }, _req, res) => {
    res.json({ items: await certs.list(query.agency) });
  });
  // Body: the certificate PEM (application/x-pem-file or text/plain). `?forceSubject=<reason>`
  // registers a certificate whose subject names another agency (audited with the reason).
  on(r, ADMIN, registerCertificate, async ({ params, query }, req, res) => {
    const pem = req.rawBody?.toString('utf8') ?? '';
    if (!pem.includes('BEGIN CERTIFICATE'))
      throw new HubError('VALIDATION_FAILED', 'send the certificate as PEM');
    res
      .status(201)
      .json(
        await certs.register(
          callerOf(req).systemId,
          params.code,
          pem,
          query.forceSubject !== undefined ? { overrideSubject: { reason: query.forceSubject } } : {},
        ),
      );
  });
  on(r, ADMIN, unregisterCertificate, async ({ params }, req, res) => {
    await certs.unregister(callerOf(req).systemId, params.code, params.fingerprint);
    res.status(204).end();
  });
  return r;
}

export function adminDeadLettersRouter(dl: DeadLetterService): Router {
  const r = express.Router();
  r.use('/deadletters', requireRight('admin'));
  on(r, ADMIN, listDeadLetters, async ({ query }, _req, res) => {
    res.json({ items: await dl.list({ includeReplayed: query.all === true }) });
  });
  on(r, ADMIN, getDeadLetter, async ({ params }, _req, res) => {
    res.json(await dl.show(params.id));
  });
  on(r, ADMIN, replayDeadLetter, async ({ params }, req, res) => {
    res.json(await dl.replay(callerOf(req).systemId, params.id));
  });
  return r;
}
