// Every keyword OpenSSH 9.2's ssh_config knows, with how its arguments are read and checked, as
// readconf.c does. A line ssh would refuse ("Bad configuration option", "unsupported option",
// "invalid time value", "Bad port", "extra arguments at end of line", …) gets the same refusal here,
// wherever it is (ssh checks the lines of blocks that do not apply too). What a keyword does for a
// connection is decided elsewhere (sshConfig.ts applies, sshConfigPolicy.ts says what Fleet honours).
import type { Line } from './sshConfigSyntax';
import { a2port, atoiErr, convtime, parseJumpList, strtonum } from './sshConfigValues';

/** a value read from a line: what ssh stores, in the form `ssh -G` prints it */
export type Parsed =
  | { kind: 'one'; value: string }
  | { kind: 'unset' } // `none` for a time: ssh stores "unset", so a later line may still set it
  | { kind: 'list'; values: string[] }
  | { kind: 'add'; value: string } // IdentityFile, CertificateFile: each active line adds one
  | { kind: 'jump'; value: string } // ProxyJump's text (checked), or none
  | { kind: 'command'; value: string } // the rest of the line as written
  | { kind: 'block' } // Host, Match, Include: sshConfig.ts handles them
  | { kind: 'nothing' }; // read and not kept (deprecated, unsupported, ignored)

type Reader = (l: Line) => Parsed | string;

const flagValues: Record<string, string> = { true: 'yes', false: 'no', yes: 'yes', no: 'no' };

/** one argument from a table of words (case-insensitive), printed as ssh -G prints it */
function multi(table: Record<string, string>): Reader {
  return (l) => {
    const a = l.args[0];
    if (a === undefined || a === '') return 'missing argument.';
    const v = table[a.toLowerCase()];
    if (v === undefined) return `unsupported option "${a}".`;
    return one(l, v);
  };
}

/** the value, unless more arguments follow it */
function one(l: Line, value: string, used = 1): Parsed | string {
  if (l.args.length > used) return `keyword ${l.keyword} extra arguments at end of line`;
  return { kind: 'one', value };
}

const flag = multi(flagValues);

const time: Reader = (l) => {
  const a = l.args[0];
  if (a === undefined || a === '') return 'missing time value.';
  if (a === 'none')
    return l.args.length > 1 ? `keyword ${l.keyword} extra arguments at end of line` : { kind: 'unset' };
  const v = convtime(a);
  if (v === null) return 'invalid time value.';
  return one(l, String(v));
};

const int: Reader = (l) => {
  const v = atoiErr(l.args[0]);
  return typeof v === 'string' ? `integer value ${v}.` : one(l, String(v));
};

const str: Reader = (l) => (l.args[0] ? one(l, l.args[0]) : 'Missing argument.');

/** a keyword ssh reads but whose value Fleet does not check beyond its count */
function words(min: number, max: number): Reader {
  return (l) => {
    if (l.args.length < min || l.args.some((a) => a === '')) return 'Missing argument.';
    if (l.args.length > max) return `keyword ${l.keyword} extra arguments at end of line`;
    return { kind: 'nothing' };
  };
}

/** GlobalKnownHostsFile, UserKnownHostsFile, LogVerbose: a list, `none` only alone */
const strList: Reader = (l) => {
  if (l.args.some((a) => a === '')) return `keyword ${l.keyword} empty argument`;
  if (l.args.length > 1 && l.args.some((a) => a.toLowerCase() === 'none'))
    return `keyword ${l.keyword} "none" argument must appear alone.`;
  return { kind: 'list', values: l.args };
};

const port: Reader = (l) => {
  const a = l.args[0];
  if (!a) return 'Missing argument.';
  const p = a2port(a);
  if (p <= 0) return `Bad port '${a}'.`;
  return one(l, String(p));
};

/** IdentityAgent, ForwardAgent's path: `${VAR}` must be complete; a legacy `$NAME` a valid name */
function agentPath(a: string): string | null {
  if (/\$\{(?![^}]+\})/.test(a) || a.includes('${}')) return `Invalid environment expansion ${a}.`;
  if (a.startsWith('$') && a[1] !== '{' && !/^\$[A-Za-z0-9_]+$/.test(a)) return `Invalid environment name ${a}.`;
  return null;
}

const identityAgent: Reader = (l) => {
  const a = l.args[0];
  if (!a) return 'Missing argument.';
  return agentPath(a) ?? one(l, a);
};

const forwardAgent: Reader = (l) => {
  const a = l.args[0];
  if (!a) return 'missing argument.';
  return flagValues[a.toLowerCase()] ? one(l, flagValues[a.toLowerCase()]) : (agentPath(a) ?? one(l, a));
};

const command: Reader = (l) => ({ kind: 'command', value: l.rest.slice(/^[ \t\r\n=]*/.exec(l.rest)![0].length) });

const jump: Reader = (l) => {
  const text = l.rest.slice(/^[ \t\r\n=]*/.exec(l.rest)![0].length);
  const j = parseJumpList(text);
  if (j === null) return `Invalid ProxyJump "${text}"`;
  return { kind: 'jump', value: text };
};

const addOne: Reader = (l) => {
  if (!l.args[0]) return 'Missing argument.';
  return l.args.length > 1 ? `keyword ${l.keyword} extra arguments at end of line` : { kind: 'add', value: l.args[0] };
};

const sendEnv: Reader = (l) =>
  l.args.some((a) => a === '' || a.includes('=')) ? 'Invalid environment name.' : { kind: 'nothing' };
const setEnv: Reader = (l) => (l.args.some((a) => !a.includes('=')) ? 'Invalid SetEnv.' : { kind: 'nothing' });

const logLevels = ['quiet', 'fatal', 'error', 'info', 'verbose', 'debug', 'debug1', 'debug2', 'debug3'];
const facilities = ['daemon', 'user', 'auth', 'authpriv', ...[0, 1, 2, 3, 4, 5, 6, 7].map((n) => `local${n}`)];
function named(names: string[], what: string): Reader {
  return (l) =>
    names.includes((l.args[0] ?? '').toLowerCase())
      ? one(l, l.args[0])
      : `unsupported ${what} '${l.args[0] ?? '<NONE>'}'`;
}

const escapeChar: Reader = (l) => {
  const a = l.args[0];
  if (!a) return 'Missing argument.';
  const ok =
    a === 'none' ||
    a.length === 1 ||
    (a.length === 2 && a[0] === '^' && a.charCodeAt(1) >= 64 && a.charCodeAt(1) < 128);
  return ok ? one(l, a) : 'Bad escape character.';
};

const bindMask: Reader = (l) =>
  /^[0-7]+/.test(l.args[0] ?? '') && parseInt(l.args[0], 8) <= 0o777 ? one(l, l.args[0]) : 'Bad mask.';

const hashes = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'];
const fingerprint: Reader = (l) =>
  hashes.includes((l.args[0] ?? '').toLowerCase()) ? one(l, l.args[0]) : `Invalid hash algorithm "${l.args[0] ?? ''}".`;

const controlPersist: Reader = (l) => {
  const a = l.args[0];
  if (!a) return 'Missing ControlPersist argument.';
  return ['yes', 'no', 'true', 'false'].includes(a) || convtime(a) !== null
    ? one(l, a)
    : 'Bad ControlPersist argument.';
};

const yesNoAskConfirm: Record<string, string> = { ...flagValues, ask: 'ask', confirm: 'confirm' };
const addKeys: Reader = (l) => {
  const [a, b] = l.args;
  const v = yesNoAskConfirm[(a ?? '').toLowerCase()];
  if (l.args.length > 2) return `keyword ${l.keyword} extra arguments at end of line`;
  if (v === 'confirm' && b !== undefined) return convtime(b) === null ? 'invalid time value.' : { kind: 'nothing' };
  if (v === undefined && b === undefined)
    return convtime(a ?? '') === null ? 'unsupported option' : { kind: 'nothing' };
  if (v === undefined || b !== undefined) return 'unsupported option';
  return { kind: 'nothing' };
};

const domains: Reader = (l) => {
  if (l.args.length > 1 && l.args.some((a) => a.toLowerCase() === 'none'))
    return `keyword ${l.keyword} "none" argument must appear alone.`;
  const bad = l.args.find((a) => a.toLowerCase() !== 'none' && !/^[A-Za-z0-9](?!.*\.\.)[A-Za-z0-9._-]*$/.test(a));
  return bad ? `domain name "${bad}" contains invalid characters` : { kind: 'nothing' };
};

const cnames: Reader = (l) => {
  for (const a of l.args) {
    if (a.toLowerCase() === 'none') {
      if (l.args.length > 1) return `keyword ${l.keyword} "none" argument must appear alone.`;
    } else if (a !== '*' && !/^[^:]*:.+$/.test(a)) return `Invalid permitted CNAME "${a.toLowerCase()}"`;
  }
  return { kind: 'nothing' };
};

const tunnelDevice: Reader = (l) => {
  const ok = (t: string) => t.toLowerCase() === 'any' || typeof strtonum(t, 0, 0x7fffffff - 2) === 'number';
  const a = l.args[0] ?? '';
  return a && a.split(':', 2).every(ok) ? one(l, a) : 'Bad tun device.';
};

const ipqos = /^(af[1-4][1-3]|cs[0-7]|ef|le|lowdelay|throughput|reliability|none|\d+)$/i;
const ipQos: Reader = (l) =>
  l.args.length >= 1 && l.args.length <= 2 && l.args.every((a) => ipqos.test(a))
    ? { kind: 'nothing' }
    : `Bad IPQoS value: ${l.args.find((a) => !ipqos.test(a)) ?? ''}`;

const rekeyLimit: Reader = (l) => {
  const [a, b] = l.args;
  if (!a) return 'Missing argument.';
  if (a !== 'default' && !/^\d+[KMGkmg]?$/.test(a)) return `Bad number '${a}'`;
  if (b !== undefined && b !== 'none' && convtime(b) === null) return 'invalid time value.';
  return l.args.length > 2 ? `keyword ${l.keyword} extra arguments at end of line` : { kind: 'nothing' };
};

const block: Reader = () => ({ kind: 'block' });
const nothing: Reader = () => ({ kind: 'nothing' });

const strict = {
  true: 'true',
  yes: 'true',
  false: 'false',
  no: 'false',
  off: 'false',
  ask: 'ask',
  'accept-new': 'accept-new',
};
const canon = { true: 'true', yes: 'true', false: 'false', no: 'false', always: 'always' };
const yesNoAsk = { ...flagValues, ask: 'ask' };

/** keyword (lower case) → how its line is read; aliases read as the keyword ssh stores them under */
export const keywords: Record<string, { reader: Reader; as?: string }> = {};
const def = (names: string, reader: Reader, as?: string) => {
  for (const n of names.split(' ')) keywords[n] = { reader, as };
};

def('host match include', block);
def('protocol cipher fallbacktorsh globalknownhostsfile2 rhostsauthentication userknownhostsfile2', nothing);
def('useroaming usersh useprivilegedport afstokenpassing kerberosauthentication kerberostgtpassing', nothing);
def('rsaauthentication rhostsrsaauthentication compressionlevel', nothing);
def('forwardx11 forwardx11trusted gatewayports exitonforwardfailure passwordauthentication', flag);
def('kbdinteractiveauthentication', flag);
def('challengeresponseauthentication skeyauthentication tisauthentication', flag, 'kbdinteractiveauthentication');
def('hostbasedauthentication gssapiauthentication gssapidelegatecredentials batchmode checkhostip', flag);
def('tcpkeepalive nohostauthenticationforlocalhost identitiesonly enablesshkeysign', flag);
def('keepalive', flag, 'tcpkeepalive');
def('clearallforwardings hashknownhosts permitlocalcommand visualhostkey stdinnull forkafterauthentication', flag);
def('proxyusefdpass canonicalizefallbacklocal streamlocalbindunlink enableescapecommandline', flag);
def('pubkeyauthentication', multi({ ...flagValues, unbound: 'unbound', 'host-bound': 'host-bound' }));
def(
  'dsaauthentication',
  multi({ ...flagValues, unbound: 'unbound', 'host-bound': 'host-bound' }),
  'pubkeyauthentication',
);
def('verifyhostkeydns updatehostkeys', multi(yesNoAsk));
def('stricthostkeychecking', multi(strict));
def('compression', multi({ yes: 'yes', no: 'no' }));
def('addressfamily', multi({ inet: 'inet', inet6: 'inet6', any: 'any' }));
def('controlmaster', multi({ ...flagValues, auto: 'auto', ask: 'ask', autoask: 'autoask' }));
def('tunnel', multi({ ...flagValues, ethernet: 'ethernet', 'point-to-point': 'point-to-point' }));
def('requesttty', multi({ ...flagValues, force: 'force', auto: 'auto' }));
def('sessiontype', multi({ none: 'none', subsystem: 'subsystem', default: 'default' }));
def('canonicalizehostname', multi(canon));
def('connecttimeout forwardx11timeout serveraliveinterval', time);
def('numberofpasswordprompts connectionattempts serveralivecountmax canonicalizemaxdots requiredrsasize', int);
def('kbdinteractivedevices xauthlocation user hostname hostkeyalias preferredauthentications', str);
def('bindaddress bindinterface pkcs11provider securitykeyprovider controlpath ignoreunknown revokedhostkeys', str);
def('smartcarddevice', str, 'pkcs11provider');
def('proxycommand localcommand remotecommand knownhostscommand', command);
def('proxyjump', jump);
def('port', port);
def('globalknownhostsfile userknownhostsfile logverbose', strList);
def('identityfile certificatefile', addOne);
def('identityfile2', addOne, 'identityfile');
def('identityagent', identityAgent);
def('forwardagent', forwardAgent);
def('ciphers macs kexalgorithms hostkeyalgorithms casignaturealgorithms', str);
def('hostbasedacceptedalgorithms pubkeyacceptedalgorithms', str);
def('hostbasedkeytypes', str, 'hostbasedacceptedalgorithms');
def('pubkeyacceptedkeytypes', str, 'pubkeyacceptedalgorithms');
def('loglevel', named(logLevels, 'log level'));
def('syslogfacility', named(facilities, 'log facility'));
def('localforward', words(2, 2));
def('remoteforward', words(1, 2));
def('dynamicforward', words(1, 1));
def('permitremoteopen', words(1, Infinity));
def('sendenv', sendEnv);
def('setenv', setEnv);
def('escapechar', escapeChar);
def('ipqos', ipQos);
def('rekeylimit', rekeyLimit);
def('controlpersist', controlPersist);
def('tunneldevice', tunnelDevice);
def('canonicaldomains', domains);
def('canonicalizepermittedcnames', cnames);
def('streamlocalbindmask', bindMask);
def('fingerprinthash', fingerprint);
def('addkeystoagent', addKeys);
// newer OpenSSH (9.4-10.x; 9.2 refuses them): read, so a config written for a newer ssh works
def('channeltimeout obscurekeystroketiming tag versionaddendum warnweakcrypto', nothing);
def('refuseconnection', flag);
// macOS's ssh knows UseKeychain (passphrases from the keychain), and Mac users' configs carry it
if (process.platform === 'darwin') def('usekeychain', flag);

/** keywords OpenSSH 9.2 does not know but later versions do (a documented difference from 9.2) */
export const newerKeywords = new Set([
  'channeltimeout',
  'obscurekeystroketiming',
  'tag',
  'versionaddendum',
  'warnweakcrypto',
  'refuseconnection',
]);

/** the line's value, or ssh's refusal of it (kept on the line: a config is read once, resolved often) */
export function readLine(l: Line): Parsed | string {
  return (l.read ??= l.error ?? keywords[l.keyword].reader(l));
}

/** the name ssh stores a keyword's value under (challengeresponseauthentication → kbdinteractiveauthentication) */
export function storedAs(keyword: string): string {
  return keywords[keyword]?.as ?? keyword;
}
