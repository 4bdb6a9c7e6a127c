// Checks that a local program exists before Fleet relies on it (the talk's programValidation),
// and says which Debian package brings it when it does not.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { MissingProgramError } from '../errors';

/** Debian packages of the programs Fleet runs */
export const debianPackageOf: Record<string, string> = {
  ping: 'iputils-ping',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  sshd: 'openssh-server',
  ip: 'iproute2',
  haproxy: 'haproxy',
  chromium: 'chromium',
};

/** the absolute path of `name` in PATH (or `name` itself when absolute), or a MissingProgramError */
export function requireProgram(name: string, envPath = process.env.PATH ?? ''): string {
  const candidates = isAbsolute(name)
    ? [name]
    : envPath
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here; try the next directory
    }
  }
  throw new MissingProgramError(name, debianPackageOf[name] ?? name);
}
