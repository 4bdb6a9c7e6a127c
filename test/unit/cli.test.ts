// The `fleet` command line in process: usage errors, exit codes and output formats, with stdout,
// stderr and stdin in memory (cli/io.ts). Nothing here needs a host; behaviour that does is in
// test/integration/.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../../cli/io';
import { main } from '../../cli/main';
import { Exit, exitCodeOf } from '../../cli/exitCodes';
import {
  AuthError,
  HostKeyError,
  MissingProgramError,
  TimeoutError,
  UnreachableError,
  UsageError,
  ValidationError,
} from '../../core/errors';
import { LbError } from '../../core/lb/types';
import { PreconditionError } from '../../core/rollout/workflow';

async function fleet(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const io = memoryIO(args, opts);
  const code = await main(io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const scratch = () => mkdtempSync(join(tmpdir(), 'fleet-cli-'));
/** an address nothing answers on: the commands below must fail before they would connect */
const nowhere = 'root@127.0.0.1:1';

describe('fleet CLI (in process)', () => {
  describe('exit codes', () => {
    const got = { type: 'ssh-ed25519', fingerprint: 'SHA256:x', line: '' };
    for (const [err, code] of [
      [new PreconditionError('pool degraded'), Exit.precondition],
      [new UsageError('bad flag'), Exit.usage],
      [new ValidationError('f.json', 'Backends', 'expected IP:PORT'), Exit.invalidInput],
      [new MissingProgramError('ping', 'iputils-ping'), Exit.missingProgram],
      [new HostKeyError('h', got, [], 'unknown', 'unknown host key'), Exit.unreachable],
      [new AuthError('h', 'no key worked'), Exit.unreachable],
      [new UnreachableError('h', 'refused'), Exit.unreachable],
      [new LbError('lb', 'malformed backend', 400), Exit.usage],
      [new LbError('lb', 'backend not in pool', 404), Exit.failed],
      [new TimeoutError('h', 'command', 2000), Exit.failed],
      [new TimeoutError('h', 'connect', 2000), Exit.unreachable],
      [new Error('anything else'), Exit.failed],
    ] as const) {
      it(`${err.constructor.name}${err instanceof TimeoutError ? ` (${err.what})` : err instanceof LbError ? ` (${err.status})` : ''} exits ${code}`, () => {
        assert.equal(exitCodeOf(err), code);
      });
    }
  });

  describe('usage errors exit 64 and name what is wrong', () => {
    for (const [args, message] of [
      [['run', '--bogus', 'h', '--', 'true'], /unknown option '--bogus'/],
      [['run', 'root@h:99999', '--', 'true'], /root@h:99999.*port must be a number/],
      [['run', 'h'], /no command given: use fleet run TARGETS -- CMD/],
      [['run', '--', 'true'], /no targets given/],
      [['run', 'h', '--concurrency', '0', '--', 'true'], /--concurrency must be a positive whole number, got "0"/],
      [['run', 'h', '--group', 'web', '--', 'true'], /--group needs --inventory FILE/],
      [['run', 'h', '--host-key-policy', 'yolo', '--', 'true'], /argument 'yolo' is invalid/],
      [['scan', '10.0.0.0/8'], /10\.0\.0\.0\/8 has 16,777,216 addresses; scans larger than a \/16 need --force/],
      [['scan', '10.0.0.300/24'], /invalid CIDR "10\.0\.0\.300\/24"/],
      [['push', 'only-one'], /usage: fleet push TARGETS\.\.\. LOCAL REMOTE/],
      [['hostkeys', 'scan'], /no targets: name hosts or use --inventory FILE/],
      [
        ['agent', 'list', 'http://127.0.0.1:1'],
        /http:\/\/127\.0\.0\.1:1 needs the agent's token: --token-file FILE or FLEET_AGENT_TOKEN/,
      ],
      [['agent', 'fetch-runtime', '--target', 'linux-mips'], /--target linux-mips: expected linux-x64 or linux-arm64/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ] as const) {
      it(`fleet ${args.join(' ')}`, async () => {
        const r = await fleet([...args]);
        assert.equal(r.code, Exit.usage, r.stderr);
        assert.match(r.stderr, message);
      });
    }
  });

  describe('invalid input files exit 65 naming the file and the field', () => {
    it('service.json: unknown field, bad backend, empty pattern, broken JSON', async () => {
      const dir = scratch();
      writeFileSync(join(dir, 'web'), '#!/bin/sh\n', { mode: 0o755 });
      const file = join(dir, 'service.json');
      const base = {
        Concurrency: 2,
        CanaryNum: 1,
        MaxFailures: 2,
        Src: 'web',
        LB: '127.0.0.1:9091',
        Pattern: '/',
        Backends: ['127.0.0.1:9092'],
      };
      for (const [config, message] of [
        [{ ...base, Concurency: 3 }, 'Concurency: unknown field; check its spelling'],
        [{ ...base, Backends: ['web1:80'] }, 'Backends[0]: expected IP:PORT'],
        [{ ...base, Pattern: '' }, 'Pattern: expected a URL path prefix'],
      ] as const) {
        writeFileSync(file, JSON.stringify(config));
        const r = await fleet(['rollout', file]);
        assert.equal(r.code, Exit.invalidInput);
        assert.ok(r.stderr.includes(`${file}: ${message}`), r.stderr);
      }
      writeFileSync(file, '{"Concurrency": 2,');
      const broken = await fleet(['rollout', file]);
      assert.equal(broken.code, Exit.invalidInput);
      assert.match(broken.stderr, /service\.json: not valid JSON/);
    });

    it('an expect script without steps', async () => {
      const file = join(scratch(), 'bad.json');
      writeFileSync(file, JSON.stringify({ steps: [] }));
      const r = await fleet(['expect', nowhere, file]);
      assert.equal(r.code, Exit.invalidInput);
      assert.match(r.stderr, /bad\.json: steps: expected at least one step/);
    });

    it('an unreadable key file, before any host is contacted', async () => {
      const r = await fleet(['run', nowhere, '--identity', '/nonexistent/key', '--', 'true']);
      assert.equal(r.code, Exit.invalidInput);
      assert.match(r.stderr, /\/nonexistent\/key: cannot read private key: ENOENT/);
    });

    it('a password file others can read, before any host is contacted', async () => {
      const pw = join(scratch(), 'pw');
      writeFileSync(pw, 'secret\n');
      chmodSync(pw, 0o644);
      const r = await fleet(['run', nowhere, '--password-file', pw, '--', 'true']);
      assert.equal(r.code, Exit.invalidInput);
      assert.match(r.stderr, /password file is readable by others \(mode 644\); chmod 600 it/);
      assert.ok(!r.stderr.includes('secret'));
    });

    it('an unreadable local file to push', async () => {
      const r = await fleet(['push', nowhere, join(scratch(), 'missing'), '~/x']);
      assert.equal(r.code, Exit.invalidInput);
      assert.match(r.stderr, /missing: cannot read: ENOENT/);
    });
  });

  describe('output', () => {
    it('--help and --version exit 0; no flag takes a password on the command line', async () => {
      const help = await fleet(['run', '--help']);
      assert.equal(help.code, Exit.ok);
      assert.doesNotMatch(help.stdout, /--password[ =<]/);
      assert.match(help.stdout, /--password-file <file>/);
      const v = await fleet(['--version']);
      assert.equal(v.code, Exit.ok);
      assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
    });

    it('rollout --dry-run prints the plan and changes nothing', async () => {
      const dir = scratch();
      writeFileSync(join(dir, 'web'), '#!/bin/sh\n', { mode: 0o755 });
      const file = join(dir, 'service.json');
      const backends = ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094', '127.0.0.1:9095'];
      writeFileSync(
        file,
        JSON.stringify({
          Concurrency: 2,
          CanaryNum: 1,
          MaxFailures: 1,
          Src: 'web',
          LB: '127.0.0.1:1',
          Pattern: '/',
          Backends: backends,
        }),
      );
      const r = await fleet(['rollout', file, '--dry-run']);
      assert.equal(r.code, Exit.ok, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      // where the package comes from and where it goes come first: a service.json from elsewhere shows its hand
      assert.match(lines[0], new RegExp(`^package: ${dir}/web \\(sha256 [0-9a-f]{16}…\\)$`));
      assert.equal(lines[1], 'load balancer: built-in LB 127.0.0.1:1 pool /');
      assert.equal(lines[2], 'agents:');
      assert.equal(lines[3], '  127.0.0.1:9092 ← ssh://127.0.0.1');
      const at = lines.indexOf('agents:') + 5;
      assert.match(lines[at], /^canaries \(one at a time, \d+s soak after each\): 127\.0\.0\.1:9092$/);
      assert.equal(lines[at + 1], 'batch 1: 127.0.0.1:9093, 127.0.0.1:9094');
      assert.equal(lines[at + 2], 'batch 2: 127.0.0.1:9095');
      assert.equal(
        lines.filter((l) =>
          /^ {2}127\.0\.0\.1:909\d: drain from built-in LB 127\.0\.0\.1:1 pool \/, stop, install web \([0-9a-f]{12}\), start, health \/healthz, re-add$/.test(
            l,
          ),
        ).length,
        4,
      );
      const json = await fleet(['rollout', file, '--dry-run', '--json']);
      assert.deepEqual(JSON.parse(json.stdout).canaries, ['127.0.0.1:9092']);
    });
  });
});
