/** The hubctl command tree, one group per src/cli/commands/<group>.ts (each exports `register`). */
import { Command } from 'commander';
import { setOperatorName } from './identity.ts';
import * as audit from './commands/audit.ts';
import * as backup from './commands/backup.ts';
import * as certs from './commands/certs.ts';
import * as credentials from './commands/credentials.ts';
import * as crl from './commands/crl.ts';
import * as evidence from './commands/evidence.ts';
import * as hubcert from './commands/hubcert.ts';
import * as devpki from './commands/devpki.ts';
import * as deadletters from './commands/deadletters.ts';
import * as deliveries from './commands/deliveries.ts';
import * as migrate from './commands/migrate.ts';
import * as receipt from './commands/receipt.ts';
import * as agency from './commands/agency.ts';
import * as directory from './commands/directory.ts';
import * as systems from './commands/systems.ts';
import * as users from './commands/users.ts';
import * as peers from './commands/peers.ts';

/** Every hubctl command, registered (the README's command table is checked against it). */
export function hubctlProgram(): Command {
  const program = new Command('hubctl')
    .description('Vietnam e-document interconnection hub: administration and agency tools')
    .option('--json', 'machine-readable output')
    .option(
      '--user <name>',
      'the hub administrator running a mutating admin command (or HUBCTL_USER); password from the terminal, HUBCTL_PASSWORD_FILE or standard input',
    )
    .showHelpAfterError();
  program.hook('preAction', () => setOperatorName(program.opts<{ user?: string }>().user));
  for (const group of [audit, certs, evidence, devpki, deadletters, receipt, agency, directory, users])
    group.register(program);
  systems.register(program);
  deliveries.register(program);
  crl.register(program);
  backup.register(program);
  credentials.register(program);
  hubcert.register(program);
  migrate.register(program);
  peers.register(program);
  return program;
}
