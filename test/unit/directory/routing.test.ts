import { expect } from 'chai';
import { routeRecipients } from '../../../src/directory/routing.ts';
import type { Agency } from '../../../src/domain/types.ts';
import { sampleAgency } from '../../support/directory.ts';

function agency(code: string, extra: Partial<Agency> = {}): Agency {
  return sampleAgency({ code, name: code, kind: 'test', parentCode: null, province: undefined, ...extra });
}

// A pure in-memory directory: routing is pure logic over findByCode.
const directory = new Map<string, Agency>(
  [
    agency('H29.001'),
    agency('H29.002'),
    agency('H29.21.01', { legacyCode: '000.01.21.H29', status: 'closed', successors: ['H29.001'] }),
    agency('H29.21.02', { status: 'closed', successors: ['H29.001'] }),
    agency('H29.21.03', { status: 'closed', successors: ['H29.001', 'H29.002'] }),
    agency('H29.21.04', { status: 'closed', successors: [] }),
    agency('H29.09', { status: 'closed', successors: ['H29.21.01'] }),
  ].flatMap((a) => [[a.code, a] as const, ...(a.legacyCode ? [[a.legacyCode, a] as const] : [])]),
);
const store = { findByCode: (c: string) => Promise.resolve(directory.get(c) ?? null) };

describe('routing recipients through the directory', () => {
  it('delivers to an active agency', async () => {
    expect(await routeRecipients(store, ['H29.001'])).to.deep.equal([
      { code: 'H29.001', outcome: 'accepted', deliveredTo: 'H29.001' },
    ]);
  });

  it('reroutes a closed agency with one successor and records why', async () => {
    const [r] = await routeRecipients(store, ['000.01.21.H29']);
    expect(r).to.include({ code: '000.01.21.H29', outcome: 'rerouted', deliveredTo: 'H29.001' });
    expect(r!.reason).to.contain('H29.21.01');
  });

  it('follows a chain of successors', async () => {
    const [r] = await routeRecipients(store, ['H29.09']);
    expect(r).to.include({ outcome: 'rerouted', deliveredTo: 'H29.001' });
  });

  it('refuses a split agency and lists its successors', async () => {
    const [r] = await routeRecipients(store, ['H29.21.03']);
    expect(r!.outcome).to.equal('refused');
    expect(r!.reason).to.contain('H29.001, H29.002');
  });

  it('refuses unknown codes and closed agencies without successor', async () => {
    const rs = await routeRecipients(store, ['X99.001', 'H29.21.04']);
    expect(rs.map((r) => r.outcome)).to.deep.equal(['refused', 'refused']);
    expect(rs[0]!.reason).to.equal('unknown agency code');
  });

  it('looks recipients up at once and keeps their order, whatever order the lookups finish in', async () => {
    const codes = Array.from({ length: 20 }, (_, i) => `H41.${String(i + 1).padStart(3, '0')}`);
    const many = new Map(codes.map((c) => [c, agency(c)]));
    let inFlight = 0;
    let most = 0;
    const slow = {
      findByCode: async (c: string) => {
        most = Math.max(most, ++inFlight);
        // Later codes answer first.
        await new Promise((r) => setTimeout(r, 40 - codes.indexOf(c) * 2));
        inFlight--;
        return many.get(c) ?? null;
      },
    };
    const rs = await routeRecipients(slow, [...codes, codes[0]!]);
    expect(rs.map((r) => r.deliveredTo)).to.deep.equal(codes);
    expect(most).to.be.greaterThan(1);
  });

  it('delivers once when two addressed predecessors lead to the same successor', async () => {
    const rs = await routeRecipients(store, ['H29.21.01', 'H29.21.02', 'H29.001']);
    expect(rs.filter((r) => r.outcome !== 'refused').map((r) => r.deliveredTo)).to.deep.equal(['H29.001']);
  });

  it('looks the requested codes up in one batch where the store can, successors as met', async () => {
    const single: string[] = [];
    const batches: string[][] = [];
    const batching = {
      findByCode: (c: string) => (single.push(c), store.findByCode(c)),
      findMany: (codes: readonly string[]) => {
        batches.push([...codes]);
        const out = new Map<string, Agency>();
        for (const c of codes) if (directory.has(c)) out.set(c, directory.get(c)!);
        return Promise.resolve(out);
      },
    };
    const routed = await routeRecipients(batching, ['H29.002', 'H29.09', 'H29.999', 'H29.002']);
    expect(routed).to.deep.equal(await routeRecipients(store, ['H29.002', 'H29.09', 'H29.999']));
    expect(batches).to.deep.equal([['H29.002', 'H29.09', 'H29.999']]);
    // Only the successors of H29.09 (H29.21.01, then H29.001) are looked up one by one.
    expect(single).to.deep.equal(['H29.21.01', 'H29.001']);
  });
});
