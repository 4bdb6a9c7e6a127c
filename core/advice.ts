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
}

export const cliAdvice: Advice = {
  trustHostKey: 'verify the fingerprint, then rerun with --host-key-policy accept-new (or ask, on a terminal)',
  fixAuth: "check --identity, --user, --password-file, or the host's authorized_keys",
  identityPath: 'check the path given to --identity or IdentityFile',
  scanLimit: (p) => `scans larger than a /${p} need --force`,
  prometheusCredentials: 'give them with --prometheus-token-file, or --prometheus-user and --prometheus-password-file',
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
};

let current: Advice = cliAdvice;

export function advice(): Advice {
  return current;
}

export function setAdvice(a: Advice): void {
  current = a;
}
