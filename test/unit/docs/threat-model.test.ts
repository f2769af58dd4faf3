/**
 * docs/threat-model.md maps every threat to the tests that prove its mitigation. This test keeps
 * the map honest: every threat the hub must answer has a section, every section names at least one
 * test, and every named test file exists and still contains the named test.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/config.ts';

interface TestRef {
  readonly file: string;
  readonly title: string | undefined;
}

interface Threat {
  readonly id: string;
  readonly heading: string;
  readonly body: string;
  readonly tests: TestRef[];
}

// The threats issue 18 §7 names, in the order the document lists them.
const REQUIRED = [
  'forged sender',
  'forged hub artefacts',
  'replay',
  'wrapping',
  'XXE',
  'IDOR',
  'insider administrator',
  'stolen DMS credential',
  'stolen agency key',
  'revocation lag',
  'compromised hub operator',
];

const TEST_REF = /^- `(test\/[^`]+\.test\.ts)`(?:: "(.+)")?$/;

export function parseThreatModel(markdown: string): Threat[] {
  const threats: Threat[] = [];
  for (const section of markdown.split(/^## /m).slice(1)) {
    const heading = section.slice(0, section.indexOf('\n')).trim();
    const m = /^(T\d+)\. /.exec(heading);
    if (!m) continue;
    const tests: TestRef[] = [];
    for (const line of section.split('\n')) {
      const ref = TEST_REF.exec(line.trim());
      if (ref) tests.push({ file: ref[1]!, title: ref[2] });
    }
    threats.push({ id: m[1]!, heading, body: section, tests });
  }
  return threats;
}

describe('threat model (docs/threat-model.md)', () => {
  const threats = parseThreatModel(readFileSync(path.join(PROJECT_ROOT, 'docs/threat-model.md'), 'utf8'));

  it('has a section for every threat the hub must answer', () => {
    const headings = threats.map((t) => t.heading.toLowerCase());
    for (const name of REQUIRED) {
      expect(
        headings.some((h) => h.includes(name.toLowerCase())),
        `no section for "${name}"`,
      ).to.equal(true);
    }
  });

  it('names a mitigation and at least one test for every threat', () => {
    for (const t of threats) {
      expect(t.body, `${t.id} has no mitigation`).to.match(/\*\*Mitigation/);
      expect(t.tests.length, `${t.id} names no test`).to.be.greaterThan(0);
    }
  });

  it('names only test files that exist, and tests that are still in them', () => {
    const missing: string[] = [];
    for (const t of threats) {
      for (const ref of t.tests) {
        const file = path.join(PROJECT_ROOT, ref.file);
        if (!existsSync(file)) {
          missing.push(`${t.id}: ${ref.file} does not exist`);
          continue;
        }
        if (ref.title && !readFileSync(file, 'utf8').includes(ref.title))
          missing.push(`${t.id}: ${ref.file} has no test "${ref.title}"`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('reads a test reference as its file and its title', () => {
    const [t] = parseThreatModel(
      '## T1. Forged sender\n**Mitigation.** x\n- `test/unit/nope.test.ts`: "x"\n',
    );
    expect(t!.tests).to.deep.equal([{ file: 'test/unit/nope.test.ts', title: 'x' }]);
    expect(existsSync(path.join(PROJECT_ROOT, t!.tests[0]!.file))).to.equal(false);
  });
});
