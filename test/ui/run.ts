// UI test in a real browser: the Fleet view in VS Code's workbench (code-server + chromium), as a
// user sees it. Open the view, trust the new host keys in the one modal, see the rows with their
// dots and uname, right-click a host → Run Command…, see the output. Screenshots of each step go
// to test-artifacts/ (look at them: they are what a user sees).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { freePort } from '../harness/net';
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

async function step(name: string, fn: () => Promise<void>, page: Page): Promise<void> {
  process.stdout.write(`  ui: ${name}\n`);
  try {
    await fn();
  } catch (e) {
    await screenshot(page, `FAILED-${name.replace(/\W+/g, '-')}`).catch(() => undefined);
    throw e;
  }
}

async function main(): Promise<void> {
  const fleet = await SshFleet.start(2);
  const ws = mkdtempSync(join(tmpdir(), 'fleet-ui-'));
  const server = await startCodeServer({ machineSettings: { 'fleet.knownHostsFile': join(ws, 'known_hosts') } });
  const browser = await openBrowser();
  try {
    writeWorkspace(ws, {
      'fleet.json': JSON.stringify(
        {
          defaults: { user: fleet.loginName, port: fleet.port, identityFile: fleet.clientKey },
          hosts: fleet.hosts.map((h, i) => ({ name: `web${i + 1}`, host: h.address, groups: ['web'] })),
        },
        null,
        2,
      ),
      '.vscode/settings.json': JSON.stringify({
        'fleet.refreshIntervalSeconds': 0,
        'workbench.startupEditor': 'none',
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
      }),
    });
    writeFileSync(join(ws, 'known_hosts'), '');
    const page = await browser.newPage();

    // a folder without fleet.json: the view's welcome offers the ways in
    const empty = mkdtempSync(join(tmpdir(), 'fleet-ui-empty-'));
    writeWorkspace(empty, {
      '.vscode/settings.json': JSON.stringify({
        'workbench.startupEditor': 'none',
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
      }),
    });
    await page.goto(workbenchUrl(server.port, empty, root));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await step(
      'an empty folder: the welcome offers fleet.json, ~/.ssh/config, a scan and the demo',
      async () => {
        await page.locator('.activitybar .action-item a[aria-label^="Fleet"]').click({ timeout: 60_000 });
        const welcome = page.locator('.welcome-view');
        await welcome.waitFor({ timeout: 30_000 });
        for (const label of [
          'Create fleet.json',
          'Import Hosts from ~/.ssh/config',
          'Scan Network…',
          'Try the Demo Fleet',
        ])
          await welcome.locator('.monaco-button', { hasText: label }).waitFor({ timeout: 10_000 });
        await screenshot(page, '0-welcome');
      },
      page,
    );

    await page.goto(workbenchUrl(server.port, ws, root));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });

    await step(
      'open the Fleet view',
      async () => {
        const item = page.locator('.activitybar .action-item a[aria-label^="Fleet"]');
        await item.waitFor({ timeout: 60_000 });
        await item.click();
      },
      page,
    );

    await step(
      'one modal lists every new host key',
      async () => {
        const dialog = page.locator('.monaco-dialog-box');
        await dialog.waitFor({ timeout: 30_000 });
        const text = await dialog.innerText();
        assert.match(text, /2 hosts with an unknown host key/);
        for (const h of fleet.hosts)
          assert.ok(text.includes(`[${h.address}]:${h.port}`), `${h.address} missing from the dialog: ${text}`);
        assert.match(text, /SHA256:/);
        await screenshot(page, '1-host-key-dialog');
        await dialog.locator('a.monaco-button', { hasText: 'Trust All 2' }).click();
      },
      page,
    );

    await step(
      'hosts under their group (with its count), each row at a glance: load, memory, agent',
      async () => {
        await page.locator('.monaco-list-row', { hasText: 'web' }).first().waitFor({ timeout: 30_000 });
        const group = page.locator('.monaco-list-row[aria-level="1"]', { hasText: 'web' });
        await group.locator('.label-description', { hasText: '2/2 up' }).waitFor({ timeout: 30_000 });
        for (const name of ['web1', 'web2']) {
          const r = page.locator('.monaco-list-row[aria-level="2"]', { hasText: name });
          await r.locator('.label-description', { hasText: /^\d+% · [\d.]+\/[\d.]+ \w+ · no agent$/ }).waitFor();
          assert.equal(await r.locator('.codicon-circle-filled').count(), 1, `${name} has no liveness dot`);
        }
        assert.match(await page.locator('.statusbar').innerText(), /Fleet: 2\/2 up/);
        await screenshot(page, '2-hosts-tree');
        // hovering a host shows its inline buttons: Run Command and Open SSH Terminal
        await page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' }).hover();
        const row = page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' });
        await row.locator('.actions .action-label.codicon-play').waitFor({ timeout: 10_000 });
        await row.locator('.actions .action-label.codicon-terminal').waitFor();
        await screenshot(page, '2b-inline-actions');
      },
      page,
    );

    await step(
      'right-click a host → Run Command…, see the output',
      async () => {
        await page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' }).click({ button: 'right' });
        const menuItem = page.locator('.context-view .action-item', { hasText: 'Run Command…' });
        await menuItem.waitFor({ timeout: 10_000 });
        await page.waitForTimeout(400); // let the menu finish fading in
        await screenshot(page, '3-context-menu');
        await menuItem.click();
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ timeout: 10_000 });
        // the first line comes 3 s before the command ends: it must show while the command runs
        await input.fill('echo ui-test-$((6*7)); sleep 3; uname -s');
        await screenshot(page, '4-command-input');
        await input.press('Enter');
        // Monaco renders spaces as U+00A0: normalise before matching
        const panelText = async () =>
          (await page.locator('[id="workbench.parts.panel"]').innerText()).replace(/\u00a0/g, ' ');
        let deadline = Date.now() + 30_000;
        while (!/web1 +\| ui-test-42/.test(await panelText())) {
          if (Date.now() > deadline) throw new Error(`no streamed line in the output panel: ${await panelText()}`);
          await page.waitForTimeout(100);
        }
        assert.doesNotMatch(await panelText(), /1 ok, 0 failed/, 'the line streamed before the command ended');
        await screenshot(page, '5a-run-streaming');
        deadline = Date.now() + 30_000;
        while (!(await panelText()).includes('1 ok, 0 failed, 0 unreachable')) {
          if (Date.now() > deadline) throw new Error(`no summary in the output panel: ${await panelText()}`);
          await page.waitForTimeout(200);
        }
        const text = await panelText();
        assert.match(text, /ui-test-42/);
        assert.match(text, /web1 \(1 host, exit 0\)/);
        await screenshot(page, '5-run-output');
      },
      page,
    );
    await step(
      "the view's title buttons ask, whatever row has the focus",
      async () => {
        const sidebar = page.locator('.part.sidebar');
        const titleButton = (label: string) =>
          sidebar
            .locator(
              `.title-actions .action-label[aria-label^="${label}"], .actions .action-label[aria-label^="${label}"]`,
            )
            .first();
        await page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' }).click();
        await sidebar.hover();
        await titleButton('Filter Hosts').click();
        const input = page.locator('.quick-input-widget input');
        await page
          .locator('.quick-input-widget', { hasText: 'Words every shown host matches' })
          .waitFor({ timeout: 10_000 });
        await input.fill('web2');
        await input.press('Enter');
        await page
          .locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' })
          .waitFor({ state: 'detached', timeout: 10_000 });
        assert.equal(await page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web2' }).count(), 1);
        await sidebar.hover();
        await titleButton('Clear Filter').click();
        await page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' }).waitFor({ timeout: 10_000 });
        // Run Command… from the title: the host picker (the focused row preselected), not a command for that row
        await page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' }).click();
        await sidebar.hover();
        await titleButton('Run Command').click();
        const picker = page.locator('.quick-input-widget', { hasText: 'Run a command on' });
        await picker.waitFor({ timeout: 10_000 });
        for (const name of ['web1', 'web2']) await picker.locator('.monaco-list-row', { hasText: name }).waitFor();
        await screenshot(page, '5b-run-command-title-button');
        await page.keyboard.press('Escape');
      },
      page,
    );

    await step(
      'a host that is down: the status bar opens it, its menu offers Retry, Reveal, Copy Address, Remove',
      async () => {
        const closed = await freePort();
        writeWorkspace(ws, {
          'fleet.json': JSON.stringify(
            {
              defaults: { user: fleet.loginName, port: fleet.port, identityFile: fleet.clientKey },
              hosts: [
                ...fleet.hosts.map((h, i) => ({ name: `web${i + 1}`, host: h.address, groups: ['web'] })),
                { name: 'web3', host: '127.0.0.1', port: closed, groups: ['web'] },
              ],
            },
            null,
            2,
          ),
        });
        const status = page.locator('.statusbar-item', { hasText: 'Fleet: 2/3 up' });
        await status.waitFor({ timeout: 30_000 });
        await status.click();
        // the view shows only the hosts that are down
        await page
          .locator('.monaco-list-row[aria-level="2"]', { hasText: 'web1' })
          .waitFor({ state: 'detached', timeout: 10_000 });
        const row = page.locator('.monaco-list-row[aria-level="2"]', { hasText: 'web3' });
        await row.locator('.label-description', { hasText: /^unreachable/ }).waitFor();
        await screenshot(page, '6-down-hosts-from-status-bar');
        await row.click({ button: 'right' });
        for (const item of ['Retry', 'Reveal in fleet.json', 'Copy Address', 'Remove from fleet.json…'])
          await page.locator('.context-view .action-item', { hasText: item }).first().waitFor({ timeout: 10_000 });
        await page.waitForTimeout(400); // let the menu finish fading in before the picture
        await screenshot(page, '6b-down-host-menu');
        await page.locator('.context-view .action-item', { hasText: 'Reveal in fleet.json' }).click();
        await page.locator('.tabs-container .tab', { hasText: 'fleet.json' }).waitFor({ timeout: 10_000 });
      },
      page,
    );
    process.stdout.write('  ui: 7 passed, 0 failed\n');
  } finally {
    await browser.close();
    await server.stop();
    await fleet.stop();
  }
}

runScript('ui test', main);
