/** The README's hubctl table names every command hubctl has (leaf commands, as `group sub` or `sub`). */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { hubctlProgram } from '../../../src/cli/program.ts';

function leaves(c: Command, prefix: string[] = []): string[] {
  const here = c.parent ? [...prefix, c.name()] : prefix;
  return c.commands.length ? c.commands.flatMap((s) => leaves(s, here)) : [here.join(' ')];
}

describe('README: the hubctl command table', () => {
  it('lists every hubctl command', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## hubctl'), readme.indexOf('## Agency SDK'));
    const missing = leaves(hubctlProgram()).filter((cmd) => !table.includes('`' + cmd));
    expect(missing).to.deep.equal([]);
  });
});
