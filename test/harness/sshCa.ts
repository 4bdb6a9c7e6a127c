// OpenSSH certificate authorities for tests: keys made and signed by the real `ssh-keygen -s` (short
// validity windows, -n principals), and a real `ssh-agent` (ssh-add puts a key's -cert.pub in it
// too). Every process is tracked and stopped by its PID.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './net';
import { spawnTracked, stopTracked } from './processes';

export type KeyKind = 'ed25519' | 'ecdsa' | 'rsa';

/** a new key pair at `file` (and file.pub), no passphrase */
export function makeKey(file: string, kind: KeyKind = 'ed25519'): string {
  execFileSync(
    'ssh-keygen',
    ['-q', '-t', kind, ...(kind === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', file, '-f', file],
    {
      stdio: 'ignore',
    },
  );
  return file;
}

export interface SignOptions {
  id?: string;
  principals?: string[];
  /** ssh-keygen -V, e.g. `-5m:+1h`, `20200101:20200102`; default `-5m:+1h` */
  validity?: string;
  host?: boolean;
  /** where the certificate goes (default: ssh-keygen's KEY-cert.pub beside the public key) */
  out?: string;
  /** the CA's signature algorithm (-t), e.g. ssh-rsa for a SHA-1 signature */
  sigAlgo?: string;
}

/** signs `pubFile` with the CA private key `ca`; returns the certificate file */
export function sign(ca: string, pubFile: string, o: SignOptions = {}): string {
  const args = ['-q', '-s', ca, '-I', o.id ?? 'test', '-V', o.validity ?? '-5m:+1h'];
  if (o.principals?.length) args.push('-n', o.principals.join(','));
  if (o.host) args.push('-h');
  if (o.sigAlgo) args.push('-t', o.sigAlgo);
  execFileSync('ssh-keygen', [...args, pubFile], { stdio: 'pipe' });
  const made = pubFile.replace(/\.pub$/, '') + '-cert.pub';
  if (o.out && o.out !== made) {
    execFileSync('mv', [made, o.out]);
    return o.out;
  }
  return made;
}

/** `TYPE BASE64` of a public key file */
export function publicLine(pubFile: string): string {
  return readFileSync(pubFile, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

export interface SshAgent {
  sock: string;
  add(key: string): void;
  stop(): Promise<void>;
}

/** a real ssh-agent on a socket in `dir` */
export async function startSshAgent(dir: string): Promise<SshAgent> {
  if (!existsSync('/usr/bin/ssh-agent'))
    throw new Error('ssh-agent is missing: install the Debian package openssh-client');
  const sock = join(dir, 'agent.sock');
  const p: ChildProcess = spawnTracked('ssh-agent', ['-D', '-a', sock]);
  await waitFor(async () => {
    if (!existsSync(sock)) throw new Error(`ssh-agent did not make ${sock}`);
  }, 10_000);
  return {
    sock,
    add: (key) => execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' }),
    stop: () => stopTracked(p),
  };
}
