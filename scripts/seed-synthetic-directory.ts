/**
 * Seeds a synthetic national directory through the bulk import path and measures it (issue 3,
 * docs/directory.md "Scale"). Not a test: it prints figures for the docs.
 *
 *   node scripts/seed-synthetic-directory.ts [--agencies 120000] [--samples 1000] [--db name] [--keep]
 *                                            [--skip-reform]
 *
 * Uses MONGODB_URI (default from config). The database is created fresh and dropped at the end
 * unless --keep. The directory: 30 ministries and 63 pre-reform provinces, each province with its
 * People's Committee (H), People's Council (K), Party committee (D) and Front committee (M) and
 * their departments, districts, communes and schools, with legacy QCVN 102 codes (≈120,000).
 * Then: lookups by code and by legacy code, a search, a change-feed page, and one city's reform
 * (168 new communes, each succeeding two or three old ones) imported as one CSV file.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { loadConfig } from '../src/config.ts';
import { DirectoryService } from '../src/directory/service.ts';
import { connectMongo, redactUri } from '../src/store/mongo.ts';
import { createMongoStores } from '../src/store/stores.ts';

const { values: args } = parseArgs({
  options: {
    agencies: { type: 'string', default: '120000' },
    samples: { type: 'string', default: '1000' },
    db: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'skip-reform': { type: 'boolean', default: false },
  },
});
const target = Number(args.agencies);
const samples = Number(args.samples);

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const legacy = (l1: string, g2 = 0, g3 = 0, g4 = 0) => `${pad(g4, 3)}.${pad(g3, 2)}.${pad(g2, 2)}.${l1}`;

type Row = Record<string, string>;
const COLUMNS = ['code', 'legacy_code', 'name', 'block', 'kind', 'parent', 'province', 'valid_from'];

function level1Rows(): Row[] {
  const rows: Row[] = [];
  for (let g = 1; g <= 30; g++)
    rows.push({
      code: `G${pad(g, 2)}`,
      legacy_code: legacy(`G${pad(g, 2)}`),
      name: `Bộ số ${g}`,
      block: 'state',
      kind: 'ministry',
    });
  for (let p = 1; p <= 63; p++) {
    const pp = pad(p, 2);
    const province = `H${pp}`;
    for (const [l, block, kind, name] of [
      ['H', 'state', 'provincial-people-committee', `UBND tỉnh số ${p}`],
      ['K', 'state', 'provincial-people-council', `HĐND tỉnh số ${p}`],
      ['D', 'party', 'provincial-party-committee', `Tỉnh ủy tỉnh số ${p}`],
      ['M', 'front', 'provincial-front-committee', `Ủy ban MTTQ Việt Nam tỉnh số ${p}`],
    ] as const)
      rows.push({ code: `${l}${pp}`, legacy_code: legacy(`${l}${pp}`), name, block, kind, province });
  }
  return rows;
}

/** Old (pre-2025) units with their legacy codes: departments, districts, communes, schools. */
function unitRows(): Row[] {
  const rows: Row[] = [];
  const unit = (
    l1: string,
    groups: number[],
    name: string,
    block: string,
    kind: string,
    province?: string,
  ) => {
    const code = [l1, ...groups.map((g, i) => pad(g, i === 2 ? 3 : 2))].join('.');
    rows.push({
      code,
      legacy_code: legacy(l1, groups[0], groups[1], groups[2]),
      name,
      block,
      kind,
      parent: groups.length === 1 ? l1 : code.slice(0, code.lastIndexOf('.')),
      ...(province ? { province } : {}),
      valid_from: '2008-01-01',
    });
  };
  for (let g = 1; g <= 30; g++) {
    const l1 = `G${pad(g, 2)}`;
    for (let d = 1; d <= 20; d++) {
      unit(l1, [d], `Vụ ${d} Bộ số ${g}`, 'state', 'department');
      for (let u = 1; u <= 2; u++) unit(l1, [d, u], `Phòng ${u} Vụ ${d} Bộ số ${g}`, 'state', 'division');
    }
  }
  for (let p = 1; p <= 63; p++) {
    const pp = pad(p, 2);
    const province = `H${pp}`;
    for (let d = 1; d <= 20; d++) {
      unit(`H${pp}`, [d], `Sở ${d} tỉnh số ${p}`, 'state', 'department', province);
      for (let u = 1; u <= 10; u++)
        unit(
          `H${pp}`,
          [d, u],
          `Đơn vị ${u} thuộc Sở ${d} tỉnh số ${p}`,
          'state',
          'public-service-unit',
          province,
        );
    }
    for (let s = 1; s <= 200; s++)
      unit(`H${pp}`, [5, 1 + (s % 10), s], `Trường ${s} tỉnh số ${p}`, 'state', 'school', province);
    for (let d = 21; d <= 40; d++) {
      unit(`H${pp}`, [d], `UBND huyện ${d} tỉnh số ${p}`, 'state', 'district-people-committee', province);
      unit(`K${pp}`, [d], `HĐND huyện ${d} tỉnh số ${p}`, 'state', 'district-people-council', province);
      unit(`D${pp}`, [d], `Huyện ủy ${d} tỉnh số ${p}`, 'party', 'district-party-committee', province);
      unit(
        `M${pp}`,
        [d],
        `Ủy ban MTTQ huyện ${d} tỉnh số ${p}`,
        'front',
        'district-front-committee',
        province,
      );
      for (let c = 1; c <= 17; c++) {
        const n = `xã ${c} huyện ${d} tỉnh số ${p}`;
        unit(`H${pp}`, [d, c], `UBND ${n}`, 'state', 'commune-people-committee', province);
        unit(`K${pp}`, [d, c], `HĐND ${n}`, 'state', 'commune-people-council', province);
        unit(`D${pp}`, [d, c], `Đảng ủy ${n}`, 'party', 'commune-party-committee', province);
        unit(`M${pp}`, [d, c], `Ủy ban MTTQ ${n}`, 'front', 'commune-front-committee', province);
      }
    }
    for (const l of ['D', 'M'])
      for (let d = 1; d <= 10; d++)
        unit(
          `${l}${pp}`,
          [d],
          `Ban ${d} ${l === 'D' ? 'Tỉnh ủy' : 'MTTQ'} tỉnh số ${p}`,
          l === 'D' ? 'party' : 'front',
          'department',
          province,
        );
  }
  return rows;
}

const csv = (rows: Row[], columns = COLUMNS) => stringify(rows, { header: true, columns });

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { n: s.length, p50: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +s.at(-1)!.toFixed(2) };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

async function main() {
  const config = loadConfig();
  const dbName = args.db ?? `bench_directory_${randomBytes(3).toString('hex')}`;
  const mongo = await connectMongo(config.mongodb.uri, { dbName });
  const stores = await createMongoStores(mongo, config.credentials.key, { directory: config.directory });
  const svc = new DirectoryService({
    store: stores.agencies,
    audit: stores.audit,
    settings: config.directory,
  });
  const build = (await mongo.db!.admin().command({ buildInfo: 1 })) as {
    version?: string;
    ferretdbVersion?: string;
  };
  const out: Record<string, unknown> = {
    machine: {
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
      memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      store: build.ferretdbVersion
        ? `FerretDB ${build.ferretdbVersion} (SQLite)`
        : `MongoDB ${build.version}`,
      uri: redactUri(config.mongodb.uri),
      db: dbName,
    },
  };
  const log = (...a: unknown[]) => console.error('[bench]', ...a);
  async function reformOf(units: Row[]) {
    // 4. One city's reform: 168 new communes, each succeeding two or three old ones (H29 when
    // seeded, as HCMC; else the province with the most old communes).
    const communes = units.filter((r) => r.kind === 'commune-people-committee');
    const perProvince = new Map<string, number>();
    for (const r of communes) perProvince.set(r.province!, (perProvince.get(r.province!) ?? 0) + 1);
    const city = perProvince.has('H29')
      ? 'H29'
      : [...perProvince.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const old = communes.filter((r) => r.province === city);
    const reform: Row[] = [];
    for (let i = 0, k = 0; i < 168; i++) {
      const n = i < 4 ? 3 : 2; // 340 old communes into 168 new ones
      const preds = Array.from({ length: n }, () => old[k++ % old.length]!.code!);
      reform.push({
        name: `UBND phường mới số ${i + 1}`,
        block: 'state',
        kind: 'commune-people-committee',
        parent: city, // the People's Committee (the province also has a People's Council: K)
        predecessors: preds.join(';'),
        valid_from: '2025-07-01',
      });
    }
    const [result, reformMs] = await timed(() =>
      svc.importCsv('bench', csv(reform, ['name', 'block', 'kind', 'parent', 'predecessors', 'valid_from'])),
    );
    out.reform = {
      province: city,
      communes: result.created.length,
      predecessorsClosed: result.closed.length,
      splits: result.splits.length,
      importMs: Math.round(reformMs),
      firstCode: result.created[0]?.code,
      lastCode: result.created.at(-1)?.code,
    };
    log('reform', out.reform);
  }
  try {
    // 1. The synthetic directory, through the bulk import (two files: level-1 bodies, then units).
    const l1 = level1Rows();
    const units = unitRows().slice(0, Math.max(0, target - l1.length));
    log(`importing ${l1.length} level-1 bodies and ${units.length} units into ${dbName}`);
    const [, l1Ms] = await timed(() => svc.importCsv('bench', csv(l1)));
    let lastPhase = '';
    const [, unitsMs] = await timed(() =>
      svc.importCsv('bench', csv(units), {
        onProgress: (p) => {
          if (p.phase !== lastPhase || p.done === p.total) log(`${p.phase} ${p.done}/${p.total}`);
          lastPhase = p.phase;
        },
      }),
    );
    const total = await stores.agencies.count();
    out.seed = {
      agencies: total,
      level1ImportMs: Math.round(l1Ms),
      unitsImportMs: Math.round(unitsMs),
      rowsPerSecond: Math.round(units.length / (unitsMs / 1000)),
    };
    log('seeded', out.seed);

    // 2. Lookups by code and by legacy code (sequential, random agencies).
    const pick = () => units[Math.floor(Math.random() * units.length)]!;
    const byCode: number[] = [];
    const byLegacy: number[] = [];
    for (let i = 0; i < samples; i++) {
      const r = pick();
      const [a, ms] = await timed(() => stores.agencies.findByCode(r.code!));
      if (a?.code !== r.code) throw new Error(`lookup of ${r.code} failed`);
      byCode.push(ms);
      const [b, ms2] = await timed(() => stores.agencies.findByCode(r.legacy_code!));
      if (b?.code !== r.code) throw new Error(`lookup of ${r.legacy_code} failed`);
      byLegacy.push(ms2);
    }
    out.lookups = { byCodeMs: stats(byCode), byLegacyCodeMs: stats(byLegacy) };
    log('lookups', out.lookups);

    // 3. For information: a name search without diacritics and a change-feed page (not index-backed on FerretDB).
    const [found, searchMs] = await timed(() =>
      svc.search({ q: 'uy ban mttq xa 7 huyen 33 tinh so 41', limit: 20 }),
    );
    const [feed, feedMs] = await timed(() => svc.changes(Math.max(0, total - 500), 200));
    out.other = {
      searchMs: Math.round(searchMs),
      searchHits: found.items.length,
      feedPageMs: Math.round(feedMs),
      feedItems: feed.items.length,
    };
    log('other', out.other);
    if (!args['skip-reform']) await reformOf(units);
  } finally {
    if (!args.keep) await mongo.dropDatabase().catch(() => undefined);
    await mongo.close();
  }
  console.log(JSON.stringify(out, null, 2));
}

await main();
