import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ValidationError } from '../../core/errors';
import { loadService } from '../../core/rollout/config';
import { Journal, readJournal } from '../../core/rollout/journal';
import { foldProgress } from '../../core/rollout/progress';
import { makePlan } from '../../core/rollout/plan';
import { jsonSchemas } from '../../core/schemas/jsonSchemas';

const seed = {
  Concurrency: 2,
  CanaryNum: 1,
  MaxFailures: 2,
  Src: 'web',
  LB: '127.0.0.1:9091',
  Pattern: '/',
  Backends: ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094', '127.0.0.1:9095', '127.0.0.1:9096'],
};

function serviceDir(config: object, srcBody: Buffer | string = '#!/bin/sh\necho hi\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'svc-'));
  writeFileSync(join(dir, 'web'), srcBody, { mode: 0o755 });
  writeFileSync(join(dir, 'service.json'), JSON.stringify(config));
  return join(dir, 'service.json');
}

describe('service.json', () => {
  it("accepts the seed's format verbatim and wraps a single binary into a one-file package", async () => {
    const svc = await loadService(serviceDir(seed));
    assert.equal(svc.binary, 'web');
    assert.match(svc.zip, /\.fleet\/packages\/web-[0-9a-f]{16}\.zip$/);
    assert.equal(readFileSync(svc.zip).subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    assert.equal(svc.backends[0].agent, 'ssh://127.0.0.1', 'a plain backend means its own host over SSH');
    assert.equal(svc.config.SoakSecs, 60);
  });

  const invalid: Array<[string, object, RegExp]> = [
    ['Concurrency 0', { ...seed, Concurrency: 0 }, /: Concurrency: expected at least 1/],
    ['a negative MaxFailures', { ...seed, MaxFailures: -1 }, /: MaxFailures: expected 0 or more/],
    ['no backends', { ...seed, Backends: [] }, /: Backends: expected at least one backend/],
    ['a malformed backend', { ...seed, Backends: ['127.0.0.1'] }, /: Backends\[0\]: /],
    ['a host name backend', { ...seed, Backends: ['web1:80'] }, /: Backends\[0\]: /],
    [
      'a duplicate backend',
      { ...seed, Backends: ['127.0.0.1:1', '127.0.0.1:1'] },
      /: Backends\[1\]: backend 127\.0\.0\.1:1 is listed twice/,
    ],
    ['a bad LB address', { ...seed, LB: 'nope' }, /: LB: expected HOST:PORT/],
    ['an unknown field', { ...seed, Concurency: 3 }, /Concurency/],
    ['a missing Src file', { ...seed, Src: 'missing.zip' }, /: Src: .*missing\.zip does not exist/],
    [
      'haproxy without its socket',
      { ...seed, LBKind: 'haproxy' },
      /: HAProxySocket: LBKind haproxy needs HAProxySocket and HAProxyBackend/,
    ],
    ['a wrong type', { ...seed, CanaryNum: '1' }, /: CanaryNum: /],
  ];
  for (const [what, config, message] of invalid) {
    it(`rejects ${what}, naming the file and the field`, async () => {
      const file = serviceDir(config);
      await assert.rejects(
        loadService(file),
        (e: Error) => e instanceof ValidationError && e.message.startsWith(file) && message.test(e.message),
      );
    });
  }

  it('needs Package.Binary when Src is a zip', async () => {
    const file = serviceDir({ ...seed, Src: 'web' }, Buffer.from('PK\x03\x04rest'));
    await assert.rejects(loadService(file), /Package\.Binary: Src is a zip: name the program inside it to start/);
  });

  it('the committed JSON Schemas are current (npm run schemas)', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      assert.deepEqual(
        JSON.parse(readFileSync(join(__dirname, '../../schemas', name), 'utf8')),
        schema,
        `schemas/${name} is stale: run npm run schemas`,
      );
    }
  });
});

describe('rollout plan', () => {
  it('puts CanaryNum canaries first, then batches of Concurrency', async () => {
    const p = makePlan(await loadService(serviceDir(seed)));
    assert.deepEqual(p.canaries, ['127.0.0.1:9092']);
    assert.deepEqual(p.batches, [
      ['127.0.0.1:9093', '127.0.0.1:9094'],
      ['127.0.0.1:9095', '127.0.0.1:9096'],
    ]);
    assert.equal(p.lbActions.length, 5);
  });
});

describe('a service.json from someone else', () => {
  const outside = () => {
    const d = mkdtempSync(join(tmpdir(), 'secret-'));
    writeFileSync(join(d, 'id_ed25519'), 'PRIVATE KEY'.repeat(4), { mode: 0o600 });
    return join(d, 'id_ed25519');
  };

  for (const [what, field, value] of [
    ['Src outside its folder', 'Src', (o: string) => o],
    ['Src through ..', 'Src', (o: string) => `../${o.split('/').slice(-2).join('/')}`],
    ['AgentTokenFile outside its folder', 'AgentTokenFile', (o: string) => o],
    ['LBTokenFile outside its folder', 'LBTokenFile', (o: string) => o],
  ] as const) {
    it(`refuses ${what}, saying how to give the file on the command line`, async () => {
      const file = serviceDir({ ...seed, [field]: value(outside()) });
      await assert.rejects(
        loadService(file),
        (e: Error) =>
          e instanceof ValidationError &&
          e.field === field &&
          /is outside the folder of this file .* on the command line \(--[a-z-]+ FILE\)/.test(e.message),
      );
    });
  }

  it('refuses a Src that is a symlink out of its folder', async () => {
    const file = serviceDir({ ...seed, Src: 'web-link' });
    symlinkSync(outside(), join(dirname(file), 'web-link'));
    await assert.rejects(loadService(file), (e: Error) => e instanceof ValidationError && e.field === 'Src');
  });

  it('takes a file elsewhere when the command line names it (--src)', async () => {
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'pkg-')), 'web');
    writeFileSync(elsewhere, '#!/bin/sh\necho other\n', { mode: 0o755 });
    const svc = await loadService(serviceDir({ ...seed, Src: '/etc/passwd' }), { src: elsewhere });
    assert.equal(svc.src, elsewhere);
    assert.equal(makePlan(svc).src, elsewhere);
  });
});

describe('rollout journal', () => {
  it('folds to the exact step of each backend; a torn last line is ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'j-'));
    const j = Journal.create(join(dir, 'service.json'), 'r1');
    j.append({
      t: 'plan',
      id: 'r1',
      file: 'f',
      sha256: 'x',
      canaries: ['a'],
      rest: ['b', 'c'],
      concurrency: 2,
      maxFailures: 0,
    });
    for (const step of ['findApp', 'rmBackend'] as const) {
      j.append({ t: 'step', backend: 'a', step, phase: 'start', attempt: 1 });
      j.append({
        t: 'step',
        backend: 'a',
        step,
        phase: 'done',
        attempt: 1,
        next: step === 'findApp' ? 'rmBackend' : 'jobKill',
      });
    }
    j.append({ t: 'step', backend: 'a', step: 'jobKill', phase: 'start', attempt: 1 });
    j.append({ t: 'step', backend: 'b', step: 'cp', phase: 'failed', attempt: 3, error: 'boom' });
    j.close();
    writeFileSync(j.file, readFileSync(j.file, 'utf8') + '{"t":"step","backe');
    const st = foldProgress(['a', 'b', 'c'], 1, readJournal(j.file));
    const row = (addr: string) => st.rows.find((r) => r.addr === addr)!;
    assert.equal(row('a').next, 'jobKill');
    assert.equal(row('b').next, 'cp', 'resume starts at the failed step, not the first');
    assert.equal(row('c').next, 'findApp');
    assert.equal(st.canaryPhaseDone, false);
    assert.equal(st.endState, undefined);
    assert.equal(st.status, 'running');
    assert.equal(st.sha256, 'x');
  });

  it("reads a 0.1 journal's free-text finaliser lines as typed outcomes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'j-'));
    const file = join(dir, 'old.jsonl');
    const at = '2026-01-01T00:00:00.000Z';
    writeFileSync(
      file,
      [
        { t: 'finalize', backend: 'a', action: 'healthy: put back into the LB', at },
        { t: 'finalize', backend: 'b', action: 'left out of the LB: GET /healthz: ECONNREFUSED', at },
        { t: 'finalize', backend: 'c', action: 'rolled back to v1-abc', at },
        { t: 'finalize', backend: 'd', action: 'could not check or re-add: boom', at },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    assert.deepEqual(
      readJournal(file).map((e) => e.t === 'finalize' && [e.outcome, e.detail]),
      [
        ['readded', 'healthy: put back into the LB'],
        ['leftOut', 'GET /healthz: ECONNREFUSED'],
        ['rolledBack', 'v1-abc'],
        ['error', 'could not check or re-add: boom'],
      ],
    );
  });
});
