// The bearer token of an agent reached over http://: from a token file, else FLEET_AGENT_TOKEN.
// One rule for every front end. A token file that others may read is refused, as ssh refuses such a
// private key: the token gives whoever reads it the agent's powers.
import { readFileSync, statSync } from 'node:fs';
import { ValidationError } from '../errors';

/** the token in `file`; ValidationError naming the file when it is missing, empty or readable by others */
export function readTokenFile(file: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ValidationError(
      file,
      '',
      `cannot read token file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ValidationError(
      file,
      '',
      `token file is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  const token = text.trim();
  if (!token) throw new ValidationError(file, '', 'token file is empty');
  return token;
}

/** the token from `file` when given, else from the environment's FLEET_AGENT_TOKEN (undefined when neither) */
export function loadAgentToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return file ? readTokenFile(file) : env.FLEET_AGENT_TOKEN || undefined;
}
