// One host's resolution, as it is built (the Store: the first value obtained wins, IdentityFile and
// CertificateFile add up) and as it ends (ResolvedSsh: what `ssh -G` prints, with OpenSSH's defaults and
// checks after the passes: the keywords Fleet refuses, ConnectionAttempts, a jump host loop, the known
// hosts files and agent expanded, the values the connection does not act on yet said).
import { notActedOn, refusals } from './sshConfigPolicy';
import { storedAs, type Parsed } from './sshConfigKeywords';
import type { Line } from './sshConfigSyntax';
import {
  clientTokens,
  originError,
  percentExpand,
  tildeExpand,
  type LocalContext,
  type Origin,
} from './sshConfigTokens';
import { parseJumpList, type UserHostPort } from './sshConfigValues';

/** a host's settings, as `ssh -G` reports them (IdentityFile, CertificateFile, ProxyCommand unexpanded) */
export interface ResolvedSsh {
  /** the name that was asked for */
  host: string;
  /** the name connected to: HostName's, lower-cased (an address in its canonical form) */
  hostname: string;
  user: string;
  port: number;
  /** command-line identities first, then the config's; OpenSSH's default list when neither names one */
  identityFiles: string[];
  /** the config or the command line named identity files (else the defaults, which may be absent) */
  identityFilesGiven: boolean;
  certificateFiles: string[];
  identitiesOnly: boolean;
  /** ProxyJump as ssh -G prints it */
  proxyJump?: string;
  /** its hops, in the order they are connected */
  jumpHops?: UserHostPort[];
  proxyCommand?: string;
  connectTimeoutSecs?: number;
  serverAliveIntervalSecs: number;
  serverAliveCountMax: number;
  connectionAttempts: number;
  /** lower-cased, as ssh uses it */
  hostKeyAlias?: string;
  /** as ssh -G prints it: true (yes), false (no, off), ask, accept-new */
  strictHostKeyChecking: 'true' | 'false' | 'ask' | 'accept-new';
  /** ~, tokens and ${VAR} expanded ("none" alone: no file) */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** ~, tokens and ${VAR} expanded; "none" and "SSH_AUTH_SOCK" as they are */
  identityAgent?: string;
  canonicalizeHostname: string;
  /** where the values came from, by keyword, for messages (IdentityFile: each file's) */
  origins: Record<string, Origin>;
  identityOrigins: Origin[];
  certificateOrigins: Origin[];
}

const defaultIdentities = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

export type Entry = { value: string; origin: Origin };
export interface Store {
  one: Map<string, Entry>;
  lists: Map<string, { values: string[]; origin: Origin }>;
  /** IdentityFile, CertificateFile: value, and whether the user gave it (command line, user config) */
  add: Map<string, Array<{ value: string; user: boolean; origin: Origin }>>;
  wantFinal: boolean;
}

export function newStore(): Store {
  return { one: new Map(), lists: new Map(), add: new Map(), wantFinal: false };
}

export function resolvedFrom(
  st: Store,
  host: string,
  hostname: string,
  local: LocalContext,
  warn: (w: string) => void,
): ResolvedSsh {
  const one = (k: string) => st.one.get(k)?.value;
  const origins: Record<string, Origin> = {};
  for (const [k, e] of st.one) origins[k] = e.origin;
  for (const [k, e] of st.lists) origins[k] = e.origin;
  for (const [k, v] of Object.entries(refusals)) {
    const e = st.one.get(k);
    const why = e && v(e.value);
    if (why) throw originError(e.origin, why);
  }
  const user = one('user') ?? local.localUser;
  const port = Number(one('port') ?? 22);
  const jumpText = one('proxyjump');
  const jump = jumpText && jumpText.toLowerCase() !== 'none' ? parseJumpList(jumpText) : null;
  const proxyCommand = one('proxycommand');
  const ids = st.add.get('identityfile') ?? [];
  const certs = st.add.get('certificatefile') ?? [];
  const attempts = Number(one('connectionattempts') ?? 1);
  if (attempts <= 0)
    throw originError(st.one.get('connectionattempts')!.origin, 'Invalid number of ConnectionAttempts');
  if (jump && typeof jump === 'object') {
    const last = jump.hops[jump.hops.length - 1];
    if (last.host === hostname && (last.port > 0 ? last.port : 22) === port && (last.user ?? user) === user)
      throw originError(st.one.get('proxyjump')!.origin, `jumphost loop via ${last.host}`);
  }
  const alias = one('hostkeyalias')?.toLowerCase();
  const tokens = clientTokens({ host: hostname, original: host, port, user, keyAlias: alias ?? host }, local);
  const expandPath = (p: string, o: Origin) =>
    percentExpand(tildeExpand(p, local, o), tokens, o, { dollar: true, env: local.env });
  const userKh = st.lists.get('userknownhostsfile');
  const userKnownHostsFiles = userKh
    ? userKh.values.map((p) => (p.toLowerCase() === 'none' ? p : expandPath(p, userKh.origin)))
    : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'].map((p) =>
        expandPath(p, { file: 'ssh', lineNo: 0, keyword: 'UserKnownHostsFile' }),
      );
  const agent = st.one.get('identityagent');
  const agentPath = agent && expandPath(agent.value, agent.origin);
  // values carried to the connection that it does not act on yet: said, where they ask for something else
  for (const [k, note] of Object.entries(notActedOn)) {
    const o = origins[k];
    if (!o) continue;
    const values =
      k === 'userknownhostsfile'
        ? userKnownHostsFiles
        : k === 'identityagent'
          ? [agentPath!]
          : (st.lists.get(k)?.values ?? [st.one.get(k)!.value]);
    const why = note(values, local.home);
    if (why) warn(`${o.file} line ${o.lineNo}: ${o.keyword} is not used by Fleet yet: ${why}`);
  }
  return {
    host,
    hostname,
    user,
    port,
    identityFiles: ids.length ? ids.map((i) => i.value) : defaultIdentities.map((n) => `~/.ssh/${n}`),
    identityFilesGiven: ids.length > 0,
    certificateFiles: certs.map((c) => c.value),
    identitiesOnly: one('identitiesonly') === 'yes',
    proxyJump: jump && typeof jump === 'object' ? jump.display : undefined,
    jumpHops: jump && typeof jump === 'object' ? jump.hops : undefined,
    proxyCommand: !jump && proxyCommand && proxyCommand.toLowerCase() !== 'none' ? proxyCommand : undefined,
    connectTimeoutSecs: one('connecttimeout') === undefined ? undefined : Number(one('connecttimeout')),
    serverAliveIntervalSecs: Number(one('serveraliveinterval') ?? 0),
    serverAliveCountMax: Number(one('serveralivecountmax') ?? 3),
    connectionAttempts: attempts,
    hostKeyAlias: alias,
    strictHostKeyChecking: (one('stricthostkeychecking') ?? 'ask') as ResolvedSsh['strictHostKeyChecking'],
    userKnownHostsFiles,
    globalKnownHostsFiles: st.lists.get('globalknownhostsfile')?.values ?? [
      '/etc/ssh/ssh_known_hosts',
      '/etc/ssh/ssh_known_hosts2',
    ],
    identityAgent: agentPath,
    canonicalizeHostname: one('canonicalizehostname') ?? 'false',
    origins,
    identityOrigins: ids.map((i) => i.origin),
    certificateOrigins: certs.map((c) => c.origin),
  };
}

export function addFile(st: Store, k: string, value: string, user: boolean, origin: Origin): void {
  const list = st.add.get(k) ?? [];
  if (!list.some((x) => x.value === value && x.user === user)) list.push({ value, user, origin });
  st.add.set(k, list);
}

/** an active line's value into the store: the first value obtained wins */
export function apply(st: Store, l: Line, r: Parsed, userConfig: boolean): void {
  const k = storedAs(l.keyword);
  const origin: Origin = { file: l.file, lineNo: l.lineNo, keyword: l.keyword };
  switch (r.kind) {
    case 'one':
    case 'command':
      // a ProxyJump came first (ProxyJump none keeps a later ProxyCommand, as ssh 9.2 does)
      if (k === 'proxycommand' && (st.one.get('proxyjump')?.value.toLowerCase() ?? 'none') !== 'none') return;
      if (!st.one.has(k)) st.one.set(k, { value: r.value, origin });
      return;
    case 'jump':
      if (!st.one.has('proxycommand') && !st.one.has('proxyjump')) st.one.set(k, { value: r.value, origin });
      return;
    case 'list':
      if (!st.lists.has(k)) st.lists.set(k, { values: r.values, origin });
      return;
    case 'add':
      return addFile(st, k, r.value, userConfig, origin);
    default:
      return;
  }
}
