// Fails fast when the project runs on a Node other than the pinned 24 LTS.
// `npm run` puts node_modules/.bin first on PATH, where the `node` package (24.x) lives.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `This project runs on Node 24 LTS, but ${process.execPath} is ${process.version}.\n` +
      'Run it through npm (npm start / npm test), which uses the pinned node from node_modules/.bin, ' +
      'or run `npm ci` first if node_modules is missing.',
  );
  process.exit(1);
}
