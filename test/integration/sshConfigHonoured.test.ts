// The ssh_config keywords that decide whom Fleet trusts and which credentials it offers, acted on as
// OpenSSH 9.2 acts on them (issue 27): the same config is given to `ssh` and to `fleet run`, against a
// real sshd, and both must get in or both be refused, for the same reason. UserKnownHostsFile and
// GlobalKnownHostsFile (the files a key is checked in, per hop; new keys pinned in the first user
// file), StrictHostKeyChecking (and how it meets --host-key-policy and --known-hosts), IdentityAgent.
// Where Fleet is deliberately stricter than ssh (a changed key under `no`, a key it cannot pin), the
// test says so and asserts both sides. README's ssh_config paragraph lists the same.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshAgent, type SshAgent } from '../harness/sshCa';
import { fleetLogin, requireSshClient, sshLogin, writeConfig, type Login } from '../harness/sshAndFleet';
import { SshFleet } from '../harness/sshFleet';

describe('ssh_config trust and credentials: Fleet acts as ssh does (real sshd, real ssh)', function () {
  this.timeout(120_000);
  let f: SshFleet;
  let dir: string;
  let n = 0;
  /** a HOME of its own for each fleet run: nothing one run pins in ~/.ssh/known_hosts reaches another */
  const home = () => {
    const h = join(dir, `home${n++}`);
    mkdirSync(join(h, '.ssh'), { recursive: true, mode: 0o700 });
    return h;
  };
  const hostName = () => f.hosts[0].knownHostsLine.split(' ')[0];

  before(async () => {
    requireSshClient();
    f = await SshFleet.start(2);
    dir = mkdtempSync(join(tmpdir(), 'ssh-honoured-'));
  });
  after(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** a config for host `t` (host i of the fleet) with `extra` lines; a fresh file each time */
  function config(extra: string[], i = 0, key = true): string {
    const h = f.hosts[i];
    return writeConfig(dir, `config${n++}`, [
      'Host t',
      `  HostName ${h.address}`,
      `  Port ${h.port}`,
      `  User ${f.loginName}`,
      ...(key ? [`  IdentityFile ${f.clientKey}`, '  IdentitiesOnly yes'] : []),
      ...extra.map((l) => `  ${l}`),
      'Host *',
      '  GlobalKnownHostsFile none',
    ]);
  }

  /** a known_hosts file holding `lines` */
  function knownHosts(...lines: string[]): string {
    const file = join(dir, `kh${n++}`);
    writeFileSync(file, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    return file;
  }

  /**
   * the same config to both; `knownHosts` is given on their command lines (ssh -o UserKnownHostsFile,
   * fleet --known-hosts), for the tests about something else
   */
  async function both(cfg: string, o: { flags?: string[]; env?: Record<string, string>; knownHosts?: string } = {}) {
    const kh = o.knownHosts;
    return {
      ssh: sshLogin(cfg, 't', { env: o.env, args: kh ? ['-o', `UserKnownHostsFile=${kh}`] : [] }),
      fleet: await fleetLogin(cfg, 't', {
        home: home(),
        flags: [...(kh ? ['--known-hosts', kh] : []), ...(o.flags ?? [])],
        env: o.env,
      }),
    };
  }

  function bothIn(r: { ssh: Login; fleet: Login }) {
    assert.ok(r.ssh.ok, `ssh: ${r.ssh.said}`);
    assert.ok(r.fleet.ok, `fleet: ${r.fleet.said}`);
  }

  /** both refused on the host key, before any login */
  function bothRefuseKey(r: { ssh: Login; fleet: Login }, fleetSays: RegExp) {
    assert.ok(!r.ssh.ok && /Host key verification failed/.test(r.ssh.said), `ssh: ${r.ssh.said}`);
    assert.ok(!r.fleet.ok, `fleet got in: ${r.fleet.said}`);
    assert.match(r.fleet.said, fleetSays);
  }

  describe('UserKnownHostsFile, GlobalKnownHostsFile', () => {
    it('the key in the second of two UserKnownHostsFiles, StrictHostKeyChecking yes: both get in', async () => {
      const files = `${knownHosts()} ${knownHosts(f.hosts[0].knownHostsLine)}`;
      bothIn(await both(config([`UserKnownHostsFile ${files}`, 'StrictHostKeyChecking yes'])));
    });

    it('the key only in a GlobalKnownHostsFile: both get in', async () => {
      const cfg = config([
        `UserKnownHostsFile ${knownHosts()}`,
        `GlobalKnownHostsFile /nonexistent/kh ${knownHosts(f.hosts[0].knownHostsLine)}`,
        'StrictHostKeyChecking yes',
      ]);
      bothIn(await both(cfg));
    });

    it('each hop is checked in its own files: a jump host and its target with their keys apart (swapped: both refused)', async () => {
      const [j, t] = f.hosts;
      const jumpKh = knownHosts(j.knownHostsLine);
      const targetKh = knownHosts(t.knownHostsLine);
      const chain = (jumpFile: string, targetFile: string) =>
        writeConfig(dir, `config${n++}`, [
          'Host jump',
          `  HostName ${j.address}`,
          `  UserKnownHostsFile ${jumpFile}`,
          'Host t',
          `  HostName ${t.address}`,
          '  ProxyJump jump',
          `  UserKnownHostsFile ${targetFile}`,
          'Host *',
          `  Port ${j.port}`,
          `  User ${f.loginName}`,
          `  IdentityFile ${f.clientKey}`,
          '  IdentitiesOnly yes',
          '  StrictHostKeyChecking yes',
          '  GlobalKnownHostsFile none',
          '  BatchMode yes',
        ]);
      bothIn(await both(chain(jumpKh, targetKh)));
      bothRefuseKey(await both(chain(targetKh, jumpKh)), /unknown host key/);
    });

    it("--known-hosts replaces the config's UserKnownHostsFile, as ssh's -o does: both refused when it lacks the key", async () => {
      const cfg = config([`UserKnownHostsFile ${knownHosts(f.hosts[0].knownHostsLine)}`, 'StrictHostKeyChecking yes']);
      const empty = knownHosts();
      const ssh = sshLogin(cfg, 't', { args: ['-o', `UserKnownHostsFile=${empty}`] });
      const fleet = await fleetLogin(cfg, 't', { home: home(), flags: ['--known-hosts', empty] });
      bothRefuseKey({ ssh, fleet }, /unknown host key/);
    });
  });

  describe('StrictHostKeyChecking', () => {
    it('yes, an unknown key: both refused, and a looser --host-key-policy accept-new does not loosen it', async () => {
      const pins = join(dir, `pins${n++}`);
      const cfg = config([`UserKnownHostsFile ${pins}`, 'StrictHostKeyChecking yes']);
      const r = {
        ssh: sshLogin(cfg, 't'),
        fleet: await fleetLogin(cfg, 't', { home: home(), flags: ['--host-key-policy', 'accept-new'] }),
      };
      bothRefuseKey(r, /unknown host key .*StrictHostKeyChecking yes/);
      assert.ok(!existsSync(pins), 'nothing pinned');
    });

    for (const value of ['accept-new', 'no']) {
      it(`${value}, an unknown key: both get in and pin it in the first UserKnownHostsFile, where the other finds it`, async () => {
        const [sshPins, fleetPins, second] = [0, 1, 2].map(() => join(dir, `pins${n++}`));
        const cfgFor = (pins: string) =>
          config([`UserKnownHostsFile ${pins} ${second}`, `StrictHostKeyChecking ${value}`]);
        const ssh = sshLogin(cfgFor(sshPins), 't');
        const fleet = await fleetLogin(cfgFor(fleetPins), 't', { home: home() });
        bothIn({ ssh, fleet });
        assert.ok(!existsSync(second), 'the second file is only read');
        for (const pins of [sshPins, fleetPins])
          assert.match(
            execFileSync('ssh-keygen', ['-F', hostName(), '-f', pins], { encoding: 'utf8' }),
            /found: line 1/,
          );
        // each one's pin, read by the other under yes
        const ssh2 = sshLogin(config([`UserKnownHostsFile ${fleetPins}`, 'StrictHostKeyChecking yes']), 't');
        const fleet2 = await fleetLogin(config([`UserKnownHostsFile ${sshPins}`, 'StrictHostKeyChecking yes']), 't', {
          home: home(),
        });
        bothIn({ ssh: ssh2, fleet: fleet2 });
      });
    }

    it('no, a changed key: ssh logs in with the key alone; Fleet refuses (never a changed key: README)', async () => {
      const other = f.hosts[1].knownHostsLine.split(' ').slice(1).join(' ');
      const changed = knownHosts(`${hostName()} ${other}`);
      const r = await both(config([`UserKnownHostsFile ${changed}`, 'StrictHostKeyChecking no']));
      assert.ok(r.ssh.ok && /Password authentication is disabled/.test(r.ssh.said), `ssh: ${r.ssh.said}`);
      assert.ok(!r.fleet.ok && /host key changed/.test(r.fleet.said), `fleet: ${r.fleet.said}`);
      assert.equal(readFileSync(changed, 'utf8'), `${hostName()} ${other}\n`, 'the pinned key stays');
    });

    it('ask, without a terminal: both refused, nothing pinned', async () => {
      const pins = join(dir, `pins${n++}`);
      bothRefuseKey(
        await both(config([`UserKnownHostsFile ${pins}`, 'StrictHostKeyChecking ask'])),
        /unknown host key .*no terminal to ask on/,
      );
      assert.ok(!existsSync(pins));
    });

    it('accept-new with UserKnownHostsFile none: both refused; with /dev/null ssh gets in keeping nothing, Fleet refuses', async () => {
      bothRefuseKey(
        await both(config(['UserKnownHostsFile none', 'StrictHostKeyChecking accept-new'])),
        /UserKnownHostsFile is none/,
      );
      const r = await both(config(['UserKnownHostsFile /dev/null', 'StrictHostKeyChecking accept-new']));
      assert.ok(r.ssh.ok, `ssh: ${r.ssh.said}`);
      assert.ok(!r.fleet.ok && /\/dev\/null is not a regular file/.test(r.fleet.said), `fleet: ${r.fleet.said}`);
    });

    it('--host-key-policy strict wins over a looser accept-new, as ssh -o StrictHostKeyChecking=yes does', async () => {
      const pins = join(dir, `pins${n++}`);
      const cfg = config([`UserKnownHostsFile ${pins}`, 'StrictHostKeyChecking accept-new']);
      const ssh = sshLogin(cfg, 't', { args: ['-o', 'StrictHostKeyChecking=yes'] });
      const fleet = await fleetLogin(cfg, 't', { home: home(), flags: ['--host-key-policy', 'strict'] });
      bothRefuseKey({ ssh, fleet }, /unknown host key/);
      assert.ok(!existsSync(pins));
    });
  });

  describe('IdentityAgent (no identity file: the agent holds the only key)', () => {
    let agent: SshAgent;
    before(async () => {
      agent = await startSshAgent(dir);
      agent.add(f.clientKey);
    });
    after(() => agent?.stop());
    const cfg = (identityAgent: string) => config([`IdentityAgent ${identityAgent}`], 0, false);
    const agentLogin = (value: string, env?: Record<string, string>) =>
      both(cfg(value), { env, knownHosts: knownHosts(f.hosts[0].knownHostsLine) });

    it('a socket path: both log in through that agent, with no SSH_AUTH_SOCK', async () => {
      bothIn(await agentLogin(agent.sock));
    });

    it('$NAME and ${NAME}: the socket that variable names; both log in', async () => {
      for (const v of ['$FLEET_TEST_AGENT', '${FLEET_TEST_AGENT}'])
        bothIn(await agentLogin(v, { FLEET_TEST_AGENT: agent.sock }));
    });

    it("SSH_AUTH_SOCK: the environment's agent; both log in", async () => {
      bothIn(await agentLogin('SSH_AUTH_SOCK', { SSH_AUTH_SOCK: agent.sock }));
    });

    for (const value of ['none', '/nonexistent/agent.sock'])
      it(`${value}, with SSH_AUTH_SOCK naming the agent: neither asks it, both fail to log in`, async () => {
        const r = await agentLogin(value, { SSH_AUTH_SOCK: agent.sock });
        assert.ok(!r.ssh.ok && /Permission denied/.test(r.ssh.said), `ssh: ${r.ssh.said}`);
        assert.ok(!r.fleet.ok && /authentication failed/.test(r.fleet.said), `fleet: ${r.fleet.said}`);
      });
  });
});
