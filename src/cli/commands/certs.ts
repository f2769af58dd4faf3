/** hubctl certs register|unregister|list|expiring — agency certificates in the directory. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CertificateService } from '../../certs/service.ts';
import { findExpiringCertificates } from '../../ops/cert-expiry.ts';
import { EXIT, openContext, type CliContext } from '../context.ts';

async function withService<T>(
  db: string | undefined,
  fn: (svc: CertificateService, ctx: CliContext) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    // The CRLs a new certificate's chain needs are fetched first (issue 23).
    return await fn(await ctx.services.certificates(), ctx);
  } finally {
    await ctx.close();
  }
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const certs = program.command('certs').description('agency certificates registered in the directory');
  certs
    .command('register <agency> <certPem>')
    .description(
      'register a certificate (PEM file) to an agency after validating it against the trust anchors',
    )
    .option('--db <name>', 'database name')
    .option(
      '--force-subject <reason>',
      'register even though the subject names another agency (the reason is audited)',
    )
    .action(async (agency: string, file: string, o: { db?: string; forceSubject?: string }) => {
      const r = await withService(o.db, async (svc, ctx) =>
        svc.register(
          await ctx.actor(),
          agency,
          readFileSync(file, 'utf8'),
          o.forceSubject !== undefined ? { overrideSubject: { reason: o.forceSubject } } : {},
        ),
      );
      console.log(
        json()
          ? JSON.stringify(r)
          : `registered to ${r.agency}: ${r.subject}\n  SHA-256 ${r.fingerprintSha256}\n  valid until ${r.notAfter?.toISOString()}`,
      );
    });
  certs
    .command('unregister <agency> <fingerprint>')
    .description('stop accepting signatures made with this certificate (the record is kept)')
    .option('--db <name>', 'database name')
    .action(async (agency: string, fp: string, o: { db?: string }) => {
      await withService(o.db, async (svc, ctx) =>
        svc.unregister(await ctx.actor(), agency, fp.toLowerCase()),
      );
      console.log(json() ? JSON.stringify({ ok: true }) : `unregistered ${fp} from ${agency}`);
    });
  certs
    .command('list [agency]')
    .description('registered certificates')
    .option('--db <name>', 'database name')
    .action(async (agency: string | undefined, o: { db?: string }) => {
      const rows = await withService(o.db, (svc) => svc.list(agency));
      if (json()) console.log(JSON.stringify(rows));
      else
        for (const r of rows)
          console.log(
            `${r.agency.padEnd(16)} ${r.fingerprintSha256.slice(0, 16)}…  until ${r.notAfter?.toISOString().slice(0, 10) ?? '?'}${r.revokedAt ? '  (unregistered)' : ''}  ${r.subject ?? ''}`,
          );
    });
  certs
    .command('expiring')
    .description('certificates expiring within --days (default 30); exit code 1 when there are any')
    .option('--days <n>', 'window in days', '30')
    .option('--db <name>', 'database name')
    .action(async (o: { days: string; db?: string }) => {
      const ctx = await openContext(o.db ? { dbName: o.db } : {});
      try {
        const rows = await findExpiringCertificates(ctx.stores.certificates, Number(o.days));
        if (json()) console.log(JSON.stringify(rows));
        else
          for (const r of rows)
            console.log(
              `${r.agency.padEnd(16)} ${r.fingerprintSha256.slice(0, 16)}…  expires ${r.notAfter.toISOString()}`,
            );
        process.exitCode = rows.length ? EXIT.FAILURE : EXIT.OK;
      } finally {
        await ctx.close();
      }
    });
}
