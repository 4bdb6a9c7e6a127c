// Bearer tokens of the agents' and the LB's TCP listeners, one rule for every daemon and front end.
// A token file is of mode 0600: a daemon creates it so (written whole, then linked into place, so
// several daemons sharing one file start together safely) and refuses one that others may read, as
// ssh refuses such a private key; a client refuses it too. Clients also take the token from an
// environment variable (FLEET_AGENT_TOKEN, FLEET_LB_TOKEN).
import { placeIfAbsent } from './safeWrite';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ValidationError } from './errors';

/**
 * A secret's file, read whole: ValidationError naming the file when it is missing or readable by
 * others (as ssh refuses such a private key). `what` names it in messages (`token file`, `password file`).
 */
export function readPrivateFile(file: string, what: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ValidationError(
      file,
      '',
      `cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ValidationError(
      file,
      '',
      `${what} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  return text;
}

/** the token in `file`; ValidationError naming the file when it is missing, empty, short or readable by others */
export function readTokenFile(file: string): string {
  const token = readPrivateFile(file, 'token file').trim();
  if (token.length < 16)
    throw new ValidationError(
      file,
      '',
      `token file holds ${token ? 'a token shorter than 16 characters' : 'no token'}; delete it to have a new one made`,
    );
  return token;
}

/** a daemon's token: the one in `file`, made (0600, random) when the file does not exist */
export function ensureTokenFile(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    placeIfAbsent(file, randomBytes(32).toString('base64url') + '\n', 0o600);
  }
  return readTokenFile(file);
}

/** a client's token: from `file` when given, else the environment variable (undefined when neither) */
export function loadToken(
  file: string | undefined,
  envName: 'FLEET_AGENT_TOKEN' | 'FLEET_LB_TOKEN',
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return file ? readTokenFile(file) : env[envName] || undefined;
}
