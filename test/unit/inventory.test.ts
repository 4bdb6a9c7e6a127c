import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, ValidationError } from '../../core/errors';
import { addresses, checkScanSize, parseCidr } from '../../core/inventory/cidr';
import { loadInventory } from '../../core/inventory/fleetFile';
import { SshConfig } from '../../core/ssh/sshConfig';
import { parseTarget } from '../../core/inventory/target';
import { resolveTarget } from '../../core/targets/resolve';

describe('CIDR', () => {
  it('expands a network in address order', () => {
    const c = parseCidr('127.0.0.254/31');
    assert.deepEqual([...addresses(c)], ['127.0.0.254', '127.0.0.255']);
    assert.equal(parseCidr('10.1.2.3/24').base, parseCidr('10.1.2.0/24').base);
    assert.equal([...addresses(parseCidr('127.0.0.0/27'))].length, 32);
  });

  for (const bad of ['10.0.0.0/33', '10.0.0/24', '256.0.0.0/8', '10.0.0.0/x', 'abc', '01.2.3.4/8', '1.2.3.4/8/1']) {
    it(`rejects ${bad} naming it`, () => {
      assert.throws(
        () => parseCidr(bad),
        (e: Error) => e instanceof UsageError && e.message.includes(JSON.stringify(bad)),
      );
    });
  }

  it('refuses more than a /16 without force', () => {
    assert.throws(() => checkScanSize([parseCidr('10.0.0.0/8')], false), /need --force/);
    checkScanSize([parseCidr('10.0.0.0/8')], true);
    checkScanSize([parseCidr('10.0.0.0/16')], false);
  });
});

describe('targets', () => {
  it('parses user@host:port, host, and [v6]:port', () => {
    assert.deepEqual(parseTarget('deploy@web1:2200'), {
      label: 'deploy@web1:2200',
      host: 'web1',
      user: 'deploy',
      port: 2200,
    });
    assert.deepEqual(parseTarget('web1'), { label: 'web1', host: 'web1', user: undefined, port: undefined });
    assert.equal(parseTarget('[::1]:22').host, '::1');
  });
  for (const bad of ['a@b:0', 'a@b:99999', 'a@b:x', '-oProxyCommand=x', 'a b']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseTarget(bad), UsageError));
  }
});

describe('~/.ssh/config resolution', () => {
  const cfg = SshConfig.parse(
    [
      'Host web',
      '  HostName 127.0.0.5',
      '  User deploy',
      '  Port 2201',
      '  IdentityFile ~/.ssh/web_%r',
      '  ProxyJump bastion',
      'Host bastion',
      '  HostName 127.0.0.6',
      '  User jump',
      'Host *',
      '  User fallback',
      'Match exec "touch /tmp/fleet-should-never-exist"',
      '  User pwned',
    ].join('\n'),
  );

  it('applies HostName, User, Port, IdentityFile and ProxyJump', () => {
    const e = resolveTarget('web', cfg);
    assert.equal(e.host, '127.0.0.5');
    assert.equal(e.user, 'deploy');
    assert.equal(e.port, 2201);
    assert.deepEqual(e.optionalIdentityFiles, [join(homedir(), '.ssh', 'web_deploy')]);
    assert.deepEqual(e.identityFiles, [], 'files from ssh_config are optional: a missing one is skipped');
    assert.equal(e.jump.length, 1);
    assert.equal(e.jump[0].host, '127.0.0.6');
    assert.equal(e.jump[0].user, 'jump');
  });

  it('lets the target and flags override the config', () => {
    const e = resolveTarget('root@web:22', cfg, { user: 'x' });
    assert.equal(e.user, 'root');
    assert.equal(e.port, 22);
    assert.equal(resolveTarget('web', cfg, { user: 'x' }).user, 'x');
  });

  it('never runs Match exec, and says so', () => {
    assert.equal(resolveTarget('other', cfg).user, 'fallback');
    assert.ok(!existsSync('/tmp/fleet-should-never-exist'));
    assert.match(cfg.warnings.join('\n'), /line 12: Match exec is not run by Fleet/);
  });

  it('lists concrete aliases only', () => {
    assert.deepEqual(cfg.aliases(), ['web', 'bastion']);
  });
});

describe('fleet.json', () => {
  it('names the file and field of a bad entry', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'inv-')), 'fleet.json');
    writeFileSync(
      file,
      JSON.stringify({
        hosts: [
          { name: 'a', host: 'h' },
          { name: 'b', host: 'h', port: 70000 },
        ],
      }),
    );
    assert.throws(
      () => loadInventory(file),
      (e: Error) => e instanceof ValidationError && e.message.startsWith(`${file}: hosts[1].port:`),
    );
  });
  it('reports JSON syntax errors with the file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'inv-')), 'fleet.json');
    writeFileSync(file, '{"hosts": [');
    assert.throws(
      () => loadInventory(file),
      (e: Error) => e instanceof ValidationError && e.message.includes('not valid JSON'),
    );
  });
});
