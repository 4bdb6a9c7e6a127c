// Builds a mocha suite for the extension host and runs it in a real VS Code (code-server + chromium):
// the suite's report comes back as the page's console messages, its result through
// window.codeAutomationExit. Used by run.ts (the main suite) and restricted.ts (Restricted Mode).
import { format } from 'node:util';
import { join } from 'node:path';
import { build } from 'esbuild';
import { root, withUi, workbenchUrl, type CodeServer } from './codeServer';

/** bundles a suite entry (test/vscode/suite/…) into out/, as the extension host loads it */
export async function buildSuite(entry: string, name: string): Promise<string> {
  const out = join(root, `out/${name}/index.js`);
  await build({
    entryPoints: [join(root, entry)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha', 'cpu-features', '*.node'],
    logLevel: 'warning',
  });
  return out;
}

/** opens `folder` with the extension and the suite loaded; resolves with the suite's exit code */
export function runSuite(name: string, server: CodeServer, folder: string, suite: string): Promise<number> {
  return withUi(name, server, async ({ page }) => {
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
    await page.goto(workbenchUrl(server.port, folder, root, suite));
    const code = await Promise.race([exit, new Promise<number>((r) => setTimeout(() => r(124), 5 * 60_000))]);
    if (code === 124) throw new Error(`${name}: the extension tests did not finish in 5 minutes`);
    if (code !== 0) throw new Error(`${name}: extension tests failed (exit ${code})`);
    return code;
  });
}
