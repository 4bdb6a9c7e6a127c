// What Fleet's SSH client sends, read from a real sshd's own log. Public-key authentication: identity
// files are signed at once (one USERAUTH_REQUEST, no "test pkalg" query, no "Postponed"), a refused
// key costs one request and the next one logs in, RSA keys sign with rsa-sha2-256, and ssh-agent
// keys keep the query (an agent may ask its user to confirm every signature). After it: the
// server's host key announcement is not answered with a request to prove every key, only
// acknowledged at once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client } from 'ssh2';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { waitFor } from '../harness/net';
import { spawnTracked, stopTracked } from '../harness/processes';
import { keygen, SshFleet } from '../harness/sshFleet';

describe('the SSH client on the wire (real sshd, its log)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  let home: string;
  let stranger: string;
  let rsaKey: string;

  before(async () => {
    f = await SshFleet.start(1);
    home = scratchHome();
    stranger = join(f.dir, 'stranger_ed25519');
    keygen(stranger, 'not-in-authorized-keys');
    rsaKey = join(f.dir, 'client_rsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa-client', '-f', rsaKey]);
    appendFileSync(join(f.dir, 'authorized_keys'), readFileSync(rsaKey + '.pub'));
  });
  after(async () => f?.stop());

  /** runs `true` on the host and returns what sshd logged about it */
  async function logOfRun(identities: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    const h = f.hosts[0];
    const offset = f.log(h).length;
    const ids = identities.flatMap((i) => ['--identity', i]);
    const r = await fleet(['run', h.target, ...ids, '--known-hosts', f.knownHostsFile, '--', 'true'], { home, env });
    assert.equal(r.code, 0, r.stderr);
    return f.logSince(h, offset);
  }

  const requests = (log: string) =>
    log.match(/userauth-request for user \S+ service ssh-connection method publickey/g) ?? [];

  it('signs with an identity file at once: one request, no query', async () => {
    const log = await logOfRun([f.clientKey]);
    assert.match(log, /Accepted publickey for \S+ .* ED25519/);
    assert.doesNotMatch(log, /test pkalg|Postponed publickey/);
    assert.equal(requests(log).length, 1, log);
  });

  it('a refused identity file costs one request, and the next one logs in', async () => {
    const log = await logOfRun([stranger, f.clientKey]);
    assert.match(log, /Failed publickey for \S+ .* ED25519/);
    assert.match(log, /Accepted publickey for \S+ .* ED25519/);
    assert.doesNotMatch(log, /test pkalg|Postponed publickey/);
    assert.equal(requests(log).length, 2, log);
  });

  it('signs an RSA key with rsa-sha2-256 at once', async () => {
    const log = await logOfRun([rsaKey]);
    assert.match(log, /Accepted publickey for \S+ .* RSA /);
    assert.doesNotMatch(log, /test pkalg|Postponed publickey/);
    assert.equal(requests(log).length, 1, log);
  });

  it('asks first for a key in ssh-agent, then signs', async () => {
    const sock = join(f.dir, 'agent.sock');
    const agent = spawnTracked('ssh-agent', ['-D', '-a', sock]);
    try {
      await waitFor(async () => {
        if (!existsSync(sock)) throw new Error(`ssh-agent never made ${sock}`);
      }, 5000);
      execFileSync('ssh-add', [f.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const log = await logOfRun([], { SSH_AUTH_SOCK: sock });
      assert.match(log, /test pkalg ssh-ed25519/);
      assert.match(log, /Accepted publickey for \S+ .* ED25519/);
    } finally {
      await stopTracked(agent);
    }
  });

  it('does not ask the server to prove its host keys (plain ssh2 does, on every connection)', async () => {
    const h = f.hosts[0];
    // plain ssh2 first: the same server, the same key, so the absence below is not for lack of an announcement
    const offset = f.log(h).length;
    await new Promise<void>((resolve, reject) => {
      const c = new Client();
      c.on('error', reject);
      c.on('ready', () =>
        c.exec('true', (err, ch) => (err ? reject(err) : ch.on('close', () => (c.end(), resolve())).resume())),
      );
      c.connect({
        host: h.address,
        port: h.port,
        username: f.loginName,
        privateKey: readFileSync(f.clientKey),
        hostVerifier: (key: Buffer) => h.knownHostsLine.endsWith(key.toString('base64')),
      });
    });
    assert.match(await f.logSince(h, offset), /rtype hostkeys-prove-00@openssh\.com/);
    const log = await logOfRun([f.clientKey]);
    assert.match(log, /Accepted publickey/);
    assert.doesNotMatch(log, /hostkeys-prove/);
  });

  it('acknowledges the host key announcement at once, before it asks for the exec', async () => {
    // sshd (Nagle on without a terminal) holds the channel confirmation until the announcement is
    // acknowledged; an SSH_MSG_IGNORE carries the ACK instead of the client's delayed ACK (40 ms)
    const g = await SshFleet.start(1, { extraConfig: ['LogLevel DEBUG3'] });
    try {
      const h = g.hosts[0];
      const r = await fleet(
        ['run', h.target, '--identity', g.clientKey, '--known-hosts', g.knownHostsFile, '--', 'true'],
        {
          home,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      const log = await g.logSince(h, 0);
      const at = (re: RegExp) => log.search(re);
      assert.ok(at(/notify_hostkeys: sent/) > 0, log);
      assert.ok(at(/Received SSH2_MSG_IGNORE/) > at(/notify_hostkeys: sent/), log);
      assert.ok(at(/receive packet: type 98\b/) > at(/Received SSH2_MSG_IGNORE/), log);
    } finally {
      await g.stop();
    }
  });
});
