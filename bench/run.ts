// Runs the benchmarks named on the command line (all when none) and prints markdown for
// BENCHMARKS.md. Usage: npm run bench -- [ssh] [ssh-latency] [lb] [lb-slow] [agent] [agent-deploy] [rollout]
// [extension] [push] [prometheus-view] [ping]
import { benchAgent } from './agent';
import { benchAgentDeploy } from './agentDeploy';
import { benchExtension } from './extension';
import { benchLb } from './lb';
import { benchLbSlowClients } from './lbSlowClients';
import { benchPing } from './ping';
import { benchPrometheusView } from './prometheusView';
import { benchPush } from './push';
import { benchRollout } from './rollout';
import { benchSshFanout } from './sshFanout';

const suites: Record<string, () => Promise<string>> = {
  ssh: () => benchSshFanout(),
  // the 50 hosts 40 ms away (20 ms each way), through the harness's latency proxy
  'ssh-latency': () => benchSshFanout(50, 3, { oneWayMs: 20 }),
  lb: () => benchLb(),
  'lb-slow': () => benchLbSlowClients(),
  agent: () => benchAgent(),
  'agent-deploy': () => benchAgentDeploy(),
  rollout: () => benchRollout(),
  extension: () => benchExtension(),
  push: () => benchPush(),
  'prometheus-view': () => benchPrometheusView(),
  ping: () => benchPing(),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(suites);
  for (const n of names) {
    const s = suites[n];
    if (!s) throw new Error(`unknown benchmark ${n}; known: ${Object.keys(suites).join(', ')}`);
    process.stdout.write((await s()) + '\n\n');
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`);
  process.exitCode = 1;
});
