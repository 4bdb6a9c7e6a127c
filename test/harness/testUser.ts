// Local users for tests that need another account (a login shell other than root's, a home of its
// own for ssh's ~): made with useradd (as root) and removed afterwards, with their home. A user's
// login can be made to talk as real ones do (rc files that write to stdout and stderr, a slow rc
// file, a home directory that does not exist).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestUser {
  name: string;
  home: string;
  uid: number;
  gid: number;
  /** lets the holder of private key `clientKey` log in (its .pub into the user's authorized_keys) */
  authorize(clientKey: string): void;
  /** writes `text` to a file in the user's home (an rc file: `.bashrc`, `.profile`), owned by the user */
  writeHomeFile(name: string, text: string): string;
  /** points the user's home at `dir` in the password file (a dir that does not exist: "Could not chdir") */
  moveHome(dir: string): void;
  remove(): void;
}

/**
 * a user named `name` and this process's tag, with `shell` and a fresh home (an existing user of that
 * name is replaced): the tag keeps two test runs on one machine from replacing each other's users
 */
export function createTestUser(base: string, shell = '/bin/sh'): TestUser {
  const name = `${base}${process.pid.toString(36)}`;
  removeUser(name);
  const parent = mkdtempSync(join(tmpdir(), `home-${name}-`));
  chmodSync(parent, 0o755); // the user must reach its home
  const home = join(parent, name);
  try {
    execFileSync('useradd', ['-M', '-d', home, '-s', shell, name], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `cannot create the test user ${name} (the tests run as root, with useradd from the Debian package passwd): ${(e as Error).message}`,
    );
  }
  // no password, but not locked: sshd without PAM refuses a locked account even for key logins
  execFileSync('usermod', ['-p', '*', name], { stdio: 'pipe' });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  chownSync(home, uid, gid);
  chownSync(join(home, '.ssh'), uid, gid);
  return {
    name,
    home,
    uid,
    gid,
    authorize(clientKey: string) {
      const auth = join(home, '.ssh', 'authorized_keys');
      writeFileSync(auth, readFileSync(clientKey + '.pub'), { mode: 0o600 });
      chownSync(auth, uid, gid);
    },
    writeHomeFile(file: string, text: string) {
      const path = join(home, file);
      writeFileSync(path, text, { mode: 0o644 });
      chownSync(path, uid, gid);
      return path;
    },
    moveHome(dir: string) {
      execFileSync('usermod', ['-d', dir, name], { stdio: 'pipe' });
    },
    remove: () => removeUser(name),
  };
}

/** ends the user's processes (a test that failed may have left one), then removes the user */
function removeUser(name: string): void {
  for (const cmd of [
    ['pkill', '-KILL', '-u', name],
    ['userdel', name],
  ]) {
    try {
      execFileSync(cmd[0], cmd.slice(1), { stdio: 'ignore' });
    } catch {
      // no such user, no process
    }
  }
}
