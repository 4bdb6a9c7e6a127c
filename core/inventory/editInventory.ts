// Adds hosts to a fleet.json without losing what a person wrote in it: comments, order and layout
// stay (jsonc-parser edits the text in place). A host already there (same address, or same name) is
// left alone and reported.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { applyEdits, modify, parse, type FormattingOptions } from 'jsonc-parser';
import { ownedDir, writeWholeSync } from '../safeWrite';
import type { InventoryHost } from './fleetFile';

const format: FormattingOptions = { insertSpaces: true, tabSize: 2, eol: '\n' };

export type NewHost = Pick<InventoryHost, 'name' | 'host'> & Partial<Pick<InventoryHost, 'port' | 'user' | 'groups'>>;

/** a fleet.json a person can read: what it is, then an empty host list with examples commented out */
export const inventoryTemplate = `// Fleet's inventory: the hosts of the Fleet view, of \`fleet run --inventory fleet.json\`, and of rollouts.
// The editor checks this file against Fleet's schema: hover a field to see what it means.
{
  // used by every host unless it says otherwise
  "defaults": {
    // "user": "deploy",
    // "identityFile": "~/.ssh/id_ed25519"
  },
  "hosts": [
    // name: how Fleet shows the host; host: its address, or a Host of ~/.ssh/config
    // { "name": "web1", "host": "10.0.0.11", "groups": ["web"] },
    // { "name": "db1", "host": "db1.example.internal", "port": 2222, "user": "admin", "groups": ["db"] }
  ]
}
`;

export function addHostsToInventory(file: string, hosts: readonly NewHost[]): { added: string[]; already: string[] } {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : inventoryTemplate;
  const current = (parse(text) ?? {}) as { hosts?: Array<{ name?: string; host?: string }> };
  const have = current.hosts ?? [];
  const added: string[] = [];
  const already: string[] = [];
  for (const h of hosts) {
    if (have.some((x) => x.host === h.host || x.name === h.name)) {
      already.push(h.name);
      continue;
    }
    const value = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined));
    text = applyEdits(text, modify(text, ['hosts', -1], value, { formattingOptions: format }));
    have.push(h);
    added.push(h.name);
  }
  // fleet.json may come from a repository: written whole, never through a link (core/safeWrite.ts)
  if (added.length) writeWholeSync(join(ownedDir(dirname(file)), basename(file)), text, modeOf(file));
  return { added, already };
}

/** a host name Fleet accepts (letters, digits, . _ -) from an alias or an address */
export function inventoryName(s: string): string {
  const n = s.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return (n || 'host').slice(0, 64);
}

/** the mode the file has (a new one: rw-r--r--, as an editor makes it) */
function modeOf(file: string): number {
  try {
    return lstatSync(file).mode & 0o777;
  } catch {
    return 0o644;
  }
}
