// A real VS Code for tests on machines that cannot download VS Code: npm's code-server (VS Code
// 1.100.3's server and web workbench, installed by scripts/setup-vscode.sh into .tools/) driven
// by Debian's chromium through playwright-core. See shared/vscode-testing.md.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '../harness/net';
import { killAllTracked, spawnTracked, stopTracked } from '../harness/processes';

export const root = resolve(__dirname, '../..');
const serverMain = join(root, '.tools/code-server/node_modules/code-server/lib/vscode/out/server-main.js');
const chromiumPath = '/usr/bin/chromium';

export function ensureVscode(): void {
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: install the Debian package chromium (apt-get install -y chromium)`);
  if (!existsSync(serverMain)) execFileSync('bash', [join(root, 'scripts/setup-vscode.sh')], { stdio: 'inherit' });
}

export interface CodeServer {
  port: number;
  home: string;
  /**
   * the server's user data dir: its logs (extension host, remote agent) are under logs/, machine settings under
   * Machine/
   */
  userDataDir: string;
  proc: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

/** starts VS Code's server with a scratch HOME; resolves when its extension host agent listens */
export async function startCodeServer(
  opts: {
    home?: string;
    env?: NodeJS.ProcessEnv;
    installVsix?: string;
    /**
     * settings of the machine VS Code's server runs on: machine-scoped settings (fleet.knownHostsFile) live only here
     */
    machineSettings?: Record<string, unknown>;
    /** the user's settings (User/settings.json) */
    userSettings?: Record<string, unknown>;
    /** Workspace Trust on (default off: every folder is trusted); with it, a folder opens in Restricted Mode */
    workspaceTrust?: boolean;
  } = {},
): Promise<CodeServer> {
  ensureVscode();
  const port = await freePort();
  const base = mkdtempSync(join(tmpdir(), 'fleet-vscode-'));
  const home = opts.home ?? join(base, 'home');
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
  delete env.SSH_AUTH_SOCK;
  const dirs = [
    '--server-data-dir',
    join(base, 'server'),
    '--user-data-dir',
    join(base, 'user'),
    '--extensions-dir',
    join(base, 'ext'),
  ];
  if (opts.machineSettings) {
    mkdirSync(join(base, 'user', 'Machine'), { recursive: true });
    writeFileSync(join(base, 'user', 'Machine', 'settings.json'), JSON.stringify(opts.machineSettings));
  }
  if (opts.userSettings) {
    mkdirSync(join(base, 'user', 'User'), { recursive: true });
    writeFileSync(join(base, 'user', 'User', 'settings.json'), JSON.stringify(opts.userSettings));
  }
  if (opts.installVsix) {
    // the server's CLI mode installs an extension into the same dirs, then exits
    execFileSync(
      process.execPath,
      [serverMain, ...dirs, '--accept-server-license-terms', '--install-extension', opts.installVsix],
      { env, stdio: 'pipe', timeout: 120_000 },
    );
  }
  const proc = spawnTracked(
    process.execPath,
    [
      serverMain,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      '--disable-telemetry',
      ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
      ...dirs,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!out.includes('Extension host agent listening')) {
    if (proc.exitCode !== null) throw new Error(`VS Code server exited: ${out}`);
    if (Date.now() > deadline) throw new Error(`VS Code server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, home, userDataDir: join(base, 'user'), proc, log: () => out, stop: () => stopTracked(proc) };
}

export async function openBrowser(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'fleet-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** a browser on the workbench with what a failure needs recorded from the start: console, errors, a trace */
export interface UiSession {
  context: BrowserContext;
  /** the page under test (not the persistent context's first, blank tab, which is closed) */
  page: Page;
  /** every console message, page error and failed request of every frame, in order */
  events: string[];
  /** writes the evidence of a failure to test-artifacts/ and returns the paths */
  evidence(name: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function openUi(server: CodeServer): Promise<UiSession> {
  const context = await openBrowser();
  await context.tracing.start({ screenshots: true, snapshots: true });
  const page = await context.newPage();
  for (const p of context.pages()) if (p !== page) await p.close();
  const events: string[] = [];
  const stamp = () => new Date().toISOString().slice(11, 23);
  context.on('console', (m) => events.push(`${stamp()} console.${m.type()} [${m.location().url}] ${m.text()}`));
  context.on('weberror', (e) => events.push(`${stamp()} pageerror ${e.error().stack ?? e.error().message}`));
  context.on('requestfailed', (r) => events.push(`${stamp()} requestfailed ${r.url()}: ${r.failure()?.errorText}`));
  context.on('response', (r) => void (r.status() >= 400 && events.push(`${stamp()} HTTP ${r.status()} ${r.url()}`)));
  let closed = false;
  return {
    context,
    page,
    events,
    async evidence(name) {
      const dir = join(root, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      const files: string[] = [];
      const out = (suffix: string) => {
        const f = join(dir, `${name}${suffix}`);
        files.push(f);
        return f;
      };
      await page.screenshot({ path: out('.png') }).catch((e) => events.push(`screenshot failed: ${e}`));
      // the DOM of the editor area (which editors are open, and their webview iframes) and of every frame
      const dom: string[] = [];
      for (const f of page.frames()) {
        const html = await (
          f === page.mainFrame() ? f.locator('[id="workbench.parts.editor"]').evaluate((e) => e.outerHTML) : f.content()
        ).catch((e: Error) => `(unreadable: ${e.message})`);
        dom.push(`==== frame ${f.name() || '(main)'} ${f.url()}\n${html}`);
      }
      writeFileSync(out('.dom.html'), dom.join('\n\n'));
      writeFileSync(out('.console.txt'), events.join('\n') + '\n');
      writeFileSync(out('.code-server.log'), server.log());
      const logs = join(server.userDataDir, 'logs');
      if (existsSync(logs)) cpSync(logs, out('.server-logs'), { recursive: true });
      if (!closed)
        await context.tracing.stop({ path: out('.trace.zip') }).catch((e) => events.push(`trace failed: ${e}`));
      closed = true;
      return files;
    },
    async close() {
      if (!closed) await context.tracing.stop().catch(() => undefined);
      closed = true;
      await context.close();
    },
  };
}

/** runs fn with a UI session on the server; on failure writes the evidence and prints where it is */
export async function withUi<T>(name: string, server: CodeServer, fn: (ui: UiSession) => Promise<T>): Promise<T> {
  const ui = await openUi(server);
  try {
    return await fn(ui);
  } catch (e) {
    const files = await ui.evidence(`FAILED-${name}`);
    process.stderr.write(`${name}: evidence of the failure:\n${files.map((f) => `  ${f}`).join('\n')}\n`);
    throw e;
  } finally {
    await ui.close();
  }
}

/** the workbench URL that loads the extension from source (and a test runner, when given), or the installed one */
export function workbenchUrl(
  port: number,
  folder: string,
  extensionDevelopmentPath?: string,
  extensionTestsPath?: string,
): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
  if (!extensionDevelopmentPath) return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`;
  const payload: string[][] = [['extensionDevelopmentPath', remote(extensionDevelopmentPath)]];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/**
 * Waits until the workbench has loaded and knows the Fleet extension's contributions (its activity-bar
 * item): before that, the command palette does not list Fleet's commands even when the extension has
 * already activated in the extension host.
 */
export async function waitForFleet(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.activitybar .action-item a[aria-label^="Fleet"]').waitFor({ timeout: 60_000 });
}

export function writeWorkspace(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(root, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** runs a browser test script: exit 0 when main resolves, 1 (with the error) when it throws; kills what it started */
export function runScript(name: string, main: () => Promise<void>): void {
  main().then(
    () => {
      killAllTracked();
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`${name} failed: ${e instanceof Error ? e.stack : e}\n`);
      killAllTracked();
      process.exit(1);
    },
  );
}
