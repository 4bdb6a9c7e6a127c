// The files service.json names, checked as config.ts will load them, without writing anything:
// Src exists beside the file (symlinks resolved, as a service.json may only name files in its
// folder), a zip's Package.Binary is one of its entries and executable, the token files exist and
// are private. A missing Src offers the packages that are there as quick fixes.
import { resolveInside } from './config';
import { advice } from '../advice';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { modify } from 'jsonc-parser';
import type { CheckInput, Finding, QuickFix } from './diagnostics';
import { editDistance } from './nearestName';
import { packageEntries, programsOf } from './packageEntries';

export async function fileChecks(input: CheckInput): Promise<Finding[]> {
  const out: Finding[] = [];
  const v = input.value;
  const dir = dirname(input.file);
  if (typeof v.Src === 'string' && v.Src) {
    const src = resolveInside(dir, v.Src);
    if (!src.inside)
      out.push({
        severity: 'error',
        path: ['Src'],
        message: `${v.Src} is outside the folder of this file; a service.json may only name files beside it (${advice().otherSrc})`,
      });
    else {
      const kind = kindOf(src.path);
      if (kind === null)
        out.push({
          severity: 'error',
          path: ['Src'],
          message: `${v.Src} does not exist (looked for ${src.path}); build the package there, or point Src at it`,
          fixes: packageFixes(input, dir, src.path),
        });
      else if (kind !== 'file')
        out.push({
          severity: 'error',
          path: ['Src'],
          message: `${v.Src} is a ${kind}, not a package file (a .zip, or one binary)`,
        });
      else if (isZip(src.path)) out.push(...(await binaryChecks(input, v.Src, src.path)));
    }
  }
  for (const field of ['AgentTokenFile', 'LBTokenFile'] as const) {
    const f = v[field];
    if (typeof f !== 'string' || !f) continue;
    const t = resolveInside(dir, f);
    if (!t.inside) {
      out.push({
        severity: 'error',
        path: [field],
        message: `${f} is outside the folder of this file; give a token file elsewhere on the command line`,
      });
      continue;
    }
    let st;
    try {
      st = statSync(t.path);
    } catch {
      out.push({ severity: 'error', path: [field], message: `${f} does not exist (looked for ${t.path})` });
      continue;
    }
    if (!st.isFile()) out.push({ severity: 'error', path: [field], message: `${f} is not a file` });
    else if (process.platform !== 'win32' && (st.mode & 0o077) !== 0)
      out.push({
        severity: 'error',
        path: [field],
        message: `${f} is readable by others (mode ${(st.mode & 0o777).toString(8)}): Fleet refuses such a token file, as ssh refuses such a key; chmod 600 ${f}`,
      });
    else if (st.size < 16)
      out.push({ severity: 'error', path: [field], message: `${f} holds no token, or one shorter than 16 characters` });
  }
  return out;
}

/** Package.Binary against the zip's entries: present, a file, executable */
async function binaryChecks(input: CheckInput, srcText: string, zip: string): Promise<Finding[]> {
  let entries;
  try {
    entries = await packageEntries(zip);
  } catch (e) {
    return [{ severity: 'error', path: ['Src'], message: `${srcText} is not a readable zip: ${(e as Error).message}` }];
  }
  const programs = programsOf(entries);
  const pkg = input.value.Package as Record<string, unknown> | undefined;
  const binary = pkg && typeof pkg === 'object' ? pkg.Binary : undefined;
  const setBinary = (name: string): QuickFix => ({
    title: `Start ${name} (Package.Binary)`,
    edits: modify(input.text, ['Package', 'Binary'], name, { formattingOptions: { insertSpaces: true, tabSize: 2 } }),
  });
  const list = programs.length ? programs.slice(0, 8).join(', ') + (programs.length > 8 ? ', …' : '') : 'none';
  if (binary === undefined)
    return [
      {
        severity: 'error',
        path: pkg ? ['Package'] : ['Src'],
        atKey: Boolean(pkg),
        message: `${srcText} is a zip: Package.Binary must name the program inside it to start (its programs: ${list})`,
        fixes: programs.slice(0, 3).map(setBinary),
      },
    ];
  if (typeof binary !== 'string') return [];
  const entry = entries.find((e) => e.name === binary);
  if (!entry)
    return [
      {
        severity: 'error',
        path: ['Package', 'Binary'],
        message: `${binary} is not in ${srcText} (its programs: ${list})`,
        fixes: nearest(binary, programs).map(setBinary),
      },
    ];
  if (!entry.file)
    return [
      {
        severity: 'error',
        path: ['Package', 'Binary'],
        message: `${binary} is a directory in ${srcText}, not a program`,
      },
    ];
  if (!entry.executable && entries.some((e) => e.executable))
    return [
      {
        severity: 'warning',
        path: ['Package', 'Binary'],
        message: `${binary} is not executable in ${srcText} (no x bit in the zip): the agent keeps the zip's modes and could not start it`,
      },
    ];
  return [];
}

/** packages beside the file (its folder, the folder Src names, dist/) as quick fixes, nearest name first */
function packageFixes(input: CheckInput, dir: string, missing: string): QuickFix[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const d of [dirname(missing), dir, join(dir, 'dist')]) {
    if (seen.has(d) || !resolveInside(dir, d).inside) continue;
    seen.add(d);
    let names: string[] = [];
    try {
      names = readdirSync(d).slice(0, 500);
    } catch {
      continue;
    }
    for (const n of names) if (/\.zip$/i.test(n) && kindOf(join(d, n)) === 'file') found.push(join(d, n));
  }
  const want = basename(missing).toLowerCase();
  return found
    .sort((a, b) => editDistance(want, basename(a).toLowerCase()) - editDistance(want, basename(b).toLowerCase()))
    .slice(0, 3)
    .map((p) => {
      const rel = relative(dir, p).split(sep).join('/');
      const node = input.root.children?.find((c) => c.children?.[0]?.value === 'Src')?.children?.[1];
      return {
        title: `Use ${rel}`,
        edits: node ? [{ offset: node.offset, length: node.length, content: JSON.stringify(rel) }] : [],
      };
    })
    .filter((f) => f.edits.length);
}

function nearest(name: string, names: readonly string[]): string[] {
  return [...names].sort((a, b) => editDistance(name, a) - editDistance(name, b)).slice(0, 3);
}

function kindOf(p: string): 'file' | 'directory' | 'special file' | null {
  try {
    const st = statSync(p);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'special file';
  } catch {
    return null;
  }
}

function isZip(p: string): boolean {
  const head = Buffer.alloc(4);
  try {
    const fd = openSync(p, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  return head.equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
}
