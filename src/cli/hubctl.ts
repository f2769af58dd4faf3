/**
 * hubctl: the hub's command line for administrators and agency systems.
 * Each command group lives in src/cli/commands/<group>.ts and exports `register(program)`.
 */
import { Command } from 'commander';
import { HubError } from '../domain/errors.ts';
import { EXIT } from './context.ts';
import * as audit from './commands/audit.ts';
import * as certs from './commands/certs.ts';
import * as evidence from './commands/evidence.ts';
import * as devpki from './commands/devpki.ts';
import * as deadletters from './commands/deadletters.ts';
import * as receipt from './commands/receipt.ts';
import * as agency from './commands/agency.ts';
import * as directory from './commands/directory.ts';

const program = new Command('hubctl')
  .description('Vietnam e-document interconnection hub: administration and agency tools')
  .option('--json', 'machine-readable output')
  .showHelpAfterError();

for (const group of [audit, certs, evidence, devpki, deadletters, receipt, agency, directory])
  group.register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const json = program.opts<{ json?: boolean }>().json;
  if (err instanceof HubError) {
    if (json) console.log(JSON.stringify({ ok: false, code: err.code, message: err.message }));
    else console.error(`hubctl: ${err.code}: ${err.message}`);
    process.exit(EXIT.REFUSED);
  }
  console.error(`hubctl: ${(err as Error).message}`);
  process.exit(EXIT.FAILURE);
});
