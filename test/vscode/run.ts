// Runs the extension-host tests in a real VS Code (code-server + chromium) against a real sshd
// fleet. Exit code: what the extension host reported through window.codeAutomationExit.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExamples } from '../../examples/build';
import { killMatching } from '../harness/agentProcess';
import { killAllTracked } from '../harness/processes';
import { freePort } from '../harness/net';
import { SshFleet } from '../harness/sshFleet';
import { AgentProcess } from '../harness/agentProcess';
import { PrometheusProcess } from '../harness/prometheus';
import { startTrap } from '../harness/trap';
import { scrapeConfig } from '../../core/prometheus/scrapeConfig';
import { rolloutFleet } from '../harness/rolloutFleet';
import { startCodeServer, writeWorkspace } from './codeServer';
import { buildSuite, runSuite } from './runSuite';

async function main(): Promise<number> {
  const suite = await buildSuite('test/vscode/suite/index.ts', 'vscode-suite');
  const remoteHome = mkdtempSync(join(tmpdir(), 'fleet-vscode-remote-'));
  chmodSync(remoteHome, 0o755); // the hosts' login user reaches its homes in here
  // 3 hosts in fleet.json, a 4th for Scan Network to find (its key unknown until the scan asks)
  // each host its own HOME, as real hosts have (deploying the agent to two at once takes each one's lock)
  const fleet = await SshFleet.start(4, {
    hostConfig: (i, _dir, f) => {
      return [`SetEnv HOME=${f.userDir(join(remoteHome, `host${i}`))}`];
    },
  });
  const listed = fleet.hosts.slice(0, 3);
  const local = await rolloutFleet(3, { SoakSecs: 0.2 });
  const ws = mkdtempSync(join(tmpdir(), 'fleet-ws-'));
  chmodSync(ws, 0o755); // the hosts share this disk: their login user runs the suite's scripts from here
  // a Prometheus scraping one agent, labelled as web3: with fleet.prometheus.url set, web3's stats come
  // from it and web1, web2 (not scraped) from SSH
  const promAgent = await AgentProcess.start({ listen: `127.0.0.1:${await freePort()}` });
  const sd = join(ws, 'prom-targets.json');
  const job = scrapeConfig(
    [{ name: 'web3', host: '127.0.0.1', groups: ['web'], agent: `http://${promAgent.opts.listen}` }],
    { job: 'fleet-agents', tokenFile: promAgent.tokenFile, targetsFile: sd },
  );
  writeFileSync(sd, JSON.stringify(job.targets));
  const prom = await PrometheusProcess.startWith(job.yaml);
  // where a stranger's workspace would send the user's Prometheus credentials: never called
  const trap = await startTrap();
  // fleet.knownHostsFile is machine-scoped: a workspace cannot set it. This workspace tries to weaken
  // host-key checking; the suite checks that it cannot.
  const server = await startCodeServer({ machineSettings: { 'fleet.knownHostsFile': join(ws, 'known_hosts') } });
  try {
    const zips = await buildExamples(join(ws, 'zips'));
    mkdirSync(join(server.home, '.ssh'), { recursive: true, mode: 0o700 });
    // the default key of the editor's user (Scan Network and ~/.ssh/config hosts log in with it), and a
    // ~/.ssh/config with one Host for Import Hosts from ~/.ssh/config
    copyFileSync(fleet.clientKey, join(server.home, '.ssh', 'id_ed25519'));
    chmodSync(join(server.home, '.ssh', 'id_ed25519'), 0o600);
    writeFileSync(
      join(server.home, '.ssh', 'config'),
      `Host imported-one\n  HostName ${listed[2].address}\n  Port ${fleet.port}\n  User ${fleet.loginName}\n`,
    );
    writeWorkspace(ws, {
      'fleet.json': JSON.stringify(
        {
          defaults: { user: fleet.loginName, port: fleet.port, identityFile: fleet.clientKey },
          hosts: listed.map((h, i) => ({ name: `web${i + 1}`, host: h.address, groups: ['web'] })),
        },
        null,
        2,
      ),
      '.vscode/settings.json': JSON.stringify({
        'fleet.refreshIntervalSeconds': 0,
        'fleet.hostKeyPolicy': 'accept-new',
        'fleet.knownHostsFile': join(ws, 'elsewhere_known_hosts'),
        // machine-scoped (they decide where a credential goes): a workspace cannot set them
        'fleet.prometheus.url': trap.url,
        'fleet.prometheus.auth': 'bearer',
        'fleet.prometheus.tokenFile': join(ws, 'stolen-token'),
      }),
      'stolen-token': 'a-token-the-workspace-names\n',
      'test-context.json': JSON.stringify({
        hosts: listed.map((h, i) => ({ name: `web${i + 1}`, address: h.target })),
        unlisted: { address: fleet.hosts[3].address, port: fleet.port, user: fleet.loginName },
        trap: trap.url,
        zip: zips['web-v1'],
        webPort: await freePort(),
        service: local.serviceFile,
        proxy: local.proxyUrl,
        prometheus: prom.url,
      }),
    });
    writeFileSync(join(ws, 'known_hosts'), '');
    chmodSync(join(ws, 'stolen-token'), 0o600); // a credential file as Fleet would accept one
    return await runSuite('extension-host-tests', server, ws, suite);
  } finally {
    await server.stop();
    // Install Agent deployed an agent (detached, as on a real host) into the hosts' HOME, and it started a program
    killMatching(remoteHome);
    await fleet.stop();
    await local.stop();
    await prom.stop();
    await trap.stop();
    await promAgent.stop();
  }
}

main().then(
  (code) => {
    killAllTracked();
    process.exit(code);
  },
  (e) => {
    process.stderr.write(`vscode tests: ${e instanceof Error ? e.stack : e}\n`);
    killAllTracked();
    process.exit(1);
  },
);
