/**
 * Who may use the national-axis API's administrative operations (registerAgency, deleteAgency).
 *
 * The axis protocol signs only headers, and the SDK fixes `timestamp` when its service object is
 * built (docs/vdxp-protocol.md §3.4, §3.7, quirk 14): one captured request's headers stay valid forever
 * and can be replayed with any body, e.g. registerAgency with another unit. The hub therefore turns
 * these operations off unless configured (`vdxp.adminOperations`), and then allows them only for the
 * listed systems calling from the listed addresses (issue 18 §5). Directory changes belong to
 * `hubctl directory` / `/v1/admin/agencies`, which sign the body, method, path and a fresh time.
 */
import { BlockList, isIP } from 'node:net';
import { HubError } from '../domain/errors.ts';

export interface AdminOperationsSettings {
  readonly enabled: boolean;
  /** systemIds allowed to call them (exact). */
  readonly allowedSystems: readonly string[];
  /** Source addresses allowed: exact IPv4/IPv6 addresses or CIDR blocks (`10.0.0.0/8`, `fd00::/8`). */
  readonly allowedAddresses: readonly string[];
}

export const ADMIN_OPERATIONS_OFF: AdminOperationsSettings = {
  enabled: false,
  allowedSystems: [],
  allowedAddresses: [],
};

/** One allowed-address entry: an IP address or `address/prefix`; null when it is neither. */
export function parseAddressRule(
  rule: string,
): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = rule.trim().split('/');
  const v = isIP(address);
  if (v === 0 || extra !== undefined) return null;
  const family = v === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= (v === 4 ? 32 : 128) ? { address, prefix, family } : null;
}

export class AdminGate {
  readonly #s: AdminOperationsSettings;
  readonly #systems: ReadonlySet<string>;
  readonly #addresses = new BlockList();

  constructor(settings: AdminOperationsSettings) {
    this.#s = settings;
    this.#systems = new Set(settings.allowedSystems);
    for (const rule of settings.allowedAddresses) {
      const r = parseAddressRule(rule);
      if (!r)
        throw new Error(`vdxp.adminOperations.allowedAddresses: "${rule}" is not an IP address or CIDR`);
      if (r.prefix === undefined) this.#addresses.addAddress(r.address, r.family);
      else this.#addresses.addSubnet(r.address, r.prefix, r.family);
    }
  }

  /** Throws VDXP_ADMIN_DISABLED or VDXP_ADMIN_NOT_ALLOWED unless this system at this address may. */
  check(systemId: string, address: string | undefined): void {
    if (!this.#s.enabled)
      throw new HubError(
        'VDXP_ADMIN_DISABLED',
        'registerAgency and deleteAgency are turned off on this hub (vdxp.adminOperations); use hubctl directory or /v1/admin/agencies',
      );
    if (!this.#systems.has(systemId))
      throw new HubError(
        'VDXP_ADMIN_NOT_ALLOWED',
        `system ${systemId} is not in vdxp.adminOperations.allowedSystems`,
      );
    if (!this.#allowedAddress(address))
      throw new HubError(
        'VDXP_ADMIN_NOT_ALLOWED',
        `address ${address ?? '(unknown)'} is not in vdxp.adminOperations.allowedAddresses`,
      );
  }

  #allowedAddress(address: string | undefined): boolean {
    if (!address) return false;
    const v = isIP(address);
    // IPv4-mapped IPv6 (::ffff:127.0.0.1, a dual-stack listener) matches IPv4 rules (BlockList does this).
    return v !== 0 && this.#addresses.check(address, v === 4 ? 'ipv4' : 'ipv6');
  }
}
