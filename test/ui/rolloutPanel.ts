// UI test of the rollout panel in a real browser: open service.json, Fleet: Open Rollout Panel,
// click Start and watch rows advance, Pause, Resume, reload the window mid-rollout, see the panel
// come back waiting for Resume, resume and see the end banner. Screenshots of each phase go to
// test-artifacts/; a failure writes the page, its console, the server's logs and a trace there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { startLoad } from '../harness/load';
import { httpGet } from '../harness/net';
import { rolloutFleet } from '../harness/rolloutFleet';
import {
  root,
  runScript,
  screenshot,
  startCodeServer,
  waitForFleet,
  withUi,
  workbenchUrl,
  writeWorkspace,
} from '../vscode/codeServer';

const panelFrame = (page: Page): FrameLocator =>
  page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().click();
}

async function main(): Promise<void> {
  const local = await rolloutFleet(4, {
    SoakSecs: 2,
    Concurrency: 1,
    Analysis: { MinRequests: 5, MaxErrorRate: 0.05, IntervalSecs: 1 },
  });
  // traffic through the LB for the whole test: the panel shows it per backend, the canary is judged by it
  const load = startLoad(`${local.proxyUrl}/`, { workers: 2, paceMs: 20, maxMs: 240_000 });
  // every step takes at least 300 ms, so a person (and this test) can watch and pause; while the
  // hold file exists, a step that starts waits (the reload below happens mid-step, however slow the machine)
  const hold = join(mkdtempSync(join(tmpdir(), 'rollout-hold-')), 'hold');
  const server = await startCodeServer({
    env: { FLEET_ROLLOUT_STEP_DELAY_MS: '300', FLEET_ROLLOUT_STEP_HOLD: hold },
  });
  try {
    await withUi('rollout-panel', server, (ui) => panelTest(ui.page, server.port, local, hold));
  } finally {
    await load.stop();
    await server.stop();
    await local.stop();
  }
}

async function panelTest(
  page: Page,
  port: number,
  local: Awaited<ReturnType<typeof rolloutFleet>>,
  hold: string,
): Promise<void> {
  {
    const ws = dirname(local.serviceFile);
    writeWorkspace(ws, {
      '.vscode/settings.json': JSON.stringify({ 'fleet.refreshIntervalSeconds': 0, 'workbench.startupEditor': 'none' }),
    });
    await page.goto(workbenchUrl(port, ws, root));
    await waitForFleet(page);
    process.stdout.write('  panel: open service.json and the panel\n');
    await page
      .locator('.explorer-folders-view .monaco-list-row', { hasText: 'service.json' })
      .click({ timeout: 60_000 });
    await page.locator('.tabs-container .tab', { hasText: 'service.json' }).waitFor();
    await runCommand(page, 'Fleet: Open Rollout Panel');
    const frame = panelFrame(page);
    await frame.locator('#backends').waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator('tr[data-backend]').count(), 4);

    process.stdout.write('  panel: Start, rows advance\n');
    // the last backend waits at its first step until Pause is clicked: the rollout cannot end before
    const last = (local.config.Backends.at(-1) as { Addr: string }).Addr;
    writeFileSync(hold, `${last}\n`);
    await frame.locator('vscode-button[data-action="start"]').click();
    await frame.locator('tr[data-backend][data-phase="done"]').first().waitFor({ timeout: 60_000 });
    // live traffic per backend from the LB's counters, and the canary's analysis against the baseline
    await frame
      .locator('td.traffic', { hasText: /^\d+(\.\d)? req\/s · \d+\.\d % errors · p95 / })
      .first()
      .waitFor({ timeout: 30_000 });
    await frame
      .locator('#analysis[data-verdict="pass"]', { hasText: /canary: \d+ requests, 0\.0 % errors/ })
      .waitFor({ timeout: 30_000 });
    await screenshot(page, '7-rollout-running');

    process.stdout.write('  panel: Pause\n');
    await frame.locator('vscode-button[data-action="pause"]').click();
    rmSync(hold); // the held step ends, and the rollout stops at the safe point after it
    await frame.locator('#end-banner', { hasText: 'Paused at a safe point' }).waitFor({ timeout: 30_000 });
    const doneAtPause = await frame.locator('tr[data-phase="done"]').count();
    assert.ok(doneAtPause < 4, 'paused before the end');
    await screenshot(page, '8-rollout-paused');

    process.stdout.write('  panel: Resume, then reload the window mid-rollout\n');
    writeFileSync(hold, ''); // the next step to start waits there until the window is gone
    await frame.locator('vscode-button[data-action="resume"]').click();
    await frame.locator('tr[data-phase="running"]').first().waitFor({ timeout: 30_000 });
    await page.reload();
    await waitForFleet(page);
    // the panel comes back (VS Code restores it, or the extension reopens the rollout this window ran),
    // showing where the journal stopped, and waits for the user; the window's going away may have
    // paused the rollout at a safe point first
    const again = panelFrame(page);
    await again.locator('#end-banner', { hasText: /^(Interrupted|Paused)/ }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('iframe.webview').count(), 1, 'one rollout panel after the reload');
    await screenshot(page, '9-rollout-interrupted-after-reload');
    rmSync(hold);
    await again.locator('vscode-button[data-action="resume"]').click();
    await again.locator('#end-banner', { hasText: /^Succeeded: 4\/4 upgraded in \d+/ }).waitFor({ timeout: 60_000 });
    assert.equal(await again.locator('#end-banner').getAttribute('title'), 'end state ESSuccess');
    assert.equal(await again.locator('tr[data-backend] .strip span[data-step="cp"]').first().innerText(), 'install');
    assert.equal(await again.locator('tr[data-phase="done"]').count(), 4);
    await screenshot(page, '10-rollout-finished-after-reload');
    assert.match(await httpGet(`${local.proxyUrl}/`), /\(v2\)/);
    process.stdout.write('  panel: 4 passed, 0 failed\n');
  }
}

runScript('rollout panel UI test', main);
