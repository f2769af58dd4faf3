/** Directory settings (config `directory` section) and the rules derived from them. */
import type { Block } from '../domain/types.ts';

export interface DirectorySettings {
  /**
   * Width of the numeric group a level-1 body gives its units, by depth: `[direct units, their
   * units, …]`; the last entry applies to every deeper level. Per level-1 body, else `default`.
   */
  readonly codeWidths: {
    readonly default: readonly number[];
    readonly byLevel1: Readonly<Record<string, readonly number[]>>;
  };
  /** Level-1 letters reserved to a block; an empty list leaves the block unconstrained. */
  readonly blockLetters: Readonly<Record<Block, readonly string[]>>;
  readonly versionLeaseMs: number;
  readonly maxPageSize: number;
  readonly importMaxRows: number;
  /**
   * Whether push endpoints may be plain `http://` (development and tests only). Outside development
   * every push endpoint is `https://` (issue 19 §2): one rule for the API, the CLI, the UI and imports.
   */
  readonly allowHttpEndpoints: boolean;
}

export const DEFAULT_DIRECTORY_SETTINGS: DirectorySettings = {
  codeWidths: { default: [3], byLevel1: {} },
  blockLetters: { party: ['D'], state: [], front: ['M'], other: [] },
  versionLeaseMs: 60_000,
  maxPageSize: 500,
  importMaxRows: 200_000,
  allowHttpEndpoints: false,
};

/** The group width for a new unit directly under `parentCode` (a Decision 20/2020 code). */
export function childWidth(settings: DirectorySettings, parentCode: string): number {
  const groups = parentCode.split('.');
  const widths = settings.codeWidths.byLevel1[groups[0]!] ?? settings.codeWidths.default;
  return widths[Math.min(groups.length - 1, widths.length - 1)]!;
}

/** Why a level-1 letter cannot be used by this block, or null when it can. */
export function blockLetterProblem(settings: DirectorySettings, block: Block, code: string): string | null {
  const letter = code.charAt(0);
  if (!/^[A-Y]$/.test(letter)) return null; // enterprise codes and the like: no letter rule
  const own = settings.blockLetters[block];
  if (own.length > 0 && !own.includes(letter))
    return `level-1 letter ${letter} is not one of the ${block} block's (${own.join(', ')})`;
  for (const [other, letters] of Object.entries(settings.blockLetters))
    if (other !== block && letters.includes(letter))
      return `level-1 letter ${letter} is reserved to the ${other} block`;
  return null;
}
