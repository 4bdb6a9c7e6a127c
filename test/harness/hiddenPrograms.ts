// A server that must not see some programs of this machine (no node, no sftp-server) runs in a
// mount namespace of its own in which each of them is /dev/null: present, but nothing can run it.
// Processes it starts (login sessions, a detached agent) inherit the namespace.
import { existsSync, realpathSync } from 'node:fs';

/** argv to put before a server's own: `unshare --mount` and a bind mount of /dev/null over each path */
export function hidingWrapper(paths: string[]): string[] {
  const real = [...new Set(paths.filter((p) => existsSync(p)).map((p) => realpathSync(p)))];
  if (!real.length) throw new Error(`none of ${paths.join(', ')} exists here: nothing to hide`);
  const mounts = real.map((_, i) => `mount --bind /dev/null "$${i + 1}"`).join(' && ');
  return ['unshare', '--mount', '--', 'sh', '-c', `${mounts} && shift ${real.length} && exec "$@"`, 'sh', ...real];
}

/** every `node` a login shell could find in a standard PATH, and the one running the tests */
export function nodeBinaries(): string[] {
  const dirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  return [process.execPath, ...dirs.flatMap((d) => [`${d}/node`, `${d}/nodejs`])].filter((p) => existsSync(p));
}
