// The agent's options and their defaults, apart from the server: `fleet agent serve` builds its
// flags from them at start-up without loading Express and the rest of the agent.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultSupervisorOptions, type SupervisorOptions } from './supervisor';

export interface AgentOptions {
  dataDir: string;
  socket?: string;
  /** HOST:PORT for TCP */
  listen?: string;
  tokenFile?: string;
  statsIntervalSecs: number;
  maxPackageBytes: number;
  supervisor: SupervisorOptions;
  log: (msg: string) => void;
}

export const defaultAgentOptions = (): AgentOptions => ({
  dataDir: join(homedir(), '.fleet-agent'),
  statsIntervalSecs: 10,
  maxPackageBytes: 1024 ** 3,
  supervisor: defaultSupervisorOptions,
  log: (m) => process.stderr.write(`fleet-agent: ${m}\n`),
});
