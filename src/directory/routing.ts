/**
 * Routing of a document's recipients through the directory (docs/architecture-design.md §2 step 5):
 * active → deliver; closed with exactly one successor → reroute to it (recorded); closed and split
 * between several successors → refused with the list; unknown → refused.
 */
import type { AgencyStore, DirectoryStore } from '../domain/ports.ts';
import type { Agency, RoutingOutcome } from '../domain/types.ts';
import { LOOKUP_CONCURRENCY, mapLimit } from '../domain/concurrency.ts';

const MAX_SUCCESSOR_HOPS = 5;

/**
 * With a store that looks many codes up at once (`findMany`: one `$in` on MongoDB), the requested
 * codes are looked up together; successors are looked up as routing meets them.
 */
export async function routeRecipients(
  agencies: Pick<AgencyStore, 'findByCode'> & Partial<Pick<DirectoryStore, 'findMany'>>,
  codes: readonly string[],
): Promise<RoutingOutcome[]> {
  const unique = [...new Set(codes)];
  let lookup: Pick<AgencyStore, 'findByCode'> = agencies;
  if (agencies.findMany) {
    const found = await agencies.findMany(unique);
    const known = new Map<string, Agency | null>(unique.map((c) => [c, found.get(c) ?? null]));
    lookup = { findByCode: (c) => (known.has(c) ? Promise.resolve(known.get(c)!) : agencies.findByCode(c)) };
  }
  const out = await mapLimit(unique, LOOKUP_CONCURRENCY, (requested) => routeOne(lookup, requested));
  // Two requested codes may lead to the same successor: deliver once.
  const delivered = new Set<string>();
  return out.map((r) => {
    if (r.outcome === 'refused' || !r.deliveredTo) return r;
    if (delivered.has(r.deliveredTo))
      return { code: r.code, outcome: 'refused', reason: `duplicate of recipient ${r.deliveredTo}` };
    delivered.add(r.deliveredTo);
    return r;
  });
}

async function routeOne(
  agencies: Pick<AgencyStore, 'findByCode'>,
  requested: string,
): Promise<RoutingOutcome> {
  let agency = await agencies.findByCode(requested);
  if (!agency) return { code: requested, outcome: 'refused', reason: 'unknown agency code' };
  const path: string[] = [];
  for (let hop = 0; agency.status === 'closed'; hop++) {
    if (agency.successors.length === 0)
      return {
        code: requested,
        outcome: 'refused',
        reason: `agency ${agency.code} is closed and has no successor`,
      };
    if (agency.successors.length > 1) {
      return {
        code: requested,
        outcome: 'refused',
        reason: `agency ${agency.code} was split between ${agency.successors.join(', ')}; address one of them`,
      };
    }
    if (hop >= MAX_SUCCESSOR_HOPS)
      return { code: requested, outcome: 'refused', reason: 'successor chain too long' };
    path.push(agency.code);
    const next = await agencies.findByCode(agency.successors[0]!);
    if (!next)
      return {
        code: requested,
        outcome: 'refused',
        reason: `successor ${agency.successors[0]} is not in the directory`,
      };
    agency = next;
  }
  if (path.length === 0 && agency.code === requested)
    return { code: requested, outcome: 'accepted', deliveredTo: agency.code };
  if (path.length === 0) return { code: requested, outcome: 'accepted', deliveredTo: agency.code }; // legacy code of an active agency
  return {
    code: requested,
    outcome: 'rerouted',
    deliveredTo: agency.code,
    reason: `closed; successor of ${path.join(' → ')}`,
  };
}
