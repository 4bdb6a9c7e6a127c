// UI test of the rollout panel in a real browser: open service.json, Fleet: Open Rollout Panel,
// click Start and watch rows advance, scroll the log back and see it stay put while lines arrive,
// Pause, Resume, reload the window mid-rollout, see the panel come back waiting for Resume, resume
// and see the outcome. Then a missing Src in the Problems view, and the flaky build: its canary
// judged by its traffic (the chart), rolled back, the end said in a sentence with what serves; that
// end looked at 300, 525 and 1,000 px wide in the light and the dark theme, nothing breaking inside a
// word. Screenshots of each phase go to test-artifacts/; a failure writes the page, its console, the
// server's logs and a trace there. The rollout is held at a step (FLEET_ROLLOUT_STEP_HOLD) wherever
// the test must act before it moves on: nothing here depends on the machine's speed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { layoutProblems, setPanelWidth, setTheme } from './panelLayout';

// the browser's globals, for the functions Playwright runs inside the page (this program has no DOM types)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;

const panelFrame = (page: Page): FrameLocator =>
  page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

async function runCommand(page: Page, title: string): Promise<void> {
  // the command palette opens from the workbench, not from inside a webview that has the focus
  await page.locator('.statusbar').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().click();
}

const settings = {
  'fleet.refreshIntervalSeconds': 0,
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
};

async function main(): Promise<void> {
  const local = await rolloutFleet(4, {
    SoakSecs: 2,
    Concurrency: 1,
    // the window reloaded below leaves its lease on the agents: the new window's Resume waits this long for it
    LeaseSecs: 4,
    Analysis: { MinRequests: 5, MaxErrorRate: 0.05, IntervalSecs: 1 },
  });
  // traffic through the LB for the whole test: the panel shows it per backend, the canary is judged by it
  const load = startLoad(`${local.proxyUrl}/`, { workers: 2, paceMs: 20, maxMs: 400_000 });
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

/** the log's scroll position and length, and what is selected in it */
const logState = (frame: FrameLocator) =>
  frame.locator('pre.log').evaluate((e) => ({
    top: e.scrollTop,
    atBottom: e.scrollHeight - e.scrollTop - e.clientHeight < 4,
    scrollable: e.scrollHeight > e.clientHeight + 20,
    lines: (e.textContent ?? '').split('\n').length,
    selected: window.getSelection()?.toString() ?? '',
  }));

async function panelTest(
  page: Page,
  port: number,
  local: Awaited<ReturnType<typeof rolloutFleet>>,
  hold: string,
): Promise<void> {
  const ws = dirname(local.serviceFile);
  writeWorkspace(ws, { '.vscode/settings.json': JSON.stringify(settings) });
  await page.goto(workbenchUrl(port, ws, root));
  await waitForFleet(page);
  process.stdout.write('  panel: open service.json and the panel\n');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'service.json' }).click({ timeout: 60_000 });
  await page.locator('.tabs-container .tab', { hasText: 'service.json' }).waitFor();
  await runCommand(page, 'Fleet: Open Rollout Panel');
  const frame = panelFrame(page);
  await frame.locator('#backends').waitFor({ timeout: 30_000 });
  assert.equal(await frame.locator('.bk[data-backend]').count(), 4);
  // the LB carries traffic before any rollout: the panel shows it already
  await frame
    .locator('.c-traffic', { hasText: /^\d+(\.\d)?\/s · \d+\.\d % · p95 / })
    .first()
    .waitFor({ timeout: 30_000 });

  process.stdout.write('  panel: Start, rows advance, traffic and the canary chart\n');
  // the last backend waits at its first step until Pause is clicked: the rollout cannot end before
  const last = (local.config.Backends.at(-1) as { Addr: string }).Addr;
  writeFileSync(hold, `${last}\n`);
  await frame.locator('vscode-button[data-action="start"]').click();
  await frame.locator('.bk[data-backend][data-phase="done"]').first().waitFor({ timeout: 60_000 });
  // live traffic per backend from the LB's counters, and the canary's analysis against the baseline
  await frame
    .locator('.c-traffic', { hasText: /^\d+(\.\d)?\/s · \d+\.\d % · p95 / })
    .first()
    .waitFor({ timeout: 30_000 });
  const pass = frame.locator('.canary-analysis[data-verdict="pass"]', { hasText: /canary \d+ requests, 0 % errors/ });
  await pass.waitFor({ timeout: 30_000 });
  assert.ok((await pass.locator('svg circle.dot.canary').count()) >= 1, 'the canary drawn, a point per look');
  await frame.locator(`.bk[data-backend="${last}"][data-phase="running"]`).waitFor({ timeout: 60_000 });
  await screenshot(page, '7-rollout-running');

  process.stdout.write('  panel: the log stays where the reader put it while lines arrive\n');
  const log = frame.locator('pre.log');
  await log.evaluate((e) => {
    e.scrollTop = 0;
    const first = e.firstChild!;
    const r = document.createRange();
    r.setStart(first, 0);
    r.setEnd(first, 8); // the first line's time stamp, selected as a reader would
    window.getSelection()!.removeAllRanges();
    window.getSelection()!.addRange(r);
  });
  const before = await logState(frame);
  assert.ok(before.scrollable, 'the log is longer than its box: there is something to scroll');
  assert.equal(before.top, 0);

  process.stdout.write('  panel: Pause\n');
  await frame.locator('vscode-button[data-action="pause"]').click();
  rmSync(hold); // the held step ends, and the rollout stops at the safe point after it
  await frame.locator('#end-banner', { hasText: 'Paused at a safe point' }).waitFor({ timeout: 30_000 });
  const after = await logState(frame);
  assert.ok(after.lines > before.lines, `lines arrived (${before.lines} then ${after.lines})`);
  assert.equal(after.top, 0, 'the log stayed where the reader scrolled it');
  assert.equal(after.selected, before.selected, 'the selection in the log survived the updates');
  const doneAtPause = await frame.locator('.bk[data-phase="done"]').count();
  assert.ok(doneAtPause < 4, 'paused before the end');
  const left = 4 - doneAtPause;
  assert.equal(
    await frame.locator('vscode-button[data-action="resume"]').getAttribute('title'),
    `Continue: ${left} backend${left === 1 ? '' : 's'} left, each from the step where it stopped`,
  );
  await screenshot(page, '8-rollout-paused');

  process.stdout.write('  panel: Resume (the log follows while at its bottom), then reload the window mid-rollout\n');
  await log.evaluate((e) => (e.scrollTop = e.scrollHeight));
  const linesAtResume = (await logState(frame)).lines;
  writeFileSync(hold, ''); // the next step to start waits there until the window is gone
  await frame.locator('vscode-button[data-action="resume"]').click();
  // the resume's lines arrive (the next step starts, and is held there)
  await frame.locator('pre.log', { hasText: 'resuming from the journal' }).waitFor({ timeout: 30_000 });
  await frame.locator('.bk[data-phase="running"] .step', { hasText: '…' }).first().waitFor({ timeout: 30_000 });
  const following = await logState(frame);
  assert.ok(following.lines > linesAtResume, `lines arrived (${linesAtResume} then ${following.lines})`);
  assert.ok(following.atBottom, 'at its bottom, the log follows new lines');
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
  await again.locator('vscode-button[data-action="resume"]:not([disabled])').click({ timeout: 60_000 });
  await again
    .locator('#end-banner', { hasText: /^Succeeded: all 4 backends serve web-v2\.zip; 4 of 4 upgraded in \d+/ })
    .waitFor({ timeout: 60_000 });
  assert.equal(await again.locator('#end-banner').getAttribute('title'), 'end state ESSuccess');
  assert.match(
    (await again.locator('.bk[data-backend] .strip span[data-step="cp"]').first().getAttribute('title')) ?? '',
    /^cp: install the package/,
  );
  assert.equal(await again.locator('.bk[data-phase="done"]').count(), 4);
  assert.equal(await again.locator('.bk[data-now="new"] .c-now', { hasText: 'web-v2.zip' }).count(), 4);
  await screenshot(page, '10-rollout-finished-after-reload');
  assert.match(await httpGet(`${local.proxyUrl}/`), /\(v2\)/);

  await flakyRollout(page, again, ws, local);
  process.stdout.write('  panel: 6 passed, 0 failed\n');
}

/** a missing Src in Problems, then the flaky build: caught at the canary, rolled back, looked at in 6 layouts */
async function flakyRollout(
  page: Page,
  frame: FrameLocator,
  ws: string,
  local: Awaited<ReturnType<typeof rolloutFleet>>,
): Promise<void> {
  process.stdout.write('  panel: a missing Src, in the panel and in the Problems view\n');
  const svc = JSON.parse(readFileSync(local.serviceFile, 'utf8'));
  writeFileSync(local.serviceFile, JSON.stringify({ ...svc, Src: 'dist/web-v3.zip' }, null, 2));
  await frame.locator('#issues li', { hasText: 'dist/web-v3.zip does not exist' }).waitFor({ timeout: 30_000 });
  await runCommand(page, 'Problems: Focus on Problems View');
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'dist/web-v3.zip does not exist' });
  await problem.waitFor({ timeout: 30_000 });
  assert.doesNotMatch(await page.locator('.markers-panel').innerText(), /npm run/);
  await screenshot(page, '11-problems-missing-src');

  process.stdout.write('  panel: the flaky build, judged by its traffic and rolled back\n');
  writeFileSync(
    local.serviceFile,
    JSON.stringify(
      {
        ...svc,
        Src: 'dist/web-v2-flaky.zip',
        SoakSecs: 4,
        RollbackOnFailure: true,
        Analysis: { MinRequests: 15, MaxErrorRate: 0.05, IntervalSecs: 0.5 },
      },
      null,
      2,
    ),
  );
  await problem.waitFor({ state: 'detached', timeout: 30_000 });
  const start = frame.locator('vscode-button[data-action="start"]');
  await frame
    .locator('vscode-button[data-action="start"]:not([disabled])[title*="web-v2-flaky.zip"]')
    .waitFor({ timeout: 30_000 });
  await start.click();
  // the last rollout ended: Start asks, and says the package is another one now
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 30_000 });
  assert.match(
    await dialog.innerText(),
    /Start a new rollout of web-v2-flaky\.zip \([0-9a-f]{8}\)\? Src changed since/,
  );
  await dialog.locator('a.monaco-button', { hasText: 'Start New Rollout' }).click();
  const banner = frame.locator('#end-banner[data-end-state="ESCanaryFailure"]');
  await banner.waitFor({ timeout: 90_000 });
  const sentence = await banner.locator('.sentence').innerText();
  assert.match(
    sentence,
    /^Rolled back: the canary 127\.0\.0\.1:\d+ serves web-v2\.zip again; 0 of 4 upgraded in \d+ s$/,
  );
  assert.match(
    await banner.innerText(),
    /canary analysis failed: canary error rate [\d.]+ % \(\d+ of \d+\) is over MaxErrorRate 5\.0 %/,
  );
  const canary = frame.locator('.bk[data-backend][data-now="old"]');
  assert.equal(
    await canary.locator('.c-now').innerText(),
    'web-v2.zip again',
    'the canary row shows what it serves now',
  );
  assert.equal(await canary.locator('.strip span.failed').getAttribute('data-step'), 'soak');
  const resume = frame.locator('vscode-button[data-action="resume"]');
  assert.equal(await resume.getAttribute('disabled'), '', 'Resume would roll the same bad build out again');
  assert.match((await resume.getAttribute('title')) ?? '', /^The canary analysis judged web-v2-flaky\.zip bad/);
  const chart = frame.locator('.canary-analysis[data-verdict="fail"]');
  assert.equal(await chart.locator('svg').count(), 2, 'error rate and latency charts');
  assert.equal(await chart.locator('.chart[data-chart="Error rate"] svg circle.fail').count(), 1);
  assert.equal(await chart.locator('.chart[data-chart="Error rate"] svg path.limit').count(), 1);
  // the notification says it as a sentence too, not ESCanaryFailure
  const toast = page.locator('.notifications-toasts .notification-toast', {
    hasText: 'Fleet: Rolled back: the canary',
  });
  await toast.waitFor({ timeout: 30_000 });
  assert.doesNotMatch(await toast.innerText(), /ES[A-Z]/);
  await screenshot(page, '12-rollout-flaky-rolled-back');
  assert.match(await httpGet(`${local.proxyUrl}/`), /\(v2\)/, 'the rolled-back canary answers v2 again');

  process.stdout.write('  panel: at 300, 525 and 1,000 px, light and dark: nothing breaks inside a word\n');
  await runCommand(page, 'Notifications: Clear All Notifications');
  await runCommand(page, 'View: Hide Panel'); // the Problems view: the panel gets the whole window
  await page.locator('.tabs-container .tab', { hasText: 'Rollout:' }).click();
  await runCommand(page, 'View: Maximize Editor Group and Hide Side Bars');
  await canary.locator('.bk-main').click(); // its details open: the agent's URL, what it ran, each step
  await canary.locator('.bk-more .agent').waitFor();
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(frame, ws, settings, theme);
    for (const width of [300, 525, 1000]) {
      await setPanelWidth(page, frame, width, width < 500 ? 1900 : 1150);
      assert.deepEqual(await layoutProblems(frame), [], `at ${width} px, ${theme}`);
      await frame.locator('body').evaluate(() => window.scrollTo(0, 0)); // the top: banner, buttons, chart
      await screenshot(page, `13-rollout-${theme}-${width}px`);
    }
  }
}

runScript('rollout panel UI test', main);
