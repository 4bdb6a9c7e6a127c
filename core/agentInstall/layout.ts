// Where the agent lives on a host, in one place. `home` is the remote user's $HOME (or the literal
// `$HOME` when the paths go into a double-quoted shell word).
//
//   ~/.fleet/runtime/node-20.20.2-linux-x64/bin/node   the runtime, shared by agent versions
//   ~/.fleet/agent/0.1.0-1a2b3c4d5e6f/agent.js          one agent build
//   ~/.fleet/agent/0.1.0-1a2b3c4d5e6f/bin/node -> the runtime's node (or the host's own node)
//   ~/.fleet/agent/current, previous -> an agent build (previous is kept for --rollback)
//   ~/.fleet-agent/                                     the agent's data: socket, packages, state, logs

export const systemUnitFile = '/etc/systemd/system/fleet-agent.service';
export const unitName = 'fleet-agent.service';

export function agentLayout(home: string) {
  const fleet = `${home}/.fleet`;
  const data = `${home}/.fleet-agent`;
  return {
    fleetDir: fleet,
    agentsDir: `${fleet}/agent`,
    runtimesDir: `${fleet}/runtime`,
    current: `${fleet}/agent/current`,
    previous: `${fleet}/agent/previous`,
    /** `current/bin`: holds only `node`; the front of the PATH of the programs the agent starts */
    currentBin: `${fleet}/agent/current/bin`,
    agentDir: (id: string) => `${fleet}/agent/${id}`,
    runtimeDir: (id: string) => `${fleet}/runtime/${id}`,
    dataDir: data,
    socket: `${data}/agent.sock`,
    pidFile: `${data}/agent.pid`,
    logFile: `${data}/agent.log`,
    /** where round 1 put dist/agent.js */
    legacyBinDir: `${data}/bin`,
    legacyAgentJs: `${data}/bin/agent.js`,
    userUnitDir: `${home}/.config/systemd/user`,
    userUnitFile: `${home}/.config/systemd/user/${unitName}`,
  };
}

export type AgentLayout = ReturnType<typeof agentLayout>;

/**
 * V8 flags of the agent's own runtime: a 1 MiB young generation (default 16 MiB) keeps an idle
 * agent's RSS 1-2 MiB lower; the agent streams its uploads in 64 KiB chunks, so the extra
 * scavenges cost little (bench/agent.ts measures RSS).
 */
export const agentNodeFlags = ['--max-semi-space-size=1'];

/** the agent's command line on the host: always through `current`, so a unit never changes on upgrade */
export function agentArgv(l: AgentLayout): string[] {
  return [
    `${l.current}/bin/node`,
    ...agentNodeFlags,
    `${l.current}/agent.js`,
    'serve',
    '--data-dir',
    l.dataDir,
    '--runtime-bin',
    l.currentBin,
  ];
}
