// `fleet agent deploy` onto a host where no node can run: a real sshd in a mount namespace of its
// own in which every node binary of this machine is /dev/null, logging in as a normal user. The
// agent must bring its own runtime, run a `#!/usr/bin/env node` package, upgrade without sending
// the runtime again or disturbing the package, roll back, survive a build that cannot start, and
// leave nothing behind when uninstalled.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runtimeId, runtimePins } from '../../core/agentInstall/runtimePins';
import { buildExamples } from '../../examples/build';
import { killMatching, pidsMatching } from '../harness/agentProcess';
import { DropbearHost } from '../harness/dropbearHost';
import { cliPath, fleet, scratchHome, withFlags } from '../harness/cli';
import { hidingWrapper, nodeBinaries } from '../harness/hiddenPrograms';
import { freePort, httpGet, waitFor } from '../harness/net';
import { keygen, SshFleet } from '../harness/sshFleet';
import { createTestUser, type TestUser } from '../harness/testUser';

interface DeployJson {
  host: string;
  outcome: string;
  agent: string;
  previous?: string;
  runtime: string;
  mode: string;
  sent: { runtime: number; agent: number };
  via: string;
  error?: string;
}

const rt = runtimeId('linux-x64');

describe('agent deploy to a host without node (real sshd, node hidden in its mount namespace)', function () {
  this.timeout(180_000);
  let f: SshFleet;
  let user: TestUser;
  let host: string;
  let flags: string[];
  let zips: Record<string, string>;
  let port: number;
  const tag = `web-nonode-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'agent-builds-'));
  const build2 = join(dir, 'agent-build2.js');
  const broken = join(dir, 'agent-broken.js');
  const ids: string[] = [];
  // the SFTP server, running as the test user, appends what it writes here
  const sftpLog = join(mkdtempSync(join(tmpdir(), 'sftp-log-')), 'sftp.log');
  writeFileSync(sftpLog, '', { mode: 0o666 });
  chmodSync(dirname(sftpLog), 0o755);
  chmodSync(sftpLog, 0o666);
  let packagePid = 0;

  /** the CLI with the test's SSH flags, put before a `--` (what follows it is the remote command) */
  const run = (args: string[]) => fleet(withFlags(args, flags), { home: scratchHome() });
  const deployJson = async (...extra: string[]): Promise<DeployJson> => {
    const r = await run(['agent', 'deploy', host, '--json', ...extra]);
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as DeployJson;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return line;
  };
  const info = async () => {
    const r = await run(['agent', 'info', `ssh://${host}`, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as { version: string; build: string; pid: number; node: string };
  };
  const home = () => user.home;

  before(async () => {
    user = createTestUser('fleetnonode');
    f = await SshFleet.start(1, {
      wrapper: hidingWrapper(nodeBinaries()),
      sftpLog,
      extraConfig: ['AuthorizedKeysFile %h/.ssh/authorized_keys'],
    });
    user.authorize(f.clientKey);
    host = `${user.name}@${f.hosts[0].address}:${f.port}`;
    flags = ['--identity', f.clientKey, '--known-hosts', f.knownHostsFile];
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    port = await freePort();
    const agentJs = join(__dirname, '../../dist/agent.js');
    writeFileSync(build2, readFileSync(agentJs, 'utf8') + '\n// a second build of the agent, for the upgrade test\n');
    writeFileSync(broken, "process.stderr.write('this agent build cannot start\\n');\nprocess.exit(3);\n");
    assert.ok(existsSync(cliPath));
  });
  after(async () => {
    user?.remove(); // ends the user's processes: the agent and the package, if a test failed midway
    await f?.stop();
  });

  it('no node can run on the host (the premise of the tests below)', async () => {
    const r = await run(['run', host, '--', 'sh', '-c', 'node --version']);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stdout, /node: (Permission denied|not found)/);
  });

  it('deploys the runtime and the agent; a #!/usr/bin/env node package runs on the runtime', async () => {
    const d = await deployJson();
    assert.equal(d.outcome, 'installed');
    assert.equal(d.mode, 'detached');
    assert.equal(d.runtime, rt);
    assert.equal(d.sent.runtime, runtimePins['linux-x64'].tarballBytes);
    assert.ok(d.sent.agent > 0 && d.sent.agent < 1e6, `the agent is sent gzip'd: ${d.sent.agent} bytes`);
    ids.push(d.agent);
    assert.equal(readlinkSync(join(home(), '.fleet/agent/current')), d.agent);
    assert.ok(statSync(join(home(), `.fleet/runtime/${rt}/bin/node`)).isFile());
    assert.equal((await info()).node, 'v20.20.2');

    const inst = await run([
      'agent',
      'install',
      `ssh://${host}`,
      'web',
      zips['web-v1'],
      'web',
      '--json',
      '--',
      '--port',
      String(port),
      '--node',
      tag,
    ]);
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    assert.match(await waitFor(() => httpGet(`http://127.0.0.1:${port}/`)), new RegExp(`${tag} \\(v1\\)`));
    packagePid = JSON.parse(inst.stdout).pid;
    // the package runs on the agent's runtime, found through the PATH the agent gave it
    assert.equal(realpathSync(`/proc/${packagePid}/exe`), join(home(), `.fleet/runtime/${rt}/bin/node`));
    const path = readFileSync(`/proc/${packagePid}/environ`, 'utf8')
      .split('\0')
      .find((e) => e.startsWith('PATH='));
    assert.ok(path?.startsWith(`PATH=${home()}/.fleet/agent/current/bin:`), path);
  });

  it('deploying the same build again says up to date and changes nothing', async () => {
    const before = await info();
    const r = await run(['agent', 'deploy', host]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`: up to date ${ids[0]} \\(detached, ${rt}\\)`));
    assert.match(r.stdout, /^agent deploy: 1 up to date \(1 host\)$/m);
    assert.equal((await info()).pid, before.pid, 'the agent was not restarted');
  });

  it('an upgrade sends only the agent bundle, never the runtime; the package keeps its pid', async () => {
    const offset = readFileSync(sftpLog, 'utf8').length;
    const node = statSync(join(home(), `.fleet/runtime/${rt}/bin/node`));
    const d = await deployJson('--agent-js', build2);
    assert.equal(d.outcome, 'upgraded');
    assert.equal(d.previous, ids[0]);
    assert.deepEqual(d.sent.runtime, 0);
    assert.ok(d.sent.agent > 0 && d.sent.agent < 5e6, `${d.sent.agent} bytes`);
    ids.push(d.agent);
    // what the server wrote, from its own SFTP log: one file, the gzip'd agent, of the size we report
    const log = readFileSync(sftpLog, 'utf8').slice(offset);
    const written = [...log.matchAll(/close "([^"]+)" bytes read \d+ written (\d+)/g)].filter((m) => Number(m[2]) > 0);
    assert.deepEqual(
      // pushFile writes `.<name>.fleet-<random>` beside the target, then renames it
      written.map((m) => [m[1].replace(/\/\.([^/]+)\.fleet-[0-9a-f]+$/, '/$1'), Number(m[2])]),
      [[join(home(), `.fleet/agent/.${d.agent}.js.gz`), d.sent.agent]],
      log,
    );
    const after = statSync(join(home(), `.fleet/runtime/${rt}/bin/node`));
    assert.equal(after.ino, node.ino, 'the runtime on the host is the same file');
    assert.equal((await info()).build, d.agent.split('-').pop());
    assert.deepEqual(pidsMatching(tag), [packagePid], 'the package kept running and was adopted');
    assert.deepEqual(
      readdirSync(join(home(), '.fleet/agent')).sort(),
      ['current', 'previous', ...ids].sort(),
      'two builds kept: current and previous',
    );
  });

  it('--rollback switches back to the previous build; the package keeps running', async () => {
    const d = await deployJson('--rollback');
    assert.equal(d.outcome, 'rolled back');
    assert.equal(d.agent, ids[0]);
    assert.equal(d.previous, ids[1]);
    assert.equal((await info()).build, ids[0].split('-').pop());
    assert.deepEqual(pidsMatching(tag), [packagePid]);
  });

  it('a build that cannot start is backed out: the previous agent runs again and the package is untouched', async () => {
    const r = await run(['agent', 'deploy', host, '--agent-js', broken]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /failed: .*did not start: the agent exited right after it started/);
    assert.match(r.stdout, /this agent build cannot start/, 'the error quotes the agent log');
    assert.match(r.stdout, new RegExp(`the previous agent ${ids[0]} runs again`));
    assert.match(r.stdout, /^agent deploy: 1 failed \(1 host\)$/m);
    assert.equal((await info()).build, ids[0].split('-').pop());
    assert.equal(readlinkSync(join(home(), '.fleet/agent/current')), ids[0]);
    assert.deepEqual(pidsMatching(tag), [packagePid]);
  });

  it('deploy --listen: TLS there, the certificate pinned over SSH; the read-only token only reads; a changed certificate is refused until pinned again', async () => {
    const me = scratchHome(); // one controller: the pins stay between these commands
    const cli = (args: string[]) => fleet(withFlags(args, flags), { home: me });
    const addr = f.hosts[0].address;
    const lp = await freePort();
    const tokens = mkdtempSync(join(tmpdir(), 'agent-tokens-'));
    const [full, read] = [join(tokens, 'agent.token'), join(tokens, 'agent-read.token')];
    const r = await cli([
      'agent',
      'deploy',
      host,
      '--json',
      '--listen',
      `${addr}:${lp}`,
      '--token-file',
      full,
      '--read-token-file',
      read,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const d = JSON.parse(r.stdout.trim().split('\n').pop()!) as DeployJson & { tls: unknown };
    assert.equal(d.outcome, 'started');
    const cert = readFileSync(join(home(), '.fleet-agent/tls-cert.pem'), 'utf8');
    const fp = new X509Certificate(cert).fingerprint256;
    assert.deepEqual(d.tls, { address: `${addr}:${lp}`, fingerprint: fp });
    const knownFile = join(me, '.fleet/known_agents.json');
    const pinned = JSON.parse(readFileSync(knownFile, 'utf8')).agents[`${addr}:${lp}`];
    assert.deepEqual([pinned.fingerprint, pinned.certificate], [fp, cert]);
    // the tokens made on this machine are the agent's now
    assert.equal(readFileSync(join(home(), '.fleet-agent/read-token'), 'utf8'), readFileSync(read, 'utf8'));
    assert.equal(readFileSync(join(home(), '.fleet-agent/token'), 'utf8'), readFileSync(full, 'utf8'));

    const ep = `https://${addr}:${lp}`;
    const list = await cli(['agent', 'list', ep, '--token-file', read, '--json']);
    assert.equal(list.code, 0, list.stdout + list.stderr);
    assert.equal(JSON.parse(list.stdout.trim()).pid, packagePid);
    const stop = await cli(['agent', 'stop', ep, 'web', '--token-file', read]);
    assert.equal(stop.code, 1, stop.stdout + stop.stderr);
    assert.match(stop.stdout + stop.stderr, /read-only.*\(HTTP 403\)/);
    assert.deepEqual(pidsMatching(tag), [packagePid], 'the read-only token stopped nothing');

    // a plain deploy keeps the listener: it is in the data dir, not on the command line
    const again = await cli(['agent', 'deploy', host]);
    assert.match(again.stdout, /: up to date /);
    assert.equal((await cli(['agent', 'info', ep, '--token-file', read])).code, 0);

    const j = JSON.parse(readFileSync(knownFile, 'utf8'));
    const wrong = Array(32).fill('AA').join(':');
    j.agents[`${addr}:${lp}`].fingerprint = wrong;
    writeFileSync(knownFile, JSON.stringify(j));
    const bad = await cli(['agent', 'list', ep, '--token-file', full]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    for (const want of [fp, wrong, 'fleet agent pin']) assert.ok((bad.stdout + bad.stderr).includes(want), bad.stderr);
    const pin = await cli(['agent', 'pin', host, '--agent-port', String(lp)]);
    assert.equal(pin.code, 0, pin.stdout + pin.stderr);
    assert.match(pin.stdout, new RegExp(`pinned ${addr.replace(/\./g, '\\.')}:${lp} SHA256 ${fp} \\(was ${wrong}\\)`));
    assert.equal((await cli(['agent', 'list', ep, '--token-file', full])).code, 0);
  });

  it('refuses to deploy while another deploy holds the host, naming the lock', async () => {
    const lock = join(home(), '.fleet/.deploy-lock');
    const { mkdirSync, rmdirSync } = await import('node:fs');
    mkdirSync(lock);
    try {
      const r = await run(['agent', 'deploy', host]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /another agent deploy is running there \(.*\.deploy-lock exists\)/);
    } finally {
      rmdirSync(lock);
    }
  });

  it('uninstall removes the agent and keeps packages; --purge stops them and leaves nothing', async () => {
    let r = await run(['agent', 'uninstall', host]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /packages, their state and logs stay in .*\.fleet-agent/);
    assert.ok(!existsSync(join(home(), '.fleet')));
    assert.deepEqual(pidsMatching(tag), [packagePid], 'the package still runs');
    assert.deepEqual(pidsMatching(`${home()}/.fleet/agent/current/agent.js`), [], 'no agent runs');

    // back again (the runtime goes up once more: uninstall removed it), then purge
    const d = await deployJson();
    assert.equal(d.outcome, 'installed');
    assert.deepEqual(pidsMatching(tag), [packagePid], 'the new agent adopted the package');
    r = await run(['agent', 'uninstall', host, '--purge']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /stopped web/);
    assert.deepEqual(readdirSync(home()), ['.ssh'], 'nothing of Fleet is left in the home directory');
    assert.deepEqual(pidsMatching(home()), [], 'no process of the agent or its packages is left');
    assert.deepEqual(pidsMatching(tag), []);
  });
});

describe('agent deploy through servers without SFTP or socket forwarding (Dropbear; sshd with it turned off)', function () {
  this.timeout(180_000);
  let user: TestUser;
  let dropbear: DropbearHost;
  let noForward: SshFleet;
  let flags: string[];
  let zips: Record<string, string>;
  const tag = `web-dropbear-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'dropbear-client-'));
  let remoteHome = '';
  const run = (args: string[]) => fleet(withFlags(args, flags), { home: scratchHome() });

  before(async () => {
    user = createTestUser('fleetdrop');
    const key = join(dir, 'client_ed25519');
    keygen(key, 'fleet-test-client');
    dropbear = await DropbearHost.start({ address: '127.86.0.10', port: 2299, user, clientKey: key, noSftp: true });
    noForward = await SshFleet.start(1, {
      extraConfig: ['AllowStreamLocalForwarding no'],
    });
    remoteHome = noForward.home;
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${dropbear.knownHostsLine}\n${noForward.hosts[0].knownHostsLine}\n`);
    flags = ['--identity', key, '--identity', noForward.clientKey, '--known-hosts', knownHosts];
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
  });
  after(async () => {
    if (remoteHome) killMatching(remoteHome);
    killMatching(tag);
    await dropbear?.stop();
    await noForward?.stop();
    user?.remove();
  });

  it('before a deploy, an ssh:// agent command says why it cannot reach the socket', async () => {
    const r = await run(['agent', 'list', `ssh://${dropbear.target}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /does not forward unix sockets .*, and the bridge to .*agent\.sock through Fleet's runtime failed: no Fleet runtime at .*; is the agent deployed there/,
    );
  });

  it('Dropbear without sftp-server: the bytes go over exec, requests through the runtime bridge; a package runs', async () => {
    const d = await run(['agent', 'deploy', dropbear.target]);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /: installed .* over an exec channel: no SFTP\)/);
    const port = await freePort();
    const ep = `ssh://${dropbear.target}`;
    const inst = await run([
      'agent',
      'install',
      ep,
      'web',
      zips['web-v1'],
      'web',
      '--',
      '--port',
      String(port),
      '--node',
      tag,
    ]);
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    assert.match(await waitFor(() => httpGet(`http://127.0.0.1:${port}/`)), new RegExp(`${tag} \\(v1\\)`));
    const u = await run(['agent', 'uninstall', dropbear.target, '--purge']);
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.deepEqual(readdirSync(user.home), ['.ssh']);
    assert.deepEqual(pidsMatching(tag), []);
  });

  it('OpenSSH with AllowStreamLocalForwarding no: deploy and agent commands still work', async () => {
    const target = noForward.hosts[0].target;
    const d = await run(['agent', 'deploy', target]);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    const i = await run(['agent', 'info', `ssh://${target}`]);
    assert.equal(i.code, 0, i.stdout + i.stderr);
    assert.match(i.stdout, /^agent \S+ on node v20\.20\.2/);
    // the server really refused: its log says so, for each forwarding we asked for
    assert.match(
      noForward.log(noForward.hosts[0]),
      /refused streamlocal port forward|streamlocal.*(disabled|refused)/i,
    );
    const u = await run(['agent', 'uninstall', target, '--purge']);
    assert.equal(u.code, 0, u.stdout + u.stderr);
  });
});
