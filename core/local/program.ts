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

/**
 * The absolute path of `name` in PATH (or `name` itself when absolute), or a MissingProgramError.
 * On Windows each PATHEXT extension is tried (ping is ping.EXE there).
 */
export function requireProgram(
  name: string,
  envPath = process.env.PATH ?? '',
  platform: NodeJS.Platform = process.platform,
  pathExt = process.env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD',
): string {
  const exts = platform === 'win32' ? ['', ...pathExt.split(';').filter(Boolean)] : [''];
  const sep = platform === 'win32' ? ';' : delimiter;
  const candidates = (
    isAbsolute(name)
      ? [name]
      : envPath
          .split(sep)
          .filter(Boolean)
          .map((dir) => join(dir, name))
  ).flatMap((f) => exts.map((e) => f + e));
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
