// Words for people in one place (core/advice.ts): a message in core that tells someone to pass a
// `--flag` reads wrong in the editor, where there is no command line. Every string and template in
// core/ is read with TypeScript's own parser (comments are not strings) and any `--word` in it fails
// this test unless core/advice.ts holds it, or the place is listed below with its reason. The places
// listed as reached only by the CLI are checked against the extension's bundle: if the editor ever
// reaches one, this fails too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import ts from 'typescript';

const root = join(__dirname, '..', '..');

/** file → why a `--flag` in its strings is not a word for a person in the editor */
const allowed: Record<string, { why: string; cliOnly?: boolean; only?: RegExp }> = {
  'core/advice.ts': { why: 'the one place: the CLI words and the editor words side by side' },
  'core/agentInstall/hostFacts.ts': { why: 'commands run on the host (node --version, systemctl --user)' },
  'core/agentInstall/deploy.ts': { why: 'commands run on the host' },
  'core/agentInstall/service.ts': { why: 'systemctl --user, run on the host' },
  'core/agentInstall/remoteHost.ts': { why: 'systemctl and journalctl options, run on the host' },
  'core/agentInstall/layout.ts': { why: "the agent's own argv on the host" },
  'core/agentInstall/runtimeCache.ts': { why: "npm pack's argv", only: /^--(pack-destination|silent)$/ },
  'core/agentInstall/tcpListener.ts': { why: 'the parse error of the --listen flag itself', only: /^--listen$/ },
  'core/ssh/sshConfig.ts': { why: 'the --jump flag named as the field it came from', only: /^--jump$/ },
  'core/inventory/fleetFile.ts': { why: "fleet.json's schema text: documentation of the CLI command that pins" },
  'core/inventory/editInventory.ts': {
    why: "the comment written at the top of a new fleet.json, naming the CLI's use",
  },
  'core/prometheus/scrapeConfig.ts': { why: 'fleet prometheus config', cliOnly: true },
  'core/agentInstall/uninstall.ts': { why: 'fleet agent uninstall', cliOnly: true },
  'core/rollout/fleetStatus.ts': { why: 'fleet status', cliOnly: true },
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** the text of every string literal and template piece in `file` */
function stringsOf(file: string): { line: number; text: string }[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (n: ts.Node) => {
    if (
      ts.isStringLiteral(n) ||
      ts.isNoSubstitutionTemplateLiteral(n) ||
      ts.isTemplateHead(n) ||
      ts.isTemplateMiddle(n) ||
      ts.isTemplateTail(n)
    )
      out.push({ line: src.getLineAndCharacterOfPosition(n.getStart()).line + 1, text: n.text });
    n.forEachChild(visit);
  };
  visit(src);
  return out;
}

describe('words for people: flags only through core/advice.ts', () => {
  it('no string in core names a --flag outside advice.ts and the places listed with their reason', () => {
    const found: string[] = [];
    for (const file of tsFiles(join(root, 'core'))) {
      const rel = relative(root, file);
      const allow = allowed[rel];
      for (const s of stringsOf(file))
        for (const m of s.text.matchAll(/(?:^|[\s(`'"])(--[a-z][a-z-]*)/g)) {
          if (allow && (!allow.only || allow.only.test(m[1]))) continue;
          found.push(`${rel}:${s.line}: ${m[1]} in ${JSON.stringify(s.text.slice(0, 100))}`);
        }
    }
    assert.deepEqual(found, [], 'move the hint into core/advice.ts (a CLI and an editor wording)');
  });

  it('the places allowed because only the CLI reaches them are not in the extension', async () => {
    const r = await esbuild.build({
      entryPoints: [join(root, 'extension', 'extension.ts')],
      bundle: true,
      platform: 'node',
      external: ['vscode', 'ssh2', 'cpu-features'],
      write: false,
      metafile: true,
      logLevel: 'silent',
      outfile: join(root, 'out-never-written.js'),
      absWorkingDir: root,
    });
    const inEditor = new Set(Object.keys(r.metafile.inputs));
    const cliOnly = Object.keys(allowed).filter((f) => allowed[f].cliOnly);
    assert.ok(cliOnly.length > 0);
    assert.deepEqual(
      cliOnly.filter((f) => inEditor.has(f)),
      [],
      'the editor reaches these now: their hints must go through core/advice.ts',
    );
    assert.ok(inEditor.has('core/advice.ts'), 'the bundle was read (advice.ts is in it)');
  });
});
