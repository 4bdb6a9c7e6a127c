// What an error tells a person to do depends on where they are: the CLI names its flags, the editor
// its settings and views. Core messages take the fix from here; a front end sets its wording once
// at start (the CLI's is the default, so tests and scripts see flags).

export interface Advice {
  /** an unknown host key under the strict policy */
  trustHostKey: string;
  /** every credential refused */
  fixAuth: string;
  /** a private key file that cannot be read */
  identityPath: string;
  /** a network larger than a scan takes */
  scanLimit: (maxPrefix: number) => string;
  /** where Prometheus credentials go instead of its URL */
  prometheusCredentials: string;
  /** a host's own StrictHostKeyChecking refuses an unknown key: how to pin it */
  pinHostKey: string;
  /** where to name a known_hosts file */
  knownHostsFile: string;
  /** log in as another user */
  otherUser: string;
  /** roll out a package that is not the service.json's Src (not beside it, or another one) */
  otherSrc: string;
  /** use a file service.json names outside its folder */
  outsideFile: (field: 'Src' | 'AgentTokenFile' | 'LBTokenFile') => string;
  /** resume with the package the agents' rollout installs */
  resumeWithSrc: string;
  /** continue a rollout: its failed backends, or after a pause */
  resume: string;
  /** what continues a rollout, as a noun */
  resumeWord: string;
  /** wait for another controller's rollout */
  waitForLease: string;
  /** the LB's control token over TCP */
  lbToken: string;
  /** an agent listening on TCP, its certificate pinned (`host`: an SSH host, or a placeholder) */
  agentListen: (host?: string) => string;
  /** pin an agent's TLS certificate again */
  agentPin: (port: number) => string;
  /** reach an old agent over plain http on a trusted network */
  insecureHttp: (host: string) => string;
  /** the agent's runtime without registry access */
  runtimeOffline: (target: string) => string;
  /** where a runtime copied by hand goes (`what`: the tarball) */
  runtimeCopy: (what: string) => string;
  /** the history shows the newest entries only */
  historyLimit: string;
  /** start the built-in LB */
  startLb: (control: string) => string;
}

export const cliAdvice: Advice = {
  trustHostKey: 'verify the fingerprint, then rerun with --host-key-policy accept-new (or ask, on a terminal)',
  fixAuth: "check --identity, --user, --password-file, or the host's authorized_keys",
  identityPath: 'check the path given to --identity or IdentityFile',
  scanLimit: (p) => `scans larger than a /${p} need --force`,
  prometheusCredentials: 'give them with --prometheus-token-file, or --prometheus-user and --prometheus-password-file',
  pinHostKey: 'verify the fingerprint, then pin the key (ssh-keyscan, or fleet hostkeys scan --accept)',
  knownHostsFile: 'UserKnownHostsFile in ssh_config, or --known-hosts',
  otherUser: 'log in as one of them (--user)',
  otherSrc: 'give another file on the command line: fleet rollout --src FILE',
  outsideFile: (field) =>
    `give it on the command line (${{ Src: '--src', AgentTokenFile: '--agent-token-file', LBTokenFile: '--lb-token-file' }[field]} FILE)`,
  resumeWithSrc: '--src',
  resume: '--resume retries them',
  resumeWord: '--resume',
  waitForLease: 'let this command wait with --lease-wait SECS',
  lbToken: '--token-file FILE (the LB prints its path) or FLEET_LB_TOKEN',
  agentListen: (host = '<host>') => `fleet agent deploy ${host} --listen HOST:PORT`,
  agentPin: (port) => `fleet agent pin <ssh host> --agent-port ${port}`,
  insecureHttp: (host) => `--insecure-http ${host} (or FLEET_AGENT_INSECURE_HTTP=${host})`,
  runtimeOffline: (target) => `fleet agent fetch-runtime --target ${target} --runtime-dir DIR`,
  runtimeCopy: (what) => `copy ${what} into a directory and pass --runtime-dir DIR`,
  historyLimit: 'pruned, or past --limit',
  startLb: (control) => `fleet lb serve --control ${control} …`,
};

export const editorAdvice: Advice = {
  trustHostKey:
    'verify the fingerprint, then set the fleet.hostKeyPolicy setting to ask (the Fleet view then asks you) or accept-new',
  fixAuth:
    "check the user and identityFile of the host in fleet.json (or ~/.ssh/config), your ssh-agent, or the host's authorized_keys",
  identityPath: 'check identityFile in fleet.json or IdentityFile in ~/.ssh/config',
  scanLimit: (p) => `scan at most a /${p} here: give a smaller network, for example 10.0.0.0/24`,
  prometheusCredentials:
    'set fleet.prometheus.auth, then fleet.prometheus.tokenFile or Fleet: Set Prometheus Credentials… (kept in secret storage)',
  pinHostKey: 'verify the fingerprint, then pin the key (ssh-keyscan into your known_hosts file)',
  knownHostsFile: 'UserKnownHostsFile in ssh_config, or the fleet.knownHostsFile setting',
  otherUser: 'log in as one of them (user in fleet.json or ~/.ssh/config)',
  otherSrc: 'point Src at a file beside it',
  outsideFile: () => 'copy it beside this service.json',
  resumeWithSrc: 'Src pointing at it',
  resume: 'Resume in the rollout panel retries them',
  resumeWord: "the rollout panel's Resume",
  waitForLease: 'Resume in the rollout panel waits for it',
  lbToken: 'LBTokenFile in service.json (the LB prints its path), or FLEET_LB_TOKEN',
  agentListen: () => 'deploy the agent listening on TCP (fleet agent deploy HOST --listen HOST:PORT in a terminal)',
  agentPin: (port) => `pin it again (fleet agent pin HOST --agent-port ${port} in a terminal)`,
  insecureHttp: (host) => `FLEET_AGENT_INSECURE_HTTP=${host} in the editor's environment`,
  runtimeOffline: (target) =>
    `copy it into the runtime directory (fleet agent fetch-runtime --target ${target} in a terminal with registry access)`,
  runtimeCopy: (what) =>
    `copy ${what} into Fleet's runtime cache ($FLEET_CACHE_DIR/runtime, else ~/.cache/fleet/runtime)`,
  historyLimit: 'pruned',
  startLb: (control) => `the built-in LB (fleet lb serve --control ${control} in a terminal)`,
};

let current: Advice = cliAdvice;

export function advice(): Advice {
  return current;
}

export function setAdvice(a: Advice): void {
  current = a;
}
