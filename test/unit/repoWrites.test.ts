// A repository is untrusted input: whatever links, files and folders it ships at the paths Fleet
// writes beside a service.json or fleet.json (.fleet/, .fleet/packages/, .fleet/rollouts/, the
// wrapped zip, the journal, the lock, fleet.json itself), nothing outside the repository changes,
// and what Fleet refuses it refuses naming the path. Checked case by case, then generated.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { addHostsToInventory } from '../../core/inventory/editInventory';
import { loadService } from '../../core/rollout/config';
import { Journal } from '../../core/rollout/journal';
import { acquireRolloutLock } from '../../core/rollout/lock';
import { ownedDir, UnsafePathError, writeWholeSync } from '../../core/safeWrite';
import { fuzzRuns } from '../harness/fuzz';
import { minimalService } from '../harness/minimalService';

const binary = Buffer.from('#!/bin/sh\necho hello\n');
const wrapped = `app-${createHash('sha256').update(binary).digest('hex').slice(0, 16)}.zip`;

/** every file and link under `dir`, with its bytes or its target: what "nothing changed" compares */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      const key = relative(dir, p);
      if (st.isSymbolicLink()) out[key] = `link ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[key] = `dir ${st.mode & 0o777}`;
        walk(p);
      } else out[key] = `file ${st.mode & 0o777} ${readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}

/** a scratch area: `repo/` (a stranger's) and `outside/` (the user's other files, with one to protect) */
function area() {
  const root = mkdtempSync(join(tmpdir(), 'repo-writes-'));
  const repo = join(root, 'repo');
  const outside = join(root, 'outside');
  mkdirSync(repo);
  mkdirSync(outside);
  writeFileSync(join(outside, 'authorized_keys'), 'ssh-ed25519 AAAA the user\n', { mode: 0o600 });
  writeFileSync(join(repo, 'app'), binary, { mode: 0o755 });
  writeFileSync(join(repo, 'service.json'), JSON.stringify(minimalService()));
  writeFileSync(join(repo, 'fleet.json'), '{ "hosts": [] }\n');
  return { root, repo, outside };
}

/** what Fleet writes beside service.json, each as a person or CI would make it write */
const operations = {
  wrap: (repo: string) => loadService(join(repo, 'service.json')),
  lock: (repo: string) => acquireRolloutLock(join(repo, 'service.json'), 'test')(),
  journal: (repo: string) => {
    const j = Journal.create(join(repo, 'service.json'), 'fixed');
    j.append({ t: 'paused' });
    j.close();
  },
  inventory: (repo: string) => addHostsToInventory(join(repo, 'fleet.json'), [{ name: 'web9', host: '10.0.0.9' }]),
};

/** the paths those operations write, relative to the repository */
const written = [
  '.fleet',
  '.fleet/packages',
  '.fleet/rollouts',
  `.fleet/packages/${wrapped}`,
  '.fleet/rollouts/service.json.lock',
  '.fleet/rollouts/service.json.fixed.jsonl',
  'fleet.json',
];

type Plant = 'link-to-outside-dir' | 'link-to-outside-file' | 'dangling-link' | 'link-to-repo-file' | 'file';

function plant(repo: string, outside: string, path: string, kind: Plant): void {
  const at = join(repo, path);
  // the folders above it are made as real folders, unless something else was planted on the way
  let dir = repo;
  for (const part of path.split('/').slice(0, -1)) {
    dir = join(dir, part);
    try {
      if (!lstatSync(dir).isDirectory()) return;
    } catch {
      mkdirSync(dir);
    }
  }
  try {
    lstatSync(at);
    return; // planted already
  } catch {
    // free
  }
  if (kind === 'link-to-outside-dir') symlinkSync(outside, at);
  else if (kind === 'link-to-outside-file') symlinkSync(join(outside, 'authorized_keys'), at);
  else if (kind === 'dangling-link') symlinkSync(join(outside, 'made-by-fleet'), at);
  else if (kind === 'link-to-repo-file') symlinkSync(join(repo, 'app'), at);
  else writeFileSync(at, 'planted\n');
}

async function runAll(repo: string): Promise<string[]> {
  const refused: string[] = [];
  for (const [name, op] of Object.entries(operations)) {
    try {
      await op(repo);
    } catch (e) {
      // refused, naming the path: the only acceptable failure
      assert.ok(
        e instanceof UnsafePathError || /symbolic link|not a folder|not a regular file|EEXIST|ENOTDIR/.test(String(e)),
        `${name}: ${String(e)}`,
      );
      refused.push(name);
    }
  }
  return refused;
}

describe('writes beside a service.json never follow the repository', () => {
  it('a symlinked .fleet/packages is refused, naming it; the outside file is untouched', async () => {
    const { repo, outside } = area();
    mkdirSync(join(repo, '.fleet'));
    symlinkSync(outside, join(repo, '.fleet', 'packages'));
    const before = snapshot(outside);
    await assert.rejects(loadService(join(repo, 'service.json')), (e: Error) => {
      assert.ok(e instanceof UnsafePathError);
      assert.match(e.message, /\.fleet\/packages: is a symbolic link/);
      return true;
    });
    assert.deepEqual(snapshot(outside), before);
  });

  it('the wrapped zip over a link to authorized_keys replaces nothing outside (the case that gave a stranger a login)', async () => {
    const { repo, outside } = area();
    mkdirSync(join(repo, '.fleet', 'packages'), { recursive: true });
    symlinkSync(join(outside, 'authorized_keys'), join(repo, '.fleet', 'packages', wrapped));
    const before = snapshot(outside);
    await assert.rejects(loadService(join(repo, 'service.json')), /is a symbolic link/);
    assert.deepEqual(snapshot(outside), before);
  });

  it('a journal or lock planted as a link is not written through', async () => {
    const { repo, outside } = area();
    mkdirSync(join(repo, '.fleet', 'rollouts'), { recursive: true });
    symlinkSync(join(outside, 'authorized_keys'), join(repo, '.fleet', 'rollouts', 'service.json.fixed.jsonl'));
    symlinkSync(join(outside, 'authorized_keys'), join(repo, '.fleet', 'rollouts', 'service.json.lock'));
    const before = snapshot(outside);
    assert.throws(() => operations.journal(repo), /service\.json\.fixed\.jsonl: is a symbolic link/);
    operations.lock(repo); // the link is moved aside and replaced by a real lock, then released
    assert.deepEqual(snapshot(outside), before);
  });

  it('fleet.json as a link is refused; a real one is edited in place with its mode kept', () => {
    const { repo, outside } = area();
    writeFileSync(join(outside, 'inventory.json'), '{ "hosts": [] }\n');
    const linked = join(repo, 'linked.json');
    symlinkSync(join(outside, 'inventory.json'), linked);
    const before = snapshot(outside);
    assert.throws(
      () => addHostsToInventory(linked, [{ name: 'a', host: '10.0.0.1' }]),
      /linked\.json: is a symbolic link/,
    );
    assert.deepEqual(snapshot(outside), before);
    operations.inventory(repo);
    assert.match(readFileSync(join(repo, 'fleet.json'), 'utf8'), /"web9"/);
  });

  it('ownedDir refuses a file in the way and odd names; writeWholeSync leaves no temp file behind', () => {
    const { repo } = area();
    writeFileSync(join(repo, '.fleet'), 'not a folder');
    assert.throws(() => ownedDir(repo, '.fleet', 'x'), /\.fleet: is not a folder/);
    for (const bad of ['..', '.', 'a/b', '']) assert.throws(() => ownedDir(repo, bad), /not a plain folder name/);
    const d = ownedDir(repo, 'ok');
    writeWholeSync(join(d, 'f'), 'x');
    assert.deepEqual(readdirSync(d), ['f']);
  });

  it('Package.Binary that would escape the package is refused by the schema', async () => {
    const { repo } = area();
    for (const Binary of ['../../.ssh/authorized_keys', '/etc/passwd', 'a\nb', 'x/./y']) {
      writeFileSync(join(repo, 'service.json'), JSON.stringify(minimalService({ Package: { Binary } })));
      await assert.rejects(loadService(join(repo, 'service.json')), /Package\.Binary: a path inside the package/);
    }
  });

  it('property: links, dangling links and files at any of the written paths change nothing outside', async () => {
    const kinds: Plant[] = [
      'link-to-outside-dir',
      'link-to-outside-file',
      'dangling-link',
      'link-to-repo-file',
      'file',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...written), fc.constantFrom(...kinds)), { minLength: 1, maxLength: 4 }),
        async (plants) => {
          const { repo, outside } = area();
          for (const [path, kind] of plants) plant(repo, outside, path, kind);
          const before = snapshot(outside);
          await runAll(repo);
          assert.deepEqual(snapshot(outside), before);
        },
      ),
      { seed: 2611, numRuns: fuzzRuns(40, 2000) },
    );
  });
});
