// The agent's options and their defaults, apart from the server: `fleet agent serve` builds its
// flags from them at start-up without loading Express and the rest of the agent.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultSupervisorOptions, type SupervisorOptions } from './supervisor';
import { defaultListenerLimits, type ListenerLimits } from './tcpListener';

export interface AgentOptions {
  dataDir: string;
  socket?: string;
  /** HOST:PORT for TCP */
  listen?: string;
  tokenFile?: string;
  /** the read-only token (metrics and status) of the TCP listener */
  readTokenFile?: string;
  /** plain HTTP on the TCP port from loopback peers (`loopback`), or TLS only (`off`) */
  plainHttp: 'loopback' | 'off';
  limits: ListenerLimits;
  /** a request body that sends nothing for this long is answered 408 and its connection closed */
  bodyIdleTimeoutMs: number;
  statsIntervalSecs: number;
  maxPackageBytes: number;
  supervisor: SupervisorOptions;
  log: (msg: string) => void;
}

export const defaultAgentOptions = (): AgentOptions => ({
  dataDir: join(homedir(), '.fleet-agent'),
  plainHttp: 'loopback',
  limits: defaultListenerLimits,
  bodyIdleTimeoutMs: 30_000,
  statsIntervalSecs: 10,
  maxPackageBytes: 1024 ** 3,
  supervisor: defaultSupervisorOptions,
  log: (m) => process.stderr.write(`fleet-agent: ${m}\n`),
});
