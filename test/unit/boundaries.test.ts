// Architecture rules that code review alone would let slip.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const root = join(__dirname, '../..');

describe('boundaries', () => {
  it('core/ never imports vscode', () => {
    const offenders = files(join(root, 'core')).filter((f) => /from 'vscode'|require\('vscode'\)/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('core/ never imports the front ends', () => {
    const offenders = files(join(root, 'core')).filter((f) => /from '\.\.\/+(\.\.\/)*(cli|extension|webviews)\//.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('every ssh2 connect sets hostVerifier', () => {
    for (const f of files(join(root, 'core'))) {
      const text = readFileSync(f, 'utf8');
      if (text.includes('.connect({') && text.includes("from 'ssh2'")) assert.ok(text.includes('hostVerifier:'), `${f} connects without hostVerifier`);
    }
  });
});
