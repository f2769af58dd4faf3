/** Admin API (systems with the 'admin' right): agency certificates and dead letters. */
import express, { type Router } from 'express';
import type { CertificateService } from '../certs/service.ts';
import type { DeadLetterService } from '../delivery/dead-letters.ts';
import { HubError } from '../domain/errors.ts';
import { callerOf, requireRight } from './auth.ts';

export function adminCertificatesRouter(certs: CertificateService): Router {
  const r = express.Router();
  r.use(requireRight('admin'));
  r.get('/certificates', async (req, res) => {
    res.json({
      items: await certs.list(typeof req.query.agency === 'string' ? req.query.agency : undefined),
    });
  });
  // Body: the certificate PEM (application/x-pem-file or text/plain). `?forceSubject=<reason>`
  // registers a certificate whose subject names another agency (audited with the reason).
  r.post('/agencies/:code/certificates', async (req, res) => {
    const pem = req.rawBody?.toString('utf8') ?? '';
    if (!pem.includes('BEGIN CERTIFICATE'))
      throw new HubError('VALIDATION_FAILED', 'send the certificate as PEM');
    const force = req.query.forceSubject;
    if (force !== undefined && typeof force !== 'string')
      throw new HubError('VALIDATION_FAILED', 'forceSubject: one reason');
    res
      .status(201)
      .json(
        await certs.register(
          callerOf(req).systemId,
          req.params.code,
          pem,
          force !== undefined ? { overrideSubject: { reason: force } } : {},
        ),
      );
  });
  r.delete('/agencies/:code/certificates/:fingerprint', async (req, res) => {
    await certs.unregister(callerOf(req).systemId, req.params.code, req.params.fingerprint.toLowerCase());
    res.status(204).end();
  });
  return r;
}

export function adminDeadLettersRouter(dl: DeadLetterService): Router {
  const r = express.Router();
  r.use('/deadletters', requireRight('admin'));
  r.get('/deadletters', async (req, res) => {
    res.json({ items: await dl.list({ includeReplayed: req.query.all === 'true' }) });
  });
  r.get('/deadletters/:id', async (req, res) => {
    res.json(await dl.show(req.params.id));
  });
  r.post('/deadletters/:id/replay', async (req, res) => {
    res.json(await dl.replay(callerOf(req).systemId, req.params.id));
  });
  return r;
}
