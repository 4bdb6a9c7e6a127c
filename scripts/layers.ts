// The layering rules as data: layers.json names each room of the code and what it may import. This
// module reads the imports the code really has (TypeScript's parser: static imports and re-exports;
// `import type` told apart) and renders the map ARCHITECTURE.md shows. test/unit/boundaries.test.ts
// checks every import against layers.json and that ARCHITECTURE.md's map is the one rendered here;
// `npm run layers` writes it. import('x') with a literal is read too; require() is not (the code
// has none between rooms).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface Room {
  room: string;
  files?: string;
  does: string;
  mayImport: string[];
  mayImportTypes?: string[];
}

export interface Edge {
  file: string;
  from: string;
  to: string;
  typeOnly: boolean;
}

export const root = join(__dirname, '..');
const top = ['core', 'agent', 'lb', 'demo', 'examples', 'cli', 'webviews', 'extension'];
const begin = '<!-- layers: written by npm run layers from layers.json; edit that file -->';
const end = '<!-- /layers -->';

export function readLayers(): Room[] {
  return (JSON.parse(readFileSync(join(root, 'layers.json'), 'utf8')) as { rooms: Room[] }).rooms;
}

/** the room of a file: a core folder, the core root, or a top folder */
export function roomOf(rel: string): string | undefined {
  const p = rel.split('/');
  if (!top.includes(p[0])) return undefined;
  if (p[0] === 'core') return p.length > 2 ? `core/${p[1]}` : 'core';
  return p[0];
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** every import of the rooms' code that leaves its room: another room, or an npm package */
export function importEdges(): Edge[] {
  const out: Edge[] = [];
  for (const dir of top)
    for (const file of tsFiles(join(root, dir))) {
      const rel = relative(root, file);
      const from = roomOf(rel)!;
      const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
      const add = (spec: string, typeOnly: boolean) => {
        if (spec.startsWith('node:')) return;
        const to = spec.startsWith('.')
          ? roomOf(relative(root, resolve(dirname(file), spec)))
          : `npm:${spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]}`;
        if (to && to !== from) out.push({ file: rel, from, to, typeOnly });
      };
      const visit = (n: ts.Node) => {
        if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier)
          add((n.moduleSpecifier as ts.StringLiteral).text, isTypeOnly(n));
        // import('x'), as the CLI loads an ES module
        else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
          const [arg] = n.arguments;
          if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
        }
        n.forEachChild(visit);
      };
      visit(src);
    }
  return out;
}

function isTypeOnly(st: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(st)) return st.isTypeOnly;
  const c = st.importClause;
  if (!c) return false; // a side-effect import runs code
  if (c.isTypeOnly) return true;
  const named = c.namedBindings;
  return !c.name && !!named && ts.isNamedImports(named) && named.elements.every((e) => e.isTypeOnly);
}

/** may `from` import `to` (typeOnly: with `import type`)? */
export function allowed(rooms: readonly Room[], e: Pick<Edge, 'from' | 'to' | 'typeOnly'>): boolean {
  const r = rooms.find((x) => x.room === e.from);
  if (!r) return false;
  const match = (list: readonly string[] = []) =>
    list.includes(e.to) || (list.includes('core/*') && e.to.startsWith('core/'));
  return match(r.mayImport) || (e.typeOnly && match(r.mayImportTypes));
}

/** the map as ARCHITECTURE.md shows it */
export function renderMap(rooms: readonly Room[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '| room | does | may import |',
    '|---|---|---|',
    ...rooms.map((r) => {
      const may = [...r.mayImport, ...(r.mayImportTypes ?? []).map((t) => `${t} (types only)`)];
      const name = r.files ?? `${r.room}/`;
      return `| \`${name}\` | ${cell(r.does)} | ${may.map((m) => m.replace(/^npm:/, '')).join(', ') || '—'} |`;
    }),
  ];
  return [begin, ...lines, end].join('\n');
}

/** ARCHITECTURE.md's text with its map rendered from layers.json */
export function architectureWithMap(text: string, rooms: readonly Room[]): string {
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`ARCHITECTURE.md has no map between "${begin}" and "${end}"`);
  return text.slice(0, a) + renderMap(rooms) + text.slice(b + end.length);
}

if (require.main === module) {
  const file = join(root, 'ARCHITECTURE.md');
  writeFileSync(file, architectureWithMap(readFileSync(file, 'utf8'), readLayers()));
  process.stdout.write('ARCHITECTURE.md: the map written from layers.json\n');
}
