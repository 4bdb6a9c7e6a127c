// Bundles the CLI, the agent, the extension and the rollout panel's webview into single files under dist/.
// ssh2's optional native addon (cpu-features, *.node) stays external: ssh2 then runs in pure-JS mode.
import { build } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['vscode', 'cpu-features', '*.node'],
  logLevel: 'warning',
  define: { FLEET_VERSION: JSON.stringify(version) },
  // jsonc-parser's main build is UMD with a require() esbuild cannot follow; its ESM build bundles
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
};

const entries = [
  // dist/cli.js is a small loader that runs dist/cli-main.js with a V8 code cache (cli/codeCache.ts)
  { in: 'cli/loader.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  { in: 'cli/bin.ts', out: 'dist/cli-main.js' },
  { in: 'agent/bin.ts', out: 'dist/agent.js', banner: '#!/usr/bin/env node' },
  { in: 'extension/extension.ts', out: 'dist/extension.js' },
];

/**
 * esbuild escapes non-ASCII characters in code but keeps them in the comments it carries over (a
 * dependency's "—" or "à"). One such character makes Node hold the whole bundle's source as a
 * two-byte string for the life of the process: 4.4 MB instead of 2.2 MB for the agent, about 2 MB
 * of its idle RSS (BENCHMARKS.md). A \uXXXX escape means the same in a string, a regex or an
 * identifier, and is plain text in a comment.
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

for (const e of entries) {
  await build({ ...common, entryPoints: [e.in], outfile: e.out, banner: e.banner ? { js: e.banner } : undefined });
  asciiOnly(e.out);
  chmodSync(e.out, 0o755);
}

// the rollout panel's browser code
await build({
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  sourcemap: 'linked',
  logLevel: 'warning',
  entryPoints: ['webviews/rollout/main.ts'],
  outfile: 'dist/webview-rollout.js',
});
