// ssh_config's expansions as OpenSSH 9.2 applies them: `~` and `~user` at the start of a path (the
// user's home from the password file), `%` tokens (each keyword takes its own set; an unknown one is
// an error, as ssh makes it), and `${VAR}` from the environment (a variable that is not set is an
// error). The errors name the keyword's file and line.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ValidationError } from '../errors';

/** what the expansions need of this machine (injected in tests, and for other platforms) */
export interface LocalContext {
  home: string;
  localUser: string;
  localHost: string;
  /** the local user's uid (%i) */
  uid?: number;
  /** the environment ${VAR} reads (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** a user's home directory for ~user (default: /etc/passwd) */
  homeOf?: (user: string) => string | undefined;
}

/** where a value came from, for messages: `~/.ssh/config line 12: IdentityFile` */
export interface Origin {
  file: string;
  lineNo: number;
  keyword: string;
}

export function originError(o: Origin, message: string): ValidationError {
  return new ValidationError(o.file, `line ${o.lineNo}: ${o.keyword}`, message);
}

/** the values of the client's tokens for one host (ssh.c's conn_info) */
export interface TokenValues {
  /** %h: the host name connected to */
  host: string;
  /** %n: the name as given */
  original: string;
  port: number;
  /** %r */
  user: string;
  /** %k: HostKeyAlias, else the name as given */
  keyAlias: string;
}

/** ssh.c's default_client_percent_expand tokens: %C %L %i %k %l %n %p %d %h %r %u (and %%) */
export function clientTokens(v: TokenValues, local: LocalContext): Record<string, string> {
  const short = local.localHost.split('.')[0];
  return {
    C: createHash('sha1').update(`${local.localHost}${v.host}${v.port}${v.user}`).digest('hex'),
    L: short,
    i: String(local.uid ?? process.getuid?.() ?? 0),
    k: v.keyAlias,
    l: local.localHost,
    n: v.original,
    p: String(v.port),
    d: local.home,
    h: v.host,
    r: v.user,
    u: local.localUser,
  };
}

/** misc.c's percent_expand (and with `dollar`, ${VAR} too); throws at an unknown token or variable */
export function percentExpand(
  s: string,
  tokens: Record<string, string>,
  origin: Origin,
  opts: { dollar?: boolean; env?: NodeJS.ProcessEnv } = {},
): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (opts.dollar && s[i] === '$' && s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      if (end < 0) throw originError(origin, `environment variable '${s.slice(i + 2)}' missing closing '}'`);
      const name = s.slice(i + 2, end);
      if (name === '') throw originError(origin, 'zero-length environment variable');
      const value = (opts.env ?? process.env)[name];
      if (value === undefined) throw originError(origin, `\${${name}} is not set in the environment`);
      out += value;
      i = end;
      continue;
    }
    if (s[i] !== '%') {
      out += s[i];
      continue;
    }
    const k = s[++i];
    if (k === '%') out += '%';
    else if (k === undefined) throw originError(origin, `a lone % at the end of ${JSON.stringify(s)}`);
    else if (Object.hasOwn(tokens, k)) out += tokens[k];
    else
      throw originError(
        origin,
        `unknown token %${k} in ${JSON.stringify(s)} (here: ${Object.keys(tokens)
          .map((t) => `%${t}`)
          .join(' ')} %%)`,
      );
  }
  return out;
}

let passwd: Map<string, string> | null = null;

/** a user's home from /etc/passwd (Linux, the BSDs); undefined when the user is not there */
function passwdHome(user: string): string | undefined {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length >= 6) passwd.set(f[0], f[5]);
      }
    } catch {
      // no password file (Windows)
    }
  }
  return passwd.get(user);
}

/** misc.c's tilde_expand: `~`, `~/path`, `~user`, `~user/path`; other paths as they are */
export function tildeExpand(path: string, local: LocalContext, origin: Origin): string {
  if (!path.startsWith('~')) return path;
  const slash = path.indexOf('/');
  const user = path.slice(1, slash < 0 ? undefined : slash);
  const rest = slash < 0 ? '' : path.slice(slash + 1).replace(/^\/+/, '');
  let home = local.home;
  if (user !== '') {
    const h = (local.homeOf ?? passwdHome)(user);
    if (h === undefined) throw originError(origin, `~${user}: no such user`);
    home = h;
  }
  return home.endsWith('/') || home === '' ? `${home}${rest}` : `${home}/${rest}`;
}

/**
 * A path as ssh expands IdentityFile: `~` or `~user`, then the client's % tokens and ${VAR} (for an
 * inventory's identityFile, and other paths given outside ssh_config).
 */
export function expandTokens(
  value: string,
  r: { host: string; hostname: string; port: number; user: string; hostKeyAlias?: string },
  local: LocalContext,
  origin: Origin = { file: 'a path', lineNo: 0, keyword: value },
): string {
  const tokens = clientTokens(
    { host: r.hostname, original: r.host, port: r.port, user: r.user, keyAlias: r.hostKeyAlias ?? r.host },
    local,
  );
  return percentExpand(tildeExpand(value, local, origin), tokens, origin, { dollar: true, env: local.env });
}
