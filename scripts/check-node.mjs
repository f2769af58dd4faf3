// Fails fast when the project runs on a Node other than the pinned 24 LTS, or on a 24.x older than
// the pin (older releases miss security fixes: issue 18 §6).
// `npm run` puts node_modules/.bin first on PATH, where the `node` package (24.x) lives.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve('../package.json')), 'utf8'));
const pinned = pkg.dependencies.node; // e.g. "24.21.0"
const parse = (v) => v.replace(/^v/, '').split('.').map(Number);
const [major, minor, patch] = parse(process.versions.node);
const [pMajor, pMinor, pPatch] = parse(pinned);
const older = major === pMajor && (minor < pMinor || (minor === pMinor && patch < pPatch));
if (major !== pMajor || older) {
  console.error(
    `This project runs on Node ${pinned} (24 LTS), but ${process.execPath} is ${process.version}.\n` +
      'Run it through npm (npm start / npm test), which uses the pinned node from node_modules/.bin, ' +
      'or run `npm ci` first if node_modules is missing or older than the pin.',
  );
  process.exit(1);
}
