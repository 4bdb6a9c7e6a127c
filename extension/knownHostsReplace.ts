// Replaces the key pinned for a host whose key changed, once a person confirmed the new one: what
// `ssh-keygen -R NAME` then trusting the new key does, without leaving the editor. Only the plain
// lines that pin this name for the key's type go (a line naming other hosts too keeps them; hashed
// lines go whole, as ssh-keygen -R removes them); @cert-authority and @revoked lines stay. The file
// is rewritten whole (a temp file renamed over it, same mode), then the new key appended as ssh
// writes it. Pure of vscode.
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fingerprint, patternsMatch, type KnownHosts } from '../core/ssh/knownHosts';

export interface Replaced {
  /** what was pinned before, by line */
  removed: Array<{ lineNo: number; type: string; fingerprint: string }>;
}

/** the keys pinned for `name` that `key` contradicts; empty when the key is not a changed one */
export function pinnedFor(kh: KnownHosts, name: string, key: Buffer): Replaced['removed'] {
  const v = kh.verdict(name, key);
  return v.kind === 'changed'
    ? v.want.map((l) => ({ lineNo: l.lineNo, type: l.keyType, fingerprint: fingerprint(l.key) }))
    : [];
}

export function replacePinnedKey(kh: KnownHosts, name: string, key: Buffer): Replaced {
  kh.reload(); // the file as it is now, not as it was read when the window opened
  const v = kh.verdict(name, key);
  if (v.kind !== 'changed')
    throw new Error(`${name}: the key it shows is not a changed one (${v.kind}); nothing replaced`);
  const lines = readFileSync(kh.file, 'utf8').split('\n');
  const drop = new Set<number>();
  for (const l of v.want) {
    const i = l.lineNo - 1;
    const all = l.patterns.startsWith('|1|') ? [] : l.patterns.split(',');
    const kept = all.filter((p) => p.startsWith('!') || !patternsMatch(p, name));
    // a wildcard (`*.example.com`) pins other hosts too: Fleet will not widen or narrow it for one
    if (all.some((p) => !kept.includes(p) && /[*?]/.test(p)))
      throw new Error(
        `${kh.file} line ${l.lineNo} pins ${name} through the pattern ${l.patterns}, which other hosts share; edit that line yourself`,
      );
    if (kept.some((p) => !p.startsWith('!'))) lines[i] = lines[i].replace(l.patterns, kept.join(','));
    else drop.add(i);
  }
  const text = lines.filter((_, i) => !drop.has(i)).join('\n');
  const mode = statSync(kh.file).mode & 0o777;
  const tmp = `${kh.file}.fleet-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, kh.file);
  kh.reload();
  kh.append([{ name, key }]);
  return { removed: v.want.map((l) => ({ lineNo: l.lineNo, type: l.keyType, fingerprint: fingerprint(l.key) })) };
}
