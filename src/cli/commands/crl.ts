/**
 * hubctl crl refresh|status — the revocation data the hub holds (issue 23).
 *
 *   refresh  fetches every CRL now (the distribution points of the trusted CAs and of the registered
 *            certificates, and pki.crlUrls), stores the newer ones (the running hub reloads them within
 *            15 s), then prints each CRL source; exit 1 when a fetch failed or a CRL is missing or stale.
 *   status   the same report without fetching; exit 1 when a CRL is missing or stale.
 *
 * A source is a trusted CA's CRL (`crl:<issuer DN>`, as in /readyz and the metrics): its thisUpdate,
 * nextUpdate and age, fresh or stale and why, and the URLs it came from with the fetch results.
 */
import type { Command } from 'commander';
import type { CrlFetchResult } from '../../crypto/revocation.ts';
import type { RevocationMode, RevocationSource } from '../../crypto/trust.ts';
import { fmtDateTime, fmtDuration } from '../../web/format.ts';
import { EXIT, openContext } from '../context.ts';

export interface CrlReportRow {
  readonly source: string;
  readonly thisUpdate?: string;
  readonly nextUpdate?: string;
  readonly ageSeconds: number | null;
  readonly stale: boolean;
  readonly reason?: string;
  /** Where the stored CRL was fetched from, and when. */
  readonly storedFrom?: { readonly url?: string; readonly fetchedAt: string };
  /** This run's fetches of URLs that served this issuer's CRL. */
  readonly fetches: readonly CrlFetchResult[];
}

export interface CrlReport {
  readonly ok: boolean;
  readonly mode: RevocationMode;
  readonly sources: readonly CrlReportRow[];
  /** Fetches whose issuer is unknown (the URL never served a CRL). */
  readonly unattributed: readonly CrlFetchResult[];
}

/** Pure: the report of the CRL sources, what is stored, and this run's fetches. */
export function crlReport(
  sources: readonly RevocationSource[],
  stored: readonly { issuer: string; url?: string; fetchedAt: Date }[],
  fetches: readonly CrlFetchResult[],
  mode: RevocationMode,
): CrlReport {
  const rows = sources
    .filter((s) => s.kind === 'crl')
    .map((s): CrlReportRow => {
      const issuer = s.source.slice('crl:'.length);
      const st = stored.find((x) => x.issuer === issuer);
      return {
        source: s.source,
        ...(s.thisUpdate ? { thisUpdate: s.thisUpdate.toISOString() } : {}),
        ...(s.nextUpdate ? { nextUpdate: s.nextUpdate.toISOString() } : {}),
        ageSeconds: s.ageSeconds,
        stale: s.stale,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(st
          ? { storedFrom: { ...(st.url ? { url: st.url } : {}), fetchedAt: st.fetchedAt.toISOString() } }
          : {}),
        fetches: fetches.filter((f) => f.issuer === issuer),
      };
    });
  const known = new Set(rows.map((r) => r.source.slice('crl:'.length)));
  const unattributed = fetches.filter((f) => !f.issuer || !known.has(f.issuer));
  const ok = fetches.every((f) => f.ok) && (mode === 'off' || rows.every((r) => !r.stale));
  return { ok, mode, sources: rows, unattributed };
}

const when = (iso?: string) => (iso ? `${fmtDateTime(iso, 'en')} (Vietnam time)` : '—');

function fetchLine(f: CrlFetchResult): string {
  return f.ok
    ? `    ${f.updated ? 'updated  ' : 'unchanged'}  ${f.url}`
    : `    FAILED     ${f.url}: ${f.error ?? 'unknown error'}`;
}

export function printCrlReport(r: CrlReport): void {
  for (const s of r.sources) {
    console.log(`${s.stale ? 'STALE' : 'fresh'}  ${s.source}`);
    console.log(
      `    thisUpdate ${when(s.thisUpdate)}  nextUpdate ${when(s.nextUpdate)}  age ${s.ageSeconds === null ? '—' : fmtDuration(s.ageSeconds * 1000)}`,
    );
    if (s.reason) console.log(`    ${s.reason}`);
    if (s.storedFrom)
      console.log(`    stored from ${s.storedFrom.url ?? '(no URL)'} at ${when(s.storedFrom.fetchedAt)}`);
    for (const f of s.fetches) console.log(fetchLine(f));
  }
  for (const f of r.unattributed) console.log(fetchLine(f));
  const stale = r.sources.filter((s) => s.stale).length;
  const failed = [...r.sources.flatMap((s) => s.fetches), ...r.unattributed].filter((f) => !f.ok).length;
  console.log(
    r.ok
      ? `revocation data fresh (${r.sources.length} CRL sources, mode ${r.mode})`
      : `revocation data NOT fresh: ${stale} stale or missing CRL source(s), ${failed} failed fetch(es) (mode ${r.mode})`,
  );
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const crl = program.command('crl').description('revocation data: the CRLs of the trusted CAs');
  const run = async (o: { db?: string }, fetchNow: boolean) => {
    const ctx = await openContext(o.db ? { dbName: o.db } : {});
    try {
      const [trust, revocation] = await Promise.all([ctx.services.trust(), ctx.services.revocation()]);
      const fetches = fetchNow ? (await revocation.fetchAll()).results : [];
      const report = crlReport(trust.crlSources(), await revocation.stored(), fetches, trust.revocation);
      if (json()) console.log(JSON.stringify(report));
      else printCrlReport(report);
      process.exitCode = report.ok ? EXIT.OK : EXIT.FAILURE;
    } finally {
      await ctx.close();
    }
  };
  crl
    .command('refresh')
    .description(
      'fetch every CRL now and print each source (thisUpdate, nextUpdate, age, result); exit 1 if any is stale or failed',
    )
    .option('--db <name>', 'database name')
    .action((o: { db?: string }) => run(o, true));
  crl
    .command('status')
    .description('print each CRL source without fetching; exit 1 if any is missing or stale')
    .option('--db <name>', 'database name')
    .action((o: { db?: string }) => run(o, false));
}
