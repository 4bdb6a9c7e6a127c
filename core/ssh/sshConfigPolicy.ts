// What Fleet does with each ssh_config keyword it reads (README lists the same, keyword by keyword):
// - honoured: it changes where, as whom and how Fleet connects, as it changes ssh's connection;
// - refused: it would change where Fleet connects or what it trusts, and Fleet cannot do it, so a host
//   it applies to is refused with the file and line instead of reached some other way (a value that
//   asks for what Fleet does anyway, `AddressFamily any` say, is fine);
// - everything else is read, checked as ssh checks it, and has no effect: it is about things Fleet
//   never does (forwarding, X11, terminals, control masters, logging, escape characters, sending the
//   environment, local commands), or makes ssh trust more than Fleet ever does (VerifyHostKeyDNS,
//   NoHostAuthenticationForLocalhost).

/** keywords whose value the connection uses */
export const honoured = [
  'host',
  'match',
  'include',
  'ignoreunknown',
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'certificatefile',
  'proxyjump',
  'proxycommand',
  'connecttimeout',
  'serveraliveinterval',
  'serveralivecountmax',
  'connectionattempts',
  'hostkeyalias',
  'stricthostkeychecking',
  'userknownhostsfile',
  'globalknownhostsfile',
  'identityagent',
  'refuseconnection',
];

const algorithmLists = [
  'ciphers',
  'macs',
  'kexalgorithms',
  'hostkeyalgorithms',
  'pubkeyacceptedalgorithms',
  'casignaturealgorithms',
];

/** keyword → why a value is refused, or null when Fleet can honour it as it is */
export const refusals: Record<string, (value: string) => string | null> = {
  canonicalizehostname: (v) =>
    v === 'false'
      ? null
      : 'Fleet does not canonicalize host names (it would resolve them through DNS with CanonicalDomains); name the host by its full name, or set CanonicalizeHostname no for it',
  addressfamily: (v) =>
    v === 'any'
      ? null
      : `Fleet cannot restrict a connection to ${v} (AddressFamily); name the host by an address of that family`,
  bindaddress: () => 'Fleet cannot choose the local address of a connection (BindAddress)',
  bindinterface: () => 'Fleet cannot choose the local interface of a connection (BindInterface)',
  proxyusefdpass: (v) =>
    v === 'no'
      ? null
      : 'Fleet cannot take a connection passed as a file descriptor by the ProxyCommand (ProxyUseFdpass)',
  knownhostscommand: (v) =>
    v.toLowerCase() === 'none'
      ? null
      : 'Fleet does not run a KnownHostsCommand (it would execute a command from the config); pin the host keys in known_hosts',
  revokedhostkeys: (v) =>
    v.toLowerCase() === 'none'
      ? null
      : 'Fleet does not read a RevokedHostKeys file; mark revoked keys @revoked in known_hosts',
  requiredrsasize: (v) =>
    Number(v) <= 1024 ? null : `Fleet cannot refuse RSA keys shorter than ${v} bits (RequiredRSASize)`,
  refuseconnection: (v) => (v === 'yes' ? 'the config refuses connections to this host (RefuseConnection yes)' : null),
  ...Object.fromEntries(
    algorithmLists.map((k) => [
      k,
      (v: string) =>
        v.startsWith('+') || v.startsWith('^')
          ? null
          : `Fleet negotiates algorithms from its own list and cannot ${v.startsWith('-') ? 'remove' : 'restrict it to'} ${v.replace(/^-/, '')} (${k}); an added (+) or preferred (^) list is fine`,
    ]),
  ),
};

/**
 * Keywords resolved and carried on the SshEndpoint whose value the connection does not act on yet:
 * where the value asks for something other than what Fleet does, Fleet says so (once per line), and
 * goes on the way it would without it. Each returns the note, or null when Fleet does that anyway.
 * (`values`: the setting's values, ~ and tokens expanded; `home`: the user's home.) None today: the
 * known-hosts files, StrictHostKeyChecking, IdentityAgent, ConnectionAttempts and ServerAliveCountMax
 * are acted on (hostKeyPolicy.ts, knownHostsFiles.ts, auth.ts, pool.ts, connect.ts).
 */
export const notActedOn: Record<string, (values: string[], home: string) => string | null> = {};
