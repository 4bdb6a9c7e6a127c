// Quoting for the remote POSIX shell: sshd runs a command through the user's shell, so argv
// must be joined into one string in which each argument stays one word, whatever it holds.

const safe = /^[A-Za-z0-9_\-+=.,/:@%^]+$/;

export function shellQuote(arg: string): string {
  if (arg !== '' && safe.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `['echo', 'a; b']` -> `echo 'a; b'` */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
