// ProxyCommand: the connection runs over a command's stdin and stdout, as OpenSSH runs it
// (sshconnect.c): the rest of the config line as written, quotes and all, tokens expanded
// (core/targets/resolve.ts), with `exec ` in front, handed to the user's shell (`$SHELL -c`, else
// /bin/sh -c); its stderr goes to the log. This is how fleets behind AWS SSM, GCP IAP, Azure Bastion,
// Cloudflare Access or Teleport are reached. The host key is still checked (the transport changes,
// not the trust); the command ends with the connection. On Windows it runs under cmd.exe as written.
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';

export interface ProxyProcess {
  sock: Duplex;
  child: ChildProcess;
  /** the last stderr lines, for an error message when the command fails */
  stderrTail(): string;
  kill(): void;
}

/** the program and arguments ssh would run for `command` */
export function proxyArgv(
  command: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): [string, string[]] {
  if (platform === 'win32') return [env.ComSpec ?? 'cmd.exe', ['/d', '/s', '/c', command]];
  return [env.SHELL || '/bin/sh', ['-c', `exec ${command}`]];
}

export function startProxyCommand(
  command: string,
  log?: (line: string) => void,
  platform: NodeJS.Platform = process.platform,
): ProxyProcess {
  const [file, args] = proxyArgv(command, platform);
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    tail = (tail + d).slice(-2000);
    for (const line of d.split('\n')) if (line.trim()) log?.(`ProxyCommand: ${line}`);
  });
  const sock = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  // ssh2 treats its sock like a socket: these keep it from tripping over a stream
  Object.assign(sock, { setNoDelay: () => sock, setKeepAlive: () => sock, setTimeout: () => sock });
  child.on('error', (e) => sock.destroy(e));
  child.on('exit', (code, signal) => {
    if (!sock.destroyed)
      sock.destroy(
        new Error(
          `ProxyCommand exited (${signal ?? `code ${code}`})${tail ? `: ${tail.trim().split('\n').at(-1)}` : ''}`,
        ),
      );
  });
  return {
    sock,
    child,
    stderrTail: () => tail.trim(),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
