// What Fleet resolved for a host, in `ssh -G`'s format and order (readconf.c's dump_client_config):
// one `keyword value` line per keyword Fleet reads a value of, so `fleet ssh-config HOST` can be
// diffed against `ssh -G HOST` line for line (ssh prints more keywords: the ones Fleet does not use).
import type { ResolvedSsh } from './sshConfig';

/** the keywords printed, in ssh -G's order */
export const dumpedKeywords = [
  'host',
  'user',
  'hostname',
  'port',
  'canonicalizehostname',
  'identitiesonly',
  'stricthostkeychecking',
  'connectionattempts',
  'serveralivecountmax',
  'serveraliveinterval',
  'hostkeyalias',
  'identityagent',
  'identityfile',
  'certificatefile',
  'globalknownhostsfile',
  'userknownhostsfile',
  'connecttimeout',
  'proxycommand',
  'proxyjump',
];

export function dumpResolved(r: ResolvedSsh): string {
  const out: string[] = [
    `host ${r.host}`,
    `user ${r.user}`,
    `hostname ${r.hostname}`,
    `port ${r.port}`,
    `canonicalizehostname ${r.canonicalizeHostname}`,
    `identitiesonly ${r.identitiesOnly ? 'yes' : 'no'}`,
    `stricthostkeychecking ${r.strictHostKeyChecking}`,
    `connectionattempts ${r.connectionAttempts}`,
    `serveralivecountmax ${r.serverAliveCountMax}`,
    `serveraliveinterval ${r.serverAliveIntervalSecs}`,
  ];
  if (r.hostKeyAlias !== undefined) out.push(`hostkeyalias ${r.hostKeyAlias}`);
  if (r.identityAgent !== undefined) out.push(`identityagent ${r.identityAgent}`);
  for (const f of r.identityFiles) out.push(`identityfile ${f}`);
  for (const f of r.certificateFiles) out.push(`certificatefile ${f}`);
  out.push(`globalknownhostsfile ${r.globalKnownHostsFiles.join(' ') || 'none'}`);
  out.push(`userknownhostsfile ${r.userKnownHostsFiles.join(' ') || 'none'}`);
  out.push(`connecttimeout ${r.connectTimeoutSecs ?? 'none'}`);
  if (r.proxyJump !== undefined) out.push(`proxyjump ${r.proxyJump}`);
  else if (r.proxyCommand !== undefined) out.push(`proxycommand ${r.proxyCommand}`);
  return out.map((l) => `${l}\n`).join('');
}
