// Helpers for looking at the rollout panel as a person would at several widths and in both themes:
// the panel made exactly N px wide (the browser window resized until the webview measures N), the
// colour theme switched through the workspace's settings, and a check, measured in the page, that no
// header, address, button or name breaks inside a word and nothing runs off the side.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';

// the browser's globals, for the functions Playwright runs inside the page (this program has no DOM types)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, NodeFilter: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLElement = any;

/** resolves when fn gives the same value twice in a row (bounded); the value */
async function settled<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last = await fn();
  for (;;) {
    await new Promise((r) => setTimeout(r, 150));
    const now = await fn();
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    if (Date.now() > end) throw new Error(`never settled: ${JSON.stringify(last)} then ${JSON.stringify(now)}`);
    last = now;
  }
}

/** resizes the browser until the panel's page is `width` px wide (as its own document measures it) */
export async function setPanelWidth(page: Page, frame: FrameLocator, width: number, height = 1000): Promise<void> {
  const measure = () => frame.locator('body').evaluate(() => document.documentElement.clientWidth);
  let viewport = width + 60;
  for (let i = 0; i < 8; i++) {
    await page.setViewportSize({ width: viewport, height });
    const got = await settled(measure);
    if (got === width) return;
    viewport += width - got;
  }
  throw new Error(`the panel never measured ${width} px wide (last viewport ${viewport} px)`);
}

/** switches VS Code's colour theme through the workspace settings; resolves once the panel shows it */
export async function setTheme(
  frame: FrameLocator,
  workspace: string,
  settings: Record<string, unknown>,
  kind: 'light' | 'dark',
): Promise<void> {
  const theme = kind === 'light' ? 'Default Light Modern' : 'Default Dark Modern';
  writeFileSync(
    join(workspace, '.vscode/settings.json'),
    JSON.stringify({ ...settings, 'workbench.colorTheme': theme }),
  );
  await frame.locator(`body.vscode-${kind}`).waitFor({ timeout: 30_000 });
}

/**
 * What breaks inside a word or runs off the side: each header, address, agent URL, button label and
 * kept-whole name (`[data-nowrap]`, `.nowrap`, buttons) must fit one line or break only at spaces
 * (measured character by character), and the page must not be wider than the panel.
 */
export function layoutProblems(frame: FrameLocator): Promise<string[]> {
  return frame.locator('body').evaluate(() => {
    const problems: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1)
      problems.push(`the page is ${doc.scrollWidth} px wide in ${doc.clientWidth} px`);
    const targets = document.querySelectorAll(
      '[data-nowrap], .nowrap, .bk-head span, vscode-button, h1, .canary-badge',
    );
    for (const el of targets as HTMLElement[]) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue; // not shown at this width
      if (el.tagName === 'VSCODE-BUTTON' && el.scrollWidth > el.clientWidth + 1)
        problems.push(`button "${el.textContent}" is cut: ${el.scrollWidth} px in ${el.clientWidth} px`);
      if (box.right > doc.clientWidth + 1) problems.push(`"${el.textContent}" runs off the side`);
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      let prevTop: number | undefined;
      let prevChar = ' ';
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = n.textContent ?? '';
        for (let i = 0; i < text.length; i++) {
          const r = document.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + 1);
          const rect = r.getBoundingClientRect();
          if (rect.width === 0 && rect.height === 0) continue;
          if (prevTop !== undefined && rect.top > prevTop + 2 && !/\s/.test(prevChar) && !/\s/.test(text[i]))
            problems.push(`"${el.textContent?.trim()}" breaks inside a word, before "${text.slice(i, i + 12)}"`);
          prevTop = rect.top;
          prevChar = text[i];
        }
      }
    }
    return problems;
  });
}
