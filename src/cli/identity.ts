/**
 * Who runs a mutating admin command of hubctl (issue 23): a hub user account, authenticated with the
 * same rules as the web login (UserService.authenticate: one answer for every failure, the attempt
 * reserved before the password is checked, lockout after repeated failures, every attempt audited),
 * whose role must allow the action. The audit entries of the action name that user
 * (`hubctl:<user>`), no longer the operating-system `$USER`.
 *
 * The user name: `--user NAME` or HUBCTL_USER. The password, never on the command line: the file
 * named by HUBCTL_PASSWORD_FILE, else a prompt on the terminal (not echoed), else the first line of
 * standard input (unless the command reads standard input itself, e.g. `--password-stdin`).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { HubError } from '../domain/errors.ts';
import type { Role } from '../users/types.ts';
import type { UserService } from '../users/service.ts';

let operatorName: string | undefined;

/** The global `--user` option (hubctl.ts); HUBCTL_USER otherwise. */
export function setOperatorName(name: string | undefined): void {
  operatorName = name;
}

export interface OperatorOptions {
  /** Roles allowed to run the action (default: admin). */
  readonly roles?: readonly Role[];
  /** The command reads standard input itself: the password must come from a file or the terminal. */
  readonly stdinTaken?: boolean;
}

/** The address the login throttle counts hubctl's attempts under (one per machine). */
export const hubctlAddress = (): string => `hubctl@${hostname()}`;

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          return resolve(typed);
        }
        if (ch === '\u0003') {
          finish();
          return reject(new HubError('OPERATOR_LOGIN_REQUIRED', 'password prompt cancelled'));
        }
        typed = ch === '\u007f' || ch === '\b' ? typed.slice(0, -1) : typed + ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function operatorPassword(username: string, o: OperatorOptions): Promise<string> {
  const file = process.env.HUBCTL_PASSWORD_FILE;
  if (file) {
    try {
      return readFileSync(file, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    } catch (err) {
      throw new HubError(
        'OPERATOR_LOGIN_REQUIRED',
        `HUBCTL_PASSWORD_FILE ${file} cannot be read: ${(err as Error).message}`,
      );
    }
  }
  if (process.stdin.isTTY) return promptHidden(`password of ${username}: `);
  if (o.stdinTaken)
    throw new HubError(
      'OPERATOR_LOGIN_REQUIRED',
      'this command reads standard input itself: give the password in HUBCTL_PASSWORD_FILE or on a terminal',
    );
  return readStdinLine();
}

/**
 * Authenticates the operator and checks the role; returns the audit actor (`hubctl:<user>`).
 * Throws OPERATOR_LOGIN_REQUIRED without a user name, LOGIN_FAILED / LOGIN_THROTTLED as the web
 * login does, FORBIDDEN when the role does not allow the action.
 */
export async function authenticateOperator(users: UserService, o: OperatorOptions = {}): Promise<string> {
  const username = (operatorName ?? process.env.HUBCTL_USER ?? '').trim();
  if (!username)
    throw new HubError(
      'OPERATOR_LOGIN_REQUIRED',
      'give the acting administrator with --user NAME or HUBCTL_USER',
    );
  const password = await operatorPassword(username, o);
  if (!password) throw new HubError('OPERATOR_LOGIN_REQUIRED', `no password given for ${username}`);
  const user = await users.authenticate(username, password, hubctlAddress(), 'hubctl');
  const roles = o.roles ?? ['admin'];
  if (!roles.includes(user.role))
    throw new HubError(
      'FORBIDDEN',
      `this command needs the ${roles.join(' or ')} role; ${user.username} is ${user.role}`,
    );
  return `hubctl:${user.username}`;
}
