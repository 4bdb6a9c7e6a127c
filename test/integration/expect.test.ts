// `fleet expect` against real prompt programs over real sshd: the talk's apt-get [Y/n] question,
// the "is already the newest" branch, a failure, and a secret that never reaches the transcript.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

describe('fleet expect (real sshd, pty)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  const dir = mkdtempSync(join(tmpdir(), 'prompts-'));
  chmodSync(dir, 0o755); // the hosts' login user runs the prompt programs in here
  // an apt-get look-alike: asks [Y/n] unless told the package is installed
  writeFileSync(
    join(dir, 'apt.sh'),
    [
      'if [ "$1" = installed ]; then echo "expect is already the newest version (5.45.4-2)."; exit 0; fi',
      'echo "Reading package lists... Done"',
      'printf "Do you want to continue? [Y/n] "',
      'read answer',
      'if [ "$answer" = Y ]; then echo "Setting up expect (5.45.4-2) ..."; else echo "Abort."; exit 1; fi',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'broken.sh'), 'echo "E: Unable to locate package expectt"; exit 100\n');
  writeFileSync(
    join(dir, 'login.sh'),
    [
      'printf "Password: "',
      'stty -echo',
      'read pw',
      'stty echo',
      'echo',
      '[ "$pw" = "$EXPECTED" ] && echo "welcome" || echo "denied"',
    ].join('\n'),
  );
  const script = (name: string, body: object) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };
  const aptCases = [
    { expect: 'Do you want to continue? [Y/n]', send: 'Y\n' },
    { expect: 'is already the newest', done: true },
  ];

  before(async () => {
    f = await SshFleet.start(1);
  });
  after(async () => f?.stop());
  const run = (file: string, env: NodeJS.ProcessEnv = {}) =>
    fleet(['expect', f.hosts[0].target, file, '--identity', f.clientKey, '--known-hosts', f.knownHostsFile], {
      home: scratchHome(),
      env,
    });

  it('answers Y to the apt-style [Y/n] question', async () => {
    const r = await run(
      script('apt', {
        command: `sh ${dir}/apt.sh`,
        fail: ['/^E: /m'],
        steps: [{ expect: aptCases }, { expect: 'Setting up expect' }],
      }),
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Do you want to continue\? \[Y\/n\] Y\n/);
    assert.match(r.stdout, /Setting up expect \(5\.45\.4-2\)/);
  });

  it('goes on when the package is already the newest (the other case)', async () => {
    const r = await run(script('newest', { command: `sh ${dir}/apt.sh installed`, steps: [{ expect: aptCases }] }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /is already the newest version/);
    assert.doesNotMatch(r.stdout, /Do you want to continue/);
  });

  it('stops with a clear error when a fail pattern appears (exit 1)', async () => {
    const r = await run(
      script('broken', { command: `sh ${dir}/broken.sh`, fail: ['/^E: .*/m'], steps: [{ expect: aptCases }] }),
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /step 1: output matched the fail pattern \/\^E: \.\*\/m: "E: Unable to locate package expectt"/,
    );
  });

  it('reports a timeout naming the step and what it waited for', async () => {
    const r = await run(script('slow', { command: 'sleep 30', timeoutSecs: 1, steps: [{ expect: 'never printed' }] }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /step 1: timed out after 1s waiting for "never printed"/);
  });

  it('a program stopped at a step deadline gets SIGTERM first: its cleanup runs (its lock file removed)', async () => {
    const tag = `expect-${process.pid}-${Date.now()}`;
    const lock = join(f.home, `${tag}.lock`);
    const r = await run(
      script('cleanup', {
        command: `sh -c 'touch ${lock}; trap "rm -f ${lock}; exit 143" TERM; sleep 600 & wait'`,
        timeoutSecs: 1,
        steps: [{ expect: 'never printed' }],
      }),
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /timed out after 1s/);
    // expect waits for the stop to finish: the cleanup has run by the time it exits
    assert.equal(existsSync(lock), false, 'the lock file was left behind (SIGKILL without SIGTERM first)');
  });

  it('never shows a secret in the transcript, even when the program echoes it', async () => {
    const secret = `pw-${process.pid}-s3cret`;
    // the interactive shell echoes the command line, and with it the secret: the mask must hide both
    const r = await run(
      script('login', {
        steps: [
          { expect: '/[#$] $/', send: `EXPECTED='${secret}' sh ${dir}/login.sh\n`, secret: true },
          { expect: 'Password: ', send: '${env:FLEET_TEST_SECRET}\n', secret: true },
          { expect: 'welcome' },
          { send: 'exit\n' },
        ],
      }),
      { FLEET_TEST_SECRET: secret, PS1: '$ ' },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /welcome/);
    assert.ok(!r.stdout.includes('s3cret') && !r.stderr.includes('s3cret'), r.stdout);
    assert.match(r.stdout, /\*{8}/);
  });

  it('masks a secret the terminal echoes in caret form (a control byte: pa^Ass), and a non-ASCII one', async () => {
    // the pty echoes what is typed (stty echo, echoctl: Linux's defaults): \x01 comes back as ^A
    const secret = `pa\x01ss-${process.pid}-s3cr€t`;
    const r = await run(
      script('caret', {
        command: 'printf "Token: "; read x; echo read-done',
        steps: [{ expect: 'Token: ', send: '${env:FLEET_TEST_SECRET}\n', secret: true }, { expect: 'read-done' }],
      }),
      { FLEET_TEST_SECRET: secret },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\*{8}/, 'the echo was there to mask');
    for (const part of ['s3cr', 'cr€t', '^Ass', 'pa\x01ss'])
      assert.ok(!r.stdout.includes(part) && !r.stderr.includes(part), `${JSON.stringify(part)} shows: ${r.stdout}`);
  });

  it('masks a secret the program echoes in error messages too (timeout, fail pattern)', async () => {
    const secret = `pw-${process.pid}-err-s3cret`;
    const echo = script('echoes', {
      command: 'read x; echo "got $x"; echo "E: bad $x"; sleep 30',
      timeoutSecs: 2,
      fail: ['/^E: .*$/m'],
      steps: [{ send: '${env:FLEET_TEST_SECRET}\n', secret: true }, { expect: 'never printed' }],
    });
    const failed = await run(echo, { FLEET_TEST_SECRET: secret });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /fail pattern/);
    assert.ok(!failed.stdout.includes('s3cret') && !failed.stderr.includes('s3cret'), failed.stderr);
    const slow = script('echoes-slow', {
      command: 'read x; echo "got $x"; sleep 30',
      timeoutSecs: 1,
      steps: [{ send: '${env:FLEET_TEST_SECRET}\n', secret: true }, { expect: 'never printed' }],
    });
    const timedOut = await run(slow, { FLEET_TEST_SECRET: secret });
    assert.match(timedOut.stderr, /timed out after 1s waiting for "never printed"; last output: .*\*{8}/);
    assert.ok(!timedOut.stderr.includes('s3cret'), timedOut.stderr);
  });
});
