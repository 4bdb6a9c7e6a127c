// OpenSSH certificates against real sshd (HostCertificate, TrustedUserCAKeys,
// AuthorizedPrincipalsFile), every key and certificate made by `ssh-keygen -s` here, with short
// validity windows and -n principals, and a real ssh-agent holding a certificate. Each case is
// also run through OpenSSH's own `ssh`: Fleet accepts and refuses exactly what ssh does, and says
// why in words.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyStore } from '../../core/ssh/auth';
import { connect } from '../../core/ssh/connect';
import type { SshEndpoint } from '../../core/ssh/endpoint';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { AuthError, HostKeyError } from '../../core/errors';
import { makeKey, publicLine, sign, startSshAgent, type SshAgent } from '../harness/sshCa';
import { SshFleet, type FleetHost } from '../harness/sshFleet';

/** what each host's sshd presents (host i of the fleet) */
const hostCases = [
  { name: 'a valid host certificate', accept: true, error: /./ },
  { name: 'an expired host certificate', accept: false, error: /it expired at 2020-01-02T00:00:00Z/ },
  {
    name: 'a host certificate for another name',
    accept: false,
    error: /is not among its principals \(other\.example\)/,
  },
  {
    name: 'a host certificate from an unknown CA',
    accept: false,
    error: /its CA SHA256:\S+ is not the one the @cert-authority line/,
  },
  {
    name: 'a host certificate from a revoked CA',
    accept: false,
    error: /the CA SHA256:\S+ that signed its certificate is marked @revoked/,
  },
  { name: 'an expired certificate beside a pinned plain key', accept: true, error: /./ },
  { name: 'an RSA host certificate (rsa-sha2-512-cert-v01)', accept: true, error: /./ },
  { name: 'an ECDSA host certificate signed by an ECDSA CA', accept: true, error: /./ },
  { name: 'a host certificate not valid yet', accept: false, error: /it is not valid yet \(valid from / },
  {
    name: 'no certificate, where a @cert-authority line covers the host',
    accept: false,
    error: /showed a plain key, not a certificate/,
  },
];

describe('OpenSSH certificates (real sshd, ssh-keygen -s, ssh-agent)', function () {
  this.timeout(120_000);
  let f: SshFleet;
  let dir: string;
  let kh: string;
  let agent: SshAgent;
  const ca: Record<string, string> = {};

  before(async () => {
    dir = join(process.env.TMPDIR ?? '/tmp', `fleet-certs-${process.pid}`);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const [n, kind] of [
      ['host', 'ed25519'],
      ['other', 'ed25519'],
      ['revoked', 'ed25519'],
      ['ecdsa', 'ecdsa'],
      ['user', 'ed25519'],
    ] as const)
      ca[n] = makeKey(join(dir, `ca_${n}`), kind);
    const principals = join(dir, 'principals');
    writeFileSync(principals, 'deployers\n', { mode: 0o644 });
    f = await SshFleet.start(hostCases.length, {
      hostConfig: (i, hdir, _f, address) => {
        const key = join(hdir, 'ssh_host_ed25519_key');
        const lines = [`TrustedUserCAKeys ${ca.user}.pub`];
        const cert = (k: string, c: string, o: Parameters<typeof sign>[2]) =>
          lines.push(`HostCertificate ${sign(c, `${k}.pub`, { host: true, principals: [address], ...o })}`);
        if (i === 0) cert(key, ca.host, {});
        if (i === 1) cert(key, ca.host, { validity: '20200101:20200102' });
        if (i === 2) cert(key, ca.host, { principals: ['other.example'] });
        if (i === 3) cert(key, ca.other, {});
        if (i === 4) cert(key, ca.revoked, {});
        if (i === 5) cert(key, ca.host, { validity: '20200101:20200102' });
        if (i === 5) lines.push(`AuthorizedPrincipalsFile ${principals}`);
        for (const [n, kind, c] of [
          [6, 'rsa', ca.host],
          [7, 'ecdsa', ca.ecdsa],
        ] as const)
          if (i === n) {
            const k = makeKey(join(hdir, `ssh_host_${kind}_key`), kind);
            lines.push(`HostKey ${k}`);
            cert(k, c, {});
          }
        if (i === 8) cert(key, ca.host, { validity: '+1d:+2d' });
        return lines;
      },
    });
    const subnet = f.hosts[0].address.replace(/\.\d+$/, '');
    kh = join(dir, 'known_hosts');
    writeFileSync(
      kh,
      [
        `@cert-authority [${subnet}.*]:${f.port} ${publicLine(ca.host + '.pub')}`,
        `@cert-authority [${f.hosts[3].address}]:${f.port},[${f.hosts[4].address}]:${f.port} ${publicLine(ca.revoked + '.pub')}`,
        `@cert-authority [${f.hosts[7].address}]:${f.port} ${publicLine(ca.ecdsa + '.pub')}`,
        `@revoked * ${publicLine(ca.revoked + '.pub')}`,
        f.hosts[5].knownHostsLine,
        '',
      ].join('\n'),
    );
    agent = await startSshAgent(dir);
  });
  after(async () => {
    await agent?.stop();
    await f?.stop();
  });

  const endpoint = (h: FleetHost, o: Partial<SshEndpoint> = {}): SshEndpoint => ({
    label: h.target,
    host: h.address,
    port: h.port,
    user: f.loginName,
    identityFiles: [],
    // a missing optional file: no default key of this machine's user is offered
    optionalIdentityFiles: [join(dir, 'absent')],
    jump: [],
    ...o,
  });

  /** Fleet's connection: null when it logged in, else the error */
  async function fleetLogin(ep: SshEndpoint, agentSocket = ''): Promise<Error | null> {
    const checker = new HostKeyChecker(new KnownHosts(kh), 'strict');
    try {
      const c = await connect(ep, { hostKeys: checker, keys: new KeyStore({ agentSocket }), readyTimeoutMs: 20_000 });
      c.end();
      return null;
    } catch (e) {
      return e as Error;
    }
  }

  /** OpenSSH's verdict on the same login: null when it logged in, else its stderr */
  function sshLogin(h: FleetHost, args: string[], agentSocket?: string): string | null {
    try {
      execFileSync(
        'ssh',
        [
          '-F',
          '/dev/null',
          '-o',
          `UserKnownHostsFile=${kh}`,
          '-o',
          'GlobalKnownHostsFile=/dev/null',
          '-o',
          'StrictHostKeyChecking=yes',
          '-o',
          'BatchMode=yes',
          ...(agentSocket ? [] : ['-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none']),
          ...args,
          '-p',
          String(h.port),
          `${f.loginName}@${h.address}`,
          'true',
        ],
        { stdio: 'pipe', env: { ...process.env, SSH_AUTH_SOCK: agentSocket ?? '' } },
      );
      return null;
    } catch (e) {
      return String((e as { stderr?: Buffer }).stderr ?? e);
    }
  }

  describe('host certificates: trusted through @cert-authority, as ssh trusts them', () => {
    hostCases.forEach((c, i) =>
      it(`${c.accept ? 'accepts' : 'refuses'} ${c.name}, as ssh does`, async () => {
        const h = f.hosts[i];
        const ep = endpoint(h, { identityFiles: [f.clientKey] });
        const checker = new HostKeyChecker(new KnownHosts(kh), 'strict');
        let err: Error | null = null;
        try {
          (await connect(ep, { hostKeys: checker, keys: new KeyStore({ agentSocket: '' }) })).end();
        } catch (e) {
          err = e as Error;
        }
        const ssh = sshLogin(h, ['-i', f.clientKey]);
        assert.equal(ssh === null, c.accept, `ssh: ${ssh}`);
        if (c.accept) {
          assert.equal(err, null, `Fleet: ${err?.message}`);
          if (i !== 5)
            assert.match(
              checker.describeTrust(h.target) ?? '',
              /host certificate signed by CA SHA256:\S+ \(@cert-authority /,
            );
          else assert.equal(checker.trustedVia(h.target), undefined, 'trusted by its pinned key, not the CA');
        } else {
          assert.ok(err instanceof HostKeyError, `Fleet: ${err}`);
          assert.match(err.message, c.error);
          assert.match(ssh!, /Host key verification failed/);
        }
      }),
    );

    it('checks the host certificate before any credential is sent', async () => {
      const h = f.hosts[1];
      const offset = f.log(h).length;
      assert.ok((await fleetLogin(endpoint(h, { identityFiles: [f.clientKey] }))) instanceof HostKeyError);
      const log = await f.logSince(h, offset);
      assert.doesNotMatch(log, /userauth-request|Accepted|Failed publickey/);
    });
  });

  describe('user certificates: TrustedUserCAKeys, AuthorizedPrincipalsFile', () => {
    let n = 0;
    /** a fresh user key (never in authorized_keys) and its certificate */
    function userKey(o: Parameters<typeof sign>[2] & { kind?: 'ed25519' | 'rsa' | 'ecdsa'; noCert?: boolean }) {
      const key = makeKey(join(dir, `user${n++}`), o.kind ?? 'ed25519');
      const cert = o.noCert
        ? `${key}-cert.pub`
        : sign(ca.user, `${key}.pub`, { id: `alice-${n}`, principals: [f.loginName], ...o });
      return { key, cert };
    }

    it('logs in with <key>-cert.pub beside the identity file (ed25519, RSA, ECDSA), as ssh does', async () => {
      for (const kind of ['ed25519', 'rsa', 'ecdsa'] as const) {
        const { key } = userKey({ kind });
        assert.equal(sshLogin(f.hosts[0], ['-i', key]), null, kind);
        assert.equal(await fleetLogin(endpoint(f.hosts[0], { identityFiles: [key] })), null, kind);
      }
    });

    it('logs in with ssh_config CertificateFile kept elsewhere, as ssh does', async () => {
      const { key } = userKey({ out: join(dir, 'elsewhere-cert.pub') });
      const cert = join(dir, 'elsewhere-cert.pub');
      assert.equal(sshLogin(f.hosts[0], ['-i', key, '-o', `CertificateFile=${cert}`]), null);
      const ep = { ...endpoint(f.hosts[0], { identityFiles: [key] }), certificateFiles: [cert] };
      assert.equal(await fleetLogin(ep), null);
    });

    it('logs in with a certificate ssh-agent holds (the agent signs), ed25519 and RSA, as ssh does', async () => {
      const h = f.hosts[0];
      for (const kind of ['ed25519', 'rsa'] as const) {
        const own = await startSshAgent(mkdirSync(join(dir, `agent-${kind}`), { recursive: true })!);
        try {
          const { key } = userKey({ kind });
          own.add(key); // ssh-add adds the -cert.pub beside it too
          assert.equal(sshLogin(h, [], own.sock), null, kind);
          const offset = f.log(h).length;
          assert.equal(await fleetLogin(endpoint(h), own.sock), null, kind);
          const log = await f.logSince(h, offset);
          assert.match(
            log,
            new RegExp(`Accepted publickey for \\S+ .* ${kind.toUpperCase()}-CERT SHA256:\\S+ ID alice-`),
            kind,
          );
        } finally {
          await own.stop();
        }
      }
    });

    it('logs in with a CertificateFile whose private key only ssh-agent holds', async () => {
      const { key } = userKey({ out: join(dir, 'agentonly-cert.pub') });
      const cert = join(dir, 'agentonly-cert.pub');
      agent.add(key);
      const ep = { ...endpoint(f.hosts[0]), certificateFiles: [cert] };
      assert.equal(await fleetLogin({ ...ep, identitiesOnly: true }, agent.sock), null);
    });

    it('logs in through AuthorizedPrincipalsFile with a principal other than the user name', async () => {
      const { key } = userKey({ principals: ['deployers'] });
      assert.equal(sshLogin(f.hosts[5], ['-i', key]), null);
      assert.equal(await fleetLogin(endpoint(f.hosts[5], { identityFiles: [key] })), null);
    });

    const refusals: Array<[string, () => { ep: SshEndpoint; ssh: string[] }, RegExp]> = [
      [
        'an expired certificate: names it, its window, and says to renew it',
        () => {
          const { key } = userKey({ validity: '20200101:20200102' });
          return { ep: endpoint(f.hosts[0], { identityFiles: [key] }), ssh: ['-i', key] };
        },
        /certificate \S+-cert\.pub \(key id "alice-\d+".*valid 2020-01-01T00:00:00Z to 2020-01-02T00:00:00Z\): it expired at 2020-01-02T00:00:00Z; renew it/,
      ],
      [
        'a certificate not valid yet',
        () => {
          const { key } = userKey({ validity: '+1d:+2d' });
          return { ep: endpoint(f.hosts[0], { identityFiles: [key] }), ssh: ['-i', key] };
        },
        /: it is not valid yet \(valid from \S+\); renew it/,
      ],
      [
        'a principal the server does not accept: the principal list it has',
        () => {
          const { key } = userKey({ principals: ['alice', 'ops'] });
          return { ep: endpoint(f.hosts[0], { identityFiles: [key] }), ssh: ['-i', key] };
        },
        /its principals \(alice, ops\) do not include the user \S+, and the server's AuthorizedPrincipalsFile allows none of them/,
      ],
      [
        "a principal AuthorizedPrincipalsFile does not list (the user's own name)",
        () => {
          const { key } = userKey({});
          return { ep: endpoint(f.hosts[5], { identityFiles: [key] }), ssh: ['-i', key] };
        },
        /was refused by the server: its CA is not in the server's TrustedUserCAKeys, or the server's AuthorizedPrincipalsFile for \S+ lists none of its principals/,
      ],
      [
        'a certificate whose private key is missing',
        () => {
          const { key } = userKey({ out: join(dir, 'orphan-cert.pub') });
          execFileSync('rm', [key]);
          const cert = join(dir, 'orphan-cert.pub');
          return {
            ep: { ...endpoint(f.hosts[0]), certificateFiles: [cert] },
            ssh: ['-o', `CertificateFile=${cert}`],
          };
        },
        /certificate \S+orphan-cert\.pub .* was not offered: its private key is in no identity file and no ssh-agent runs; add the key with ssh-add/,
      ],
    ];
    for (const [what, make, message] of refusals)
      it(`refuses ${what}, as ssh does`, async () => {
        const { ep, ssh } = make();
        assert.match(
          sshLogin(f.hosts[ep.host === f.hosts[5].address ? 5 : 0], ssh) ?? 'ssh logged in',
          /Permission denied/,
        );
        const err = await fleetLogin(ep);
        assert.ok(err instanceof AuthError, `Fleet: ${err}`);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /All configured authentication methods failed/);
      });
  });
});
