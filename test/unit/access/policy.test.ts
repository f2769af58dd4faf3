/** The access policy (src/access/policy.ts): one table of parties against one document. */
import { expect } from 'chai';
import {
  administers,
  agencyScope,
  documentView,
  inboxItem,
  readsWholeHub,
  receives,
  systemParty,
  userParty,
  visibleDocument,
  type Party,
} from '../../../src/access/policy.ts';
import { isHubError } from '../../../src/domain/errors.ts';
import type { TransportState } from '../../../src/domain/types.ts';

interface Delivery {
  readonly id: string;
  readonly recipientCode: string;
  readonly requestedCode?: string;
  readonly transport: TransportState;
}

// S sends to R1 and R2; R3 was addressed as OLD (merged into R3: rerouted); R4's delivery is queued.
const doc = { senderCode: 'S', state: 'accepted' as const };
const deliveries: Delivery[] = [
  { id: 'd1', recipientCode: 'R1', transport: 'available' },
  { id: 'd2', recipientCode: 'R2', transport: 'acknowledged' },
  { id: 'd3', recipientCode: 'R3', requestedCode: 'OLD', transport: 'available' },
  { id: 'd4', recipientCode: 'R4', transport: 'queued' },
];

const sys = (...codes: string[]): Party =>
  systemParty({ systemId: `dms-${codes.join('+')}`, agencyCodes: codes });
const clerk = (...codes: string[]): Party => userParty({ username: 'clerk', role: 'clerk', agencies: codes });
const admin = userParty({ username: 'admin', role: 'admin', agencies: [] });
const auditor = userParty({ username: 'auditor', role: 'auditor', agencies: [] });

const refusal = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!isHubError(err)) throw err;
    return err.code;
  }
};

describe('access policy', () => {
  const table: {
    readonly who: string;
    readonly party: Party;
    /** Delivery ids of the document the party sees; null = the document is not found. */
    readonly sees: string[] | null;
    readonly seesAll?: boolean;
    /** Deliveries it may download, acknowledge or answer. */
    readonly acts: string[];
  }[] = [
    { who: 'the sender system', party: sys('S'), sees: ['d1', 'd2', 'd3', 'd4'], seesAll: true, acts: [] },
    { who: 'the sender clerk', party: clerk('S'), sees: ['d1', 'd2', 'd3', 'd4'], seesAll: true, acts: [] },
    { who: 'recipient R1', party: sys('R1'), sees: ['d1'], seesAll: false, acts: ['d1'] },
    { who: 'recipient R2 (acknowledged)', party: sys('R2'), sees: ['d2'], seesAll: false, acts: ['d2'] },
    { who: 'a clerk of R2', party: clerk('R2'), sees: ['d2'], seesAll: false, acts: ['d2'] },
    { who: 'the rerouted recipient R3', party: sys('R3'), sees: ['d3'], seesAll: false, acts: ['d3'] },
    { who: 'the addressed code OLD of a rerouted delivery', party: sys('OLD'), sees: null, acts: [] },
    { who: 'R4, whose delivery is still queued', party: sys('R4'), sees: ['d4'], seesAll: false, acts: [] },
    { who: 'a stranger system', party: sys('X'), sees: null, acts: [] },
    { who: 'a stranger clerk', party: clerk('X'), sees: null, acts: [] },
    {
      who: 'a system for R1 and R2',
      party: sys('R1', 'R2'),
      sees: ['d1', 'd2'],
      seesAll: false,
      acts: ['d1', 'd2'],
    },
    {
      who: 'a system for S and R1',
      party: sys('S', 'R1'),
      sees: ['d1', 'd2', 'd3', 'd4'],
      seesAll: true,
      acts: ['d1'],
    },
    { who: 'an administrator', party: admin, sees: ['d1', 'd2', 'd3', 'd4'], seesAll: true, acts: [] },
    { who: 'an auditor', party: auditor, sees: ['d1', 'd2', 'd3', 'd4'], seesAll: true, acts: [] },
  ];

  for (const row of table)
    it(`${row.who}: sees ${row.sees ? row.sees.join(', ') : 'nothing (NOT_FOUND)'}; acts on ${row.acts.join(', ') || 'none'}`, () => {
      const view = documentView(row.party, doc, deliveries);
      if (row.sees === null) {
        expect(view).to.equal(null);
        expect(refusal(() => visibleDocument(row.party, 'doc-1', doc, deliveries))).to.equal('NOT_FOUND');
      } else {
        expect(view!.deliveries.map((d) => d.id)).to.deep.equal(row.sees);
        expect(view!.seesAll).to.equal(row.seesAll);
      }
      for (const d of deliveries) {
        expect(receives(row.party, d), d.id).to.equal(row.acts.includes(d.id));
        expect(
          refusal(() => inboxItem(row.party, d.id, d)),
          d.id,
        ).to.equal(row.acts.includes(d.id) ? undefined : 'NOT_FOUND');
      }
    });

  it('answers NOT_FOUND alike for an absent document or delivery and one not yours', () => {
    for (const party of [sys('S'), sys('X'), clerk('X'), admin, auditor]) {
      expect(refusal(() => visibleDocument(party, 'missing', null, []))).to.equal('NOT_FOUND');
      expect(refusal(() => inboxItem(party, 'missing', null))).to.equal('NOT_FOUND');
    }
  });

  it('hides documents that are not accepted, from everyone', () => {
    for (const state of ['pending'] as const)
      for (const party of [sys('S'), sys('R1'), admin, auditor])
        expect(documentView(party, { ...doc, state }, deliveries), `${state}`).to.equal(null);
  });

  it('scopes lists to the agencies a party acts for; the whole hub for administrators and auditors', () => {
    expect(agencyScope(sys('R1', 'R2'))).to.deep.equal(['R1', 'R2']);
    expect(agencyScope(sys('R1', 'R2'), 'R2')).to.deep.equal(['R2']);
    expect(refusal(() => agencyScope(sys('R1'), 'R2'))).to.equal('FORBIDDEN');
    expect(refusal(() => agencyScope(clerk('R1'), 'R2'))).to.equal('FORBIDDEN');
    expect(agencyScope(admin)).to.equal(null);
    expect(agencyScope(auditor, 'R2')).to.deep.equal(['R2']);
  });

  it('lets administrators change the hub; auditors and clerks read only; a clerk record keeps no hub-wide role', () => {
    expect([admin, auditor, clerk('S'), sys('S')].map(administers)).to.deep.equal([
      true,
      false,
      false,
      false,
    ]);
    expect([admin, auditor, clerk('S'), sys('S')].map(readsWholeHub)).to.deep.equal([
      true,
      true,
      false,
      false,
    ]);
    // An administrator record listing agencies acts for none of them (roles decide, not the list).
    const adminWithAgencies = userParty({ username: 'a', role: 'admin', agencies: ['R1'] });
    expect(receives(adminWithAgencies, deliveries[0]!)).to.equal(false);
  });
});
