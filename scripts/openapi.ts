/**
 * Writes the OpenAPI document of /v1, generated from the route schemas (src/http/contract), to
 * docs/openapi.json, or to stdout with `-` (`npm run -s openapi -- -`). The hub serves the same
 * document at /v1/openapi.json; test/unit/http/openapi-file.test.ts fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.ts';
import { openApiText } from '../src/http/openapi.ts';

const target = process.argv[2] ?? path.join(PROJECT_ROOT, 'docs/openapi.json');
if (target === '-') process.stdout.write(openApiText());
else {
  writeFileSync(target, openApiText());
  console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
}
