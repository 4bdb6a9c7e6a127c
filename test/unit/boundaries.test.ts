// Architecture rules that code review alone would let slip.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { allowed, architectureWithMap, importEdges, readLayers, roomOf } from '../../scripts/layers';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const root = join(__dirname, '../..');

/** the files a source file imports, relative to the repository root (package imports left out) */
function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    relative(root, resolve(dirname(file), m[1])),
  );
}

describe('boundaries', () => {
  it('every import between rooms and of npm packages is one layers.json allows', () => {
    const rooms = readLayers();
    const bad = importEdges()
      .filter((e) => !allowed(rooms, e))
      .map((e) => `${e.file}: ${e.from} imports ${e.typeOnly ? 'types from ' : ''}${e.to}`);
    assert.deepEqual(bad, [], 'import through an allowed room, or change layers.json (and say why in the commit)');
  });

  it('layers.json names every room the code has, and allows nothing the code does not do', () => {
    const rooms = readLayers();
    const edges = importEdges();
    const have = new Set(edges.map((e) => e.from));
    assert.deepEqual(
      rooms.map((r) => r.room).filter((r) => !have.has(r) && r !== 'examples'),
      [],
      'rooms without code',
    );
    assert.deepEqual(
      [...have].filter((r) => !rooms.some((x) => x.room === r)),
      [],
      'code outside the rooms',
    );
    const unused = rooms.flatMap((r) =>
      [...r.mayImport, ...(r.mayImportTypes ?? [])]
        .filter((m) => m !== 'core/*' && !edges.some((e) => e.from === r.room && e.to === m))
        .map((m) => `${r.room} → ${m}`),
    );
    assert.deepEqual(unused, [], 'an allowance no import uses: remove it so the map says what the code does');
    assert.equal(roomOf('core/rollout/workflow.ts'), 'core/rollout');
  });

  it("ARCHITECTURE.md's map is layers.json rendered (npm run layers)", () => {
    const text = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
    assert.equal(text, architectureWithMap(text, readLayers()), 'run npm run layers');
  });

  it('the rooms of core import each other without a cycle', () => {
    const edges = importEdges().filter((e) => e.from.startsWith('core') && e.to.startsWith('core'));
    const next = new Map<string, Set<string>>();
    for (const e of edges) next.set(e.from, (next.get(e.from) ?? new Set()).add(e.to));
    const cycles: string[] = [];
    const walk = (room: string, path: string[]) => {
      if (path.includes(room)) return void cycles.push([...path.slice(path.indexOf(room)), room].join(' → '));
      for (const n of next.get(room) ?? []) walk(n, [...path, room]);
    };
    for (const r of next.keys()) walk(r, []);
    assert.deepEqual([...new Set(cycles)], []);
  });

  it('core/ never imports vscode', () => {
    const offenders = files(join(root, 'core')).filter((f) =>
      /from 'vscode'|require\('vscode'\)/.test(readFileSync(f, 'utf8')),
    );
    assert.deepEqual(offenders, []);
  });

  it('core/ never imports the front ends', () => {
    const offenders = files(join(root, 'core')).flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(cli|extension|webviews)\//.test(i))
        .map((i) => `${relative(root, f)} imports ${i}`),
    );
    assert.deepEqual(offenders, []);
  });

  it('core/ never imports the daemons or the demo fleet (lb/, agent/, demo/)', () => {
    const offenders = files(join(root, 'core')).flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(lb|agent|demo)\//.test(i))
        .map((i) => `${relative(root, f)} imports ${i}`),
    );
    assert.deepEqual(offenders, []);
  });

  it('core/ssh and core/inventory do not import each other; core/targets joins them', () => {
    const imports = (dir: string, other: RegExp) =>
      files(join(root, 'core', dir)).flatMap((f) =>
        importsOf(f)
          .filter((i) => other.test(i))
          .map((i) => `${relative(root, f)} imports ${i}`),
      );
    assert.deepEqual(imports('ssh', /^core\/(inventory|targets)\//), []);
    assert.deepEqual(imports('inventory', /^core\/(ssh|targets)\//), []);
  });

  it('folders and source files are named in camelCase', () => {
    const bad: string[] = [];
    const walk = (dir: string) => {
      for (const n of readdirSync(dir)) {
        if (
          ['node_modules', 'dist', 'out', '.tools', '.git', 'test-artifacts', 'schemas'].includes(n) ||
          n.startsWith('.')
        )
          continue;
        const p = join(dir, n);
        if (statSync(p).isDirectory()) {
          if (!/^[a-z][A-Za-z0-9]*$/.test(n)) bad.push(p);
          walk(p);
        } else if (n.endsWith('.ts') && !/^[a-z][A-Za-z0-9]*(\.test)?\.ts$/.test(n)) bad.push(p);
      }
    };
    for (const d of ['core', 'cli', 'agent', 'lb', 'demo', 'extension', 'webviews', 'test', 'bench'])
      walk(join(root, d));
    assert.deepEqual(bad, []);
  });

  it('the webview bundles no engine code: from core/ it imports types, and values only from core/rollout/constants (which imports nothing)', () => {
    const offenders: string[] = [];
    for (const f of files(join(root, 'webviews'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/^import (type )?[^'"]*'(\.{1,2}\/[^']+)'/gm)) {
        const target = relative(root, resolve(dirname(f), m[2]));
        if (target.startsWith('core/') && !m[1] && target !== 'core/rollout/constants')
          offenders.push(`${relative(root, f)} imports ${target}`);
      }
    }
    assert.deepEqual(offenders, []);
    assert.doesNotMatch(readFileSync(join(root, 'core/rollout/constants.ts'), 'utf8'), /^import /m);
  });

  it('every ssh2 connect sets hostVerifier', () => {
    for (const f of files(join(root, 'core'))) {
      const text = readFileSync(f, 'utf8');
      if (text.includes('.connect({') && text.includes("from 'ssh2'"))
        assert.ok(text.includes('hostVerifier:'), `${f} connects without hostVerifier`);
    }
  });
});
