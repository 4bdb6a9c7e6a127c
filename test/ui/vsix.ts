// The packaged extension: `vsce package` makes a .vsix that installs into VS Code's server and
// activates without errors (the Fleet view lists the hosts of fleet.json, the log says activated).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshFleet } from '../harness/sshFleet';
import {
  openBrowser,
  root,
  runScript,
  screenshot,
  startCodeServer,
  workbenchUrl,
  writeWorkspace,
} from '../vscode/codeServer';

async function main(): Promise<void> {
  const vsix = join(mkdtempSync(join(tmpdir(), 'vsix-')), 'fleet.vsix');
  execFileSync(
    join(root, 'node_modules/.bin/vsce'),
    [
      'package',
      '--no-dependencies',
      '--allow-missing-repository',
      '--baseContentUrl',
      'https://example.invalid/fleet',
      '-o',
      vsix,
    ],
    { cwd: root, stdio: 'pipe' },
  );
  // the agent's Node runtime (42.7 MB) is fetched on demand, never packed: the .vsix stays small
  const bytes = statSync(vsix).size;
  process.stdout.write(`  vsix: ${(bytes / 1e6).toFixed(2)} MB\n`);
  if (bytes > 5e6)
    throw new Error(`the .vsix is ${bytes} bytes: something large (the agent runtime?) was packed into it`);
  const fleet = await SshFleet.start(1);
  const server = await startCodeServer({
    installVsix: vsix,
    machineSettings: { 'fleet.knownHostsFile': fleet.knownHostsFile },
  });
  const browser = await openBrowser();
  try {
    const ws = mkdtempSync(join(tmpdir(), 'fleet-vsix-'));
    writeWorkspace(ws, {
      'fleet.json': JSON.stringify({
        defaults: { user: fleet.loginName, port: fleet.port, identityFile: fleet.clientKey },
        hosts: [{ name: 'packaged1', host: fleet.hosts[0].address }],
      }),
      '.vscode/settings.json': JSON.stringify({
        'fleet.refreshIntervalSeconds': 0,
        'workbench.startupEditor': 'none',
      }),
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /fleet/i.test(m.text())) errors.push(m.text());
    });
    await page.goto(workbenchUrl(server.port, ws));
    await page.locator('.activitybar .action-item a[aria-label^="Fleet"]').click({ timeout: 60_000 });
    const row = page.locator('.monaco-list-row', { hasText: 'packaged1' });
    await row.locator('.label-description', { hasText: /^\d+% · / }).waitFor({ timeout: 30_000 });
    await screenshot(page, '6-installed-vsix');
    assert.deepEqual(errors, []);
    process.stdout.write('  vsix: 1 passed, 0 failed\n');
  } finally {
    await browser.close();
    await server.stop();
    await fleet.stop();
  }
}

runScript('vsix test', main);
