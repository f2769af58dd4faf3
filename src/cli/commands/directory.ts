/**
 * hubctl directory: the agency directory from the command line (docs/directory.md).
 *   import <file.csv>   bulk registration, all-or-nothing, result CSV, progress bar on stderr
 *   export              the whole directory as CSV or JSON
 *   register | close | update | show | search | changes | recover
 */
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { parseCalendarDate, vnCalendarDay } from '../../domain/calendar.ts';
import { HubError } from '../../domain/errors.ts';
import type { Agency, Block } from '../../domain/types.ts';
import { exportCsvHeader, exportCsvRow, splitList } from '../../directory/csv.ts';
import {
  CORRECTION_MODES,
  type DirectoryService,
  type ImportProgress,
  type PredecessorCorrection,
} from '../../directory/service.ts';
import { adminView, publicView } from '../../directory/views.ts';
import { EXIT, openContext, type CliContext } from '../context.ts';

async function withDirectory<T>(
  db: string | undefined,
  fn: (svc: DirectoryService, ctx: CliContext) => Promise<T>,
) {
  const ctx = await openContext(db ? { dbName: db } : {});
  try {
    return await fn(ctx.services.directory, ctx);
  } finally {
    await ctx.close();
  }
}

/** A calendar date (YYYY-MM-DD), whatever the machine's time zone. */
function date(v: string | undefined, name: string): Date | undefined {
  if (v === undefined) return undefined;
  const d = parseCalendarDate(v);
  if (!d) throw new HubError('VALIDATION_FAILED', `${name}: not a date (YYYY-MM-DD)`);
  return d;
}

function describe(a: Agency): string {
  const lines = [
    `${a.code}${a.legacyCode ? ` (${a.legacyCode})` : ''}  ${a.name}${a.shortName ? ` [${a.shortName}]` : ''}`,
    `  ${a.block} / ${a.kind}, parent ${a.parentCode ?? '-'}, province ${a.province ?? '-'}, ${a.status}` +
      (a.validFrom ? `, from ${vnCalendarDay(a.validFrom)}` : '') +
      (a.closedAt ? ` until ${vnCalendarDay(a.closedAt)}` : ''),
  ];
  if (a.successors.length) lines.push(`  successors: ${a.successors.join(', ')}`);
  if (a.predecessors?.length) lines.push(`  predecessors: ${a.predecessors.join(', ')}`);
  lines.push(`  version ${a.version}`);
  return lines.join('\n');
}

interface CloseOptions {
  successors?: string;
  at?: string;
  reason?: string;
  correctClosed?: string;
  correctionReason?: string;
  db?: string;
}

/** --correct-closed / --correction-reason: the explicit correction of a closed unit (docs/directory.md §4). */
function correctionOf(o: {
  correctClosed?: string;
  correctionReason?: string;
}): PredecessorCorrection | undefined {
  if (o.correctClosed === undefined && o.correctionReason === undefined) return undefined;
  return { mode: o.correctClosed as PredecessorCorrection['mode'], reason: o.correctionReason ?? '' };
}

/** Row problems of a refused import: every one, with its line. */
function reportRefusal(err: unknown, json: boolean): never {
  if (err instanceof HubError && Array.isArray(err.details?.errors)) {
    const errors = err.details.errors as { line: number; reason: string }[];
    if (json) console.log(JSON.stringify({ ok: false, code: err.code, errors }));
    else {
      console.error(`hubctl: import refused, nothing was imported (${errors.length} problem(s)):`);
      for (const e of errors) console.error(`  line ${e.line}: ${e.reason}`);
    }
    process.exit(EXIT.REFUSED);
  }
  throw err;
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const dir = program
    .command('directory')
    .description('agency directory and electronic identification codes');

  dir
    .command('import <file>')
    .description('register the units of a CSV file (all or nothing) and write the result CSV')
    .option('--out <file>', 'result CSV (default: <file>.result.csv)')
    .option('--dry-run', 'validate only; write nothing')
    .option('--valid-from <date>', 'effective date of rows without valid_from (default: now)')
    .option('--db <name>', 'database name (default: from MONGODB_URI)')
    .action(async (file: string, o: { out?: string; dryRun?: boolean; validFrom?: string; db?: string }) => {
      const text = readFileSync(file, 'utf8');
      const bar = new SingleBar(
        { format: ' {phase} [{bar}] {value}/{total}', hideCursor: true },
        Presets.shades_classic,
      );
      let phase = '';
      const onProgress = (p: ImportProgress) => {
        if (p.phase !== phase) {
          if (phase) bar.stop();
          phase = p.phase;
          bar.start(p.total, 0, { phase: p.phase.padEnd(8) });
        }
        bar.update(p.done, { phase: p.phase.padEnd(8) });
      };
      const validFrom = date(o.validFrom, '--valid-from');
      const result = await withDirectory(o.db, async (svc, ctx) =>
        svc.importCsv(await ctx.actor(), text, {
          dryRun: o.dryRun === true,
          onProgress,
          ...(validFrom ? { validFrom } : {}),
        }),
      )
        .catch((err: unknown) => {
          bar.stop();
          reportRefusal(err, json());
        })
        .finally(() => bar.stop());
      const out = o.out ?? path.join(path.dirname(file), `${path.basename(file, '.csv')}.result.csv`);
      if (!result.dryRun) writeFileSync(out, '\uFEFF' + result.resultCsv);
      const summary = {
        ok: true,
        importId: result.importId,
        dryRun: result.dryRun,
        rows: result.rows,
        created: result.created.length,
        closed: result.closed.length,
        splits: result.splits,
        ...(result.dryRun ? {} : { resultFile: out }),
      };
      if (json()) console.log(JSON.stringify(summary));
      else if (result.dryRun) console.log(`${result.rows} rows valid; nothing written (dry run)`);
      else {
        console.log(
          `imported ${result.created.length} units; closed ${result.closed.length} predecessors; result: ${out}`,
        );
        for (const s of result.splits)
          console.log(
            `  note: ${s.code} was split between ${s.successors.join(', ')}: documents to it will be refused`,
          );
      }
    });

  dir
    .command('export')
    .description('export the whole directory')
    .option('--format <format>', 'csv or json', 'csv')
    .option('--out <file>', 'output file (default: standard output)')
    .option('--db <name>', 'database name')
    .action(async (o: { format: string; out?: string; db?: string }) => {
      if (o.format !== 'csv' && o.format !== 'json')
        throw new HubError('VALIDATION_FAILED', '--format must be csv or json');
      await withDirectory(o.db, async (svc) => {
        const out: Writable = o.out ? createWriteStream(o.out) : process.stdout;
        const put = async (s: string) => {
          if (!out.write(s)) await new Promise<void>((r) => out.once('drain', r));
        };
        let n = 0;
        if (o.format === 'csv') {
          await put('\uFEFF' + exportCsvHeader());
          for await (const a of svc.exportAll()) {
            await put(exportCsvRow(a));
            n++;
          }
        } else {
          await put(`{"exportedAt":${JSON.stringify(new Date())},"items":[`);
          for await (const a of svc.exportAll())
            await put((n++ === 0 ? '\n' : ',\n') + JSON.stringify(adminView(a)));
          await put('\n]}\n');
        }
        if (o.out) {
          out.end();
          await finished(out);
          console.error(`exported ${n} agencies to ${o.out}`);
        }
      });
    });

  dir
    .command('register')
    .description('register one unit: assigns the next free code under its parent')
    .requiredOption('--name <name>')
    .requiredOption('--block <block>', 'party | state | front | other')
    .requiredOption('--kind <kind>', 'e.g. commune-people-committee')
    .option('--parent <code>', 'parent unit (default: the level-1 body of the block in --province)')
    .option('--province <code>', 'province (level-1 code, e.g. H29)')
    .option('--predecessors <codes>', 'units it succeeds, ";"-separated; they are closed')
    .option('--short-name <name>')
    .option('--valid-from <date>', 'effective date (predecessors close on it; default: now)')
    .option('--code <code>', 'register this existing code instead of assigning one')
    .option('--legacy-code <code>', 'its legacy 13-character code')
    .option('--distinct-from <codes>', 'same-named active units it is NOT, ";"-separated (else refused)')
    .option(
      '--correct-closed <mode>',
      `a predecessor is already closed: ${CORRECTION_MODES.join(' | ')} its successors`,
    )
    .option('--correction-reason <text>', 'why the closed predecessor is corrected (audited)')
    .option('--email <email>')
    .option('--phone <phone>')
    .option('--address <address>')
    .option('--db <name>', 'database name')
    .action(
      async (o: {
        name: string;
        block: string;
        kind: string;
        parent?: string;
        province?: string;
        predecessors?: string;
        shortName?: string;
        validFrom?: string;
        code?: string;
        legacyCode?: string;
        distinctFrom?: string;
        correctClosed?: string;
        correctionReason?: string;
        email?: string;
        phone?: string;
        address?: string;
        db?: string;
      }) => {
        const validFrom = date(o.validFrom, '--valid-from');
        const contact = {
          ...(o.email ? { email: o.email } : {}),
          ...(o.phone ? { phone: o.phone } : {}),
          ...(o.address ? { address: o.address } : {}),
        };
        const r = await withDirectory(o.db, async (svc, ctx) =>
          svc.register(await ctx.actor(), {
            name: o.name,
            block: o.block as Block,
            kind: o.kind,
            ...(o.parent ? { parentCode: o.parent } : {}),
            ...(o.province ? { province: o.province } : {}),
            ...(o.predecessors ? { predecessors: splitList(o.predecessors) } : {}),
            ...(o.shortName ? { shortName: o.shortName } : {}),
            ...(validFrom ? { validFrom } : {}),
            ...(o.code ? { code: o.code } : {}),
            ...(o.legacyCode ? { legacyCode: o.legacyCode } : {}),
            ...(o.distinctFrom ? { distinctFrom: splitList(o.distinctFrom) } : {}),
            ...(correctionOf(o) ? { predecessorCorrection: correctionOf(o)! } : {}),
            contact,
          }),
        );
        if (json())
          console.log(JSON.stringify({ ...adminView(r.agency), closed: r.closed.map((c) => c.code) }));
        else {
          console.log(describe(r.agency));
          for (const c of r.closed) console.log(`closed ${c.code} (successors: ${c.successors.join(', ')})`);
        }
      },
    );

  dir
    .command('close <code>')
    .description('close a unit: merged into one successor, split between several, or dissolved')
    .option('--successors <codes>', '";"-separated successor codes')
    .option('--at <date>', 'closing date (default: now)')
    .option('--reason <text>')
    .option('--correct-closed <mode>', `it is closed already: ${CORRECTION_MODES.join(' | ')} its successors`)
    .option('--correction-reason <text>', 'why its successors are corrected (audited)')
    .option('--db <name>', 'database name')
    .action(async (code: string, o: CloseOptions) => {
      const at = date(o.at, '--at');
      const correction = correctionOf(o);
      const a = await withDirectory(o.db, async (svc, ctx) =>
        svc.close(await ctx.actor(), code, {
          successors: splitList(o.successors),
          ...(at ? { at } : {}),
          ...(o.reason ? { reason: o.reason } : {}),
          ...(correction ? { correction } : {}),
        }),
      );
      console.log(json() ? JSON.stringify(adminView(a)) : describe(a));
    });

  dir
    .command('update <code>')
    .description('change the name, short name, kind, contact or delivery settings of a unit')
    .option('--name <name>')
    .option('--short-name <name>', 'short name ("" removes it)')
    .option('--kind <kind>')
    .option('--email <email>')
    .option('--phone <phone>')
    .option('--address <address>')
    .option('--delivery-mode <mode>', 'pull | push | amqp')
    .option('--delivery-url <url>', 'HTTPS endpoint for push delivery')
    .option('--db <name>', 'database name')
    .action(
      async (
        code: string,
        o: {
          name?: string;
          shortName?: string;
          kind?: string;
          email?: string;
          phone?: string;
          address?: string;
          deliveryMode?: string;
          deliveryUrl?: string;
          db?: string;
        },
      ) => {
        const a = await withDirectory(o.db, async (svc, ctx) => {
          const actor = await ctx.actor();
          const { agency } = await svc.get(code);
          const contact =
            o.email !== undefined || o.phone !== undefined || o.address !== undefined
              ? {
                  ...agency.contact,
                  ...(o.email !== undefined ? { email: o.email } : {}),
                  ...(o.phone !== undefined ? { phone: o.phone } : {}),
                  ...(o.address !== undefined ? { address: o.address } : {}),
                }
              : undefined;
          const delivery =
            o.deliveryMode !== undefined || o.deliveryUrl !== undefined
              ? ({
                  mode: o.deliveryMode ?? agency.delivery.mode,
                  ...((o.deliveryUrl ?? agency.delivery.url)
                    ? { url: o.deliveryUrl ?? agency.delivery.url }
                    : {}),
                } as Agency['delivery'])
              : undefined;
          return svc.update(actor, agency.code, {
            ...(o.name !== undefined ? { name: o.name } : {}),
            ...(o.shortName !== undefined ? { shortName: o.shortName === '' ? null : o.shortName } : {}),
            ...(o.kind !== undefined ? { kind: o.kind } : {}),
            ...(contact ? { contact } : {}),
            ...(delivery ? { delivery } : {}),
          });
        });
        console.log(json() ? JSON.stringify(adminView(a)) : describe(a));
      },
    );

  dir
    .command('show <code>')
    .description('one agency, by code or legacy code, and how documents addressed to it are routed')
    .option('--db <name>', 'database name')
    .action(async (code: string, o: { db?: string }) => {
      const { agency, routing } = await withDirectory(o.db, (svc) => svc.get(code));
      if (json()) console.log(JSON.stringify({ ...adminView(agency), routing }));
      else
        console.log(
          `${describe(agency)}\n  routing: ${routing.outcome}${routing.deliveredTo ? ` → ${routing.deliveredTo}` : ''}${routing.reason ? ` (${routing.reason})` : ''}`,
        );
    });

  dir
    .command('search [words...]')
    .description('search by name (with or without diacritics) and filters')
    .option('--code <prefix>', 'code prefix')
    .option('--block <block>')
    .option('--province <code>')
    .option('--status <status>', 'active | closed')
    .option('--parent <code>')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <code>', 'the `next` of the previous page')
    .option('--db <name>', 'database name')
    .action(
      async (
        words: string[],
        o: {
          code?: string;
          block?: string;
          province?: string;
          status?: string;
          parent?: string;
          limit: string;
          cursor?: string;
          db?: string;
        },
      ) => {
        const page = await withDirectory(o.db, (svc) =>
          svc.search({
            ...(words.length ? { q: words.join(' ') } : {}),
            ...(o.code ? { code: o.code } : {}),
            ...(o.block ? { block: o.block } : {}),
            ...(o.province ? { province: o.province } : {}),
            ...(o.status ? { status: o.status } : {}),
            ...(o.parent ? { parent: o.parent } : {}),
            limit: Number(o.limit),
            ...(o.cursor ? { cursor: o.cursor } : {}),
          }),
        );
        if (json()) console.log(JSON.stringify({ items: page.items.map(publicView), next: page.next }));
        else {
          for (const a of page.items) console.log(`${a.code.padEnd(16)} ${a.status.padEnd(6)} ${a.name}`);
          if (page.next) console.log(`more: --cursor ${page.next}`);
        }
      },
    );

  dir
    .command('changes')
    .description('the change feed: agencies changed after a version')
    .option('--since <version>', 'last version already seen', '0')
    .option('--limit <n>', 'page size', '200')
    .option('--db <name>', 'database name')
    .action(async (o: { since: string; limit: string; db?: string }) => {
      const feed = await withDirectory(o.db, (svc) => svc.changes(Number(o.since), Number(o.limit)));
      if (json()) console.log(JSON.stringify({ ...feed, items: feed.items.map(publicView) }));
      else {
        for (const a of feed.items)
          console.log(`${String(a.version).padStart(8)}  ${a.code.padEnd(16)} ${a.status}`);
        console.log(`next: --since ${feed.next}${feed.more ? ' (more)' : ''}`);
      }
    });

  dir
    .command('recover')
    .description('roll back imports interrupted by a crash')
    .option('--db <name>', 'database name')
    .action(async (o: { db?: string }) => {
      const r = await withDirectory(o.db, async (svc, ctx) =>
        svc.recoverInterruptedImports(await ctx.actor()),
      );
      if (json()) console.log(JSON.stringify({ rolledBack: r }));
      else if (r.length === 0) console.log('no interrupted import');
      else
        for (const x of r)
          console.log(`rolled back ${x.importId}: ${x.removed} removed, ${x.restored} restored`);
    });
}
