// Runs the extension-host tests in a real VS Code (code-server + chromium) against a real sshd
// fleet. Exit code: what the extension host reported through window.codeAutomationExit.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildExamples } from '../../examples/build';
import { killMatching } from '../harness/agentProcess';
import { killAllTracked } from '../harness/processes';
import { freePort } from '../harness/net';
import { SshFleet } from '../harness/sshFleet';
import { rolloutFleet } from '../harness/rolloutFleet';
import { root, startCodeServer, withUi, workbenchUrl, writeWorkspace } from './codeServer';

async function main(): Promise<number> {
  const suite = join(root, 'out/vscode-suite/index.js');
  await build({
    entryPoints: [join(root, 'test/vscode/suite/index.ts')],
    outfile: suite,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha', 'cpu-features', '*.node'],
    logLevel: 'warning',
  });
  const remoteHome = mkdtempSync(join(tmpdir(), 'fleet-vscode-remote-'));
  const fleet = await SshFleet.start(3, { extraConfig: [`SetEnv HOME=${remoteHome}`] });
  const local = await rolloutFleet(3, { SoakSecs: 0.2 });
  const ws = mkdtempSync(join(tmpdir(), 'fleet-ws-'));
  // fleet.knownHostsFile is machine-scoped: a workspace cannot set it. This workspace tries to weaken
  // host-key checking; the suite checks that it cannot.
  const server = await startCodeServer({ machineSettings: { 'fleet.knownHostsFile': join(ws, 'known_hosts') } });
  try {
    const zips = await buildExamples(join(ws, 'zips'));
    mkdirSync(join(server.home, '.ssh'), { recursive: true, mode: 0o700 });
    writeWorkspace(ws, {
      'fleet.json': JSON.stringify(
        {
          defaults: { user: 'root', port: fleet.port, identityFile: fleet.clientKey },
          hosts: fleet.hosts.map((h, i) => ({ name: `web${i + 1}`, host: h.address, groups: ['web'] })),
        },
        null,
        2,
      ),
      '.vscode/settings.json': JSON.stringify({
        'fleet.refreshIntervalSeconds': 0,
        'fleet.hostKeyPolicy': 'accept-new',
        'fleet.knownHostsFile': join(ws, 'elsewhere_known_hosts'),
      }),
      'test-context.json': JSON.stringify({
        hosts: fleet.hosts.map((h, i) => ({ name: `web${i + 1}`, address: h.target })),
        zip: zips['web-v1'],
        webPort: await freePort(),
        service: local.serviceFile,
        proxy: local.proxyUrl,
      }),
    });
    writeFileSync(join(ws, 'known_hosts'), '');
    return await withUi('extension-host-tests', server, async ({ page }) => {
      const exit = new Promise<number>(
        (resolve) => void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code)),
      );
      // the extension host's console (mocha's report) arrives as browser console messages, a styled level
      // first: format the rest as Node's console would
      page.on('console', (m) => {
        void Promise.all(m.args().map((a) => a.jsonValue().catch(() => ''))).then((vals) => {
          // the extension host sends ['%c INFO', css, mochaFormat, ...args]
          if (typeof vals[0] === 'string' && /^%c\s*(INFO|ERR|WARN)/.test(vals[0]) && vals.length > 2) {
            process.stdout.write(format(...(vals.slice(2) as [unknown, ...unknown[]])) + '\n');
          }
        });
      });
      await page.goto(workbenchUrl(server.port, ws, root, suite));
      const code = await Promise.race([exit, new Promise<number>((r) => setTimeout(() => r(124), 5 * 60_000))]);
      if (code === 124) throw new Error('extension tests did not finish in 5 minutes');
      if (code !== 0) throw new Error(`extension tests failed (exit ${code})`);
      return code;
    });
  } finally {
    await server.stop();
    // Install Agent deployed an agent (detached, as on a real host) into the hosts' HOME, and it started a program
    killMatching(remoteHome);
    await fleet.stop();
    await local.stop();
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
