/**
 * The mongoose models are private to src/store (issue 20): the lint rule of eslint.config.js fails
 * on an import of src/store/models.ts from anywhere else in src, and allows it inside the store.
 */
import { expect } from 'chai';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const SNIPPET = (from: string) =>
  `import type { Models } from '${from}';\nexport type Agencies = Models['Agency'];\n`;

async function problems(filePath: string, from: string): Promise<string[]> {
  // The project's own configuration; type information is not needed for this rule (and is slow).
  const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [tseslint.configs.disableTypeChecked] });
  const [r] = await eslint.lintText(SNIPPET(from), { filePath });
  return r!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint: mongoose models are private to src/store', function () {
  this.timeout(120_000);

  it('fails an import of store/models.ts from outside src/store', async () => {
    for (const [file, from] of [
      ['src/certs/service.ts', '../store/models.ts'],
      ['src/cli/commands/certs.ts', '../../store/models.ts'],
      ['src/app.ts', './store/models.ts'],
      ['src/web/index.ts', '../store/models'],
    ] as const) {
      const found = await problems(file, from);
      expect(found, file).to.have.length.greaterThan(0);
      expect(found.join('\n'), file).to.match(/no-restricted-imports: .*private to src\/store/);
    }
  });

  it('allows it inside src/store', async () => {
    expect(await problems('src/store/stores.ts', './models.ts')).to.deep.equal([]);
  });
});
