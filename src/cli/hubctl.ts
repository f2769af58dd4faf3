/**
 * hubctl: the hub's command line for administrators and agency systems.
 * Each command group lives in src/cli/commands/<group>.ts and exports `register(program)`.
 */
import { hubctlProgram } from './program.ts';
import { reportError } from './errors.ts';

const program = hubctlProgram();

// Failures print the code, the reason and a hint of what to do, then exit with the documented code.
program.parseAsync(process.argv).catch((err: unknown) => {
  reportError(err, program.opts<{ json?: boolean }>().json === true);
});
