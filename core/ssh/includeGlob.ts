// Include's file patterns, as glob(3) expands them for ssh: * ? [..] in any path segment.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** glob(3) enough for Include: * ? [..] in any path segment, no hidden files for a wildcard, sorted */
export function glob(pattern: string): string[] {
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : parts[0]];
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i];
    if (!seg) continue;
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const b of bases) {
      if (!/[*?[]/.test(seg)) {
        const p = join(b, seg);
        if (exists(p, last)) next.push(p);
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(b);
      } catch {
        continue;
      }
      const re = new RegExp(
        `^${seg
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')
          .replace(/\[!/g, '[^')}$`,
      );
      for (const n of names.sort())
        if (!n.startsWith('.') && re.test(n) && exists(join(b, n), last)) next.push(join(b, n));
    }
    bases = next;
  }
  return bases.sort();
}

function exists(p: string, wantFile: boolean): boolean {
  try {
    const st = statSync(p);
    return wantFile ? st.isFile() : st.isDirectory();
  } catch {
    return false;
  }
}
