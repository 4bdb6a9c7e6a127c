// service.json as the editor checks it (core/rollout/diagnostics.ts): each problem at its place in
// the text, in words, with a quick fix where one is obvious; real files beside it, a real zip, a
// real socket for the LB check. Hostile text (fast-check) never throws and never points outside it.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyEdits } from 'jsonc-parser';
import fc from 'fast-check';
import { checkService, type ServiceDiagnostic } from '../../core/rollout/diagnostics';
import { nearestName } from '../../core/rollout/nearestName';
import { serviceSchema } from '../../core/rollout/schema';
import { jsonSchemas } from '../../core/schemas/jsonSchemas';
import { buildExamples } from '../../examples/build';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

const base = {
  Concurrency: 2,
  CanaryNum: 1,
  MaxFailures: 1,
  Src: 'dist/web-v2.zip',
  LB: '127.0.0.1:9',
  Pattern: '/',
  Backends: ['127.0.0.1:9092', '127.0.0.1:9093', '127.0.0.1:9094'],
  Package: { Name: 'web', Binary: 'web' },
};

let dir: string;
before(async function () {
  this.timeout(30_000);
  dir = mkdtempSync(join(tmpdir(), 'svc-diag-'));
  await buildExamples(join(dir, 'dist'));
});

function write(config: object, name = 'service.json'): { file: string; text: string } {
  const file = join(dir, name);
  const text = JSON.stringify(config, null, 2);
  writeFileSync(file, text);
  return { file, text };
}

async function check(config: object, opts = {}): Promise<{ text: string; diags: ServiceDiagnostic[] }> {
  const { file, text } = write(config);
  return { text, diags: await checkService(file, text, opts) };
}

const at = (text: string, d: ServiceDiagnostic) => text.slice(d.offset, d.offset + d.length);

describe('service.json diagnostics', () => {
  it('a service.json whose files are there and whose limits agree has no problem', async () => {
    const { diags } = await check(base);
    assert.deepEqual(diags, []);
  });

  it('a missing Src: an error on its value, in words (no developer hint), with the packages beside it as fixes', async () => {
    const { text, diags } = await check({ ...base, Src: 'dist/web-v3.zip' });
    assert.equal(diags.length, 1, JSON.stringify(diags));
    const [d] = diags;
    assert.equal(d.field, 'Src');
    assert.equal(d.source, 'fleet');
    assert.equal(at(text, d), '"dist/web-v3.zip"');
    assert.match(
      d.message,
      /^dist\/web-v3\.zip does not exist \(looked for .*\/dist\/web-v3\.zip\); build the package there/,
    );
    assert.doesNotMatch(d.message, /npm/);
    const fixes = d.fixes!.map((f) => f.title);
    assert.equal(fixes.length, 3);
    assert.match(fixes[0], /^Use dist\/web-v[12]\.zip$/, 'the nearest name first');
    assert.equal(JSON.parse(applyEdits(text, d.fixes![0].edits)).Src, fixes[0].slice(4));
  });

  it('a Src outside the folder is refused as config.ts refuses it', async () => {
    const { diags } = await check({ ...base, Src: '../../etc/passwd' });
    assert.match(diags[0].message, /is outside the folder of this file/);
  });

  it('a misspelt field: "did you mean" with a rename, only when the meant field is not there already', async () => {
    const { CanaryNum: _, ...rest } = base;
    const { text, diags } = await check({ ...rest, Canarys: 1 });
    const typo = diags.find((d) => d.field === 'Canarys')!;
    assert.equal(typo.message, 'Canarys is not a field of service.json: did you mean CanaryNum?');
    assert.equal(at(text, typo), '"Canarys"');
    const fixed = applyEdits(text, typo.fixes![0].edits);
    assert.equal(serviceSchema.safeParse(JSON.parse(fixed)).success, true);
    // a missing field is said with what it means, at the object that lacks it
    const missing = diags.find((d) => d.field === 'CanaryNum')!;
    assert.equal(missing.source, 'schema');
    assert.match(missing.message, /^missing field CanaryNum: canaries, upgraded one at a time first/);
    // CanaryNum there as well: no rename that would make two
    const both = await check({ ...base, Canarys: 1 });
    const plain = both.diags.find((d) => d.field === 'Canarys')!;
    assert.equal(plain.source, 'schema');
    assert.equal(plain.fixes, undefined);
  });

  it('nearestName: case, typos, a shared stem; no guess when two fit equally', () => {
    const known = ['Concurrency', 'CanaryNum', 'MaxFailures', 'Src', 'IntervalSecs', 'SoakSecs'];
    assert.equal(nearestName('canarynum', known), 'CanaryNum');
    assert.equal(nearestName('Concurency', known), 'Concurrency');
    assert.equal(nearestName('Canarys', known), 'CanaryNum');
    assert.equal(nearestName('Interval', known), 'IntervalSecs');
    assert.equal(nearestName('Secs', known), undefined);
    assert.equal(nearestName('Whatever', known), undefined);
  });

  it('LB is not needed with HAProxy; the built-in LB needs it, said at the file', async () => {
    const { LB: _, ...noLb } = base;
    const h = await check({ ...noLb, LBKind: 'haproxy', HAProxySocket: 'admin.sock', HAProxyBackend: 'web' });
    assert.deepEqual(h.diags, []);
    assert.equal(serviceSchema.parse({ ...noLb, LBKind: 'haproxy', HAProxySocket: 's', HAProxyBackend: 'b' }).LB, '');
    const b = await check(noLb);
    assert.equal(b.diags.length, 1);
    assert.equal(b.diags[0].field, 'LB');
    assert.equal(b.diags[0].source, 'fleet');
    assert.match(b.diags[0].message, /the built-in LB's control address is needed: HOST:PORT/);
  });

  it("Package.Binary must be one of the zip's programs: an error with the program it has as the fix", async () => {
    const { text, diags } = await check({ ...base, Package: { Name: 'web', Binary: 'webb' } });
    assert.equal(diags.length, 1);
    assert.equal(diags[0].message, 'webb is not in dist/web-v2.zip (its programs: web)');
    assert.equal(at(text, diags[0]), '"webb"');
    assert.equal(JSON.parse(applyEdits(text, diags[0].fixes![0].edits)).Package.Binary, 'web');
    const none = await check({ ...base, Package: { Name: 'web' } });
    assert.match(
      none.diags[0].message,
      /is a zip: Package\.Binary must name the program inside it to start \(its programs: web\)/,
    );
    assert.equal(JSON.parse(applyEdits(none.text, none.diags[0].fixes![0].edits)).Package.Binary, 'web');
  });

  it('token files: missing, or readable by others, as Fleet will refuse them', async () => {
    const missing = await check({ ...base, AgentTokenFile: 'agent-token' });
    assert.match(missing.diags[0].message, /^agent-token does not exist/);
    writeFileSync(join(dir, 'lb-token'), 'x'.repeat(40), { mode: 0o644 });
    chmodSync(join(dir, 'lb-token'), 0o644);
    const open = await check({ ...base, LBTokenFile: 'lb-token' });
    assert.match(open.diags[0].message, /lb-token is readable by others \(mode 644\).*chmod 600 lb-token/);
    chmodSync(join(dir, 'lb-token'), 0o600);
    assert.deepEqual((await check({ ...base, LBTokenFile: 'lb-token' })).diags, []);
  });

  it('budgets that contradict each other are warnings with the numbers, at the field given', async () => {
    const { text, diags } = await check({
      ...base,
      MaxFailures: 2,
      StepTimeoutSecs: 10,
      Health: { TimeoutSecs: 30 },
      Analysis: { MinRequests: 5 },
    });
    const by = (f: string) => diags.find((d) => d.field === f);
    assert.match(by('MaxFailures')!.message, /MaxFailures 2 lets all 2 backends after the canaries fail/);
    assert.match(
      by('Health.TimeoutSecs')!.message,
      /may wait 30 s \(Health\.TimeoutSecs\), but each step ends after StepTimeoutSecs 10 s/,
    );
    assert.match(
      by('DrainTimeoutSecs')?.message ?? by('StepTimeoutSecs')!.message,
      /draining may take 30 s \(DrainTimeoutSecs, the default\)/,
    );
    const rb = by('Analysis')!;
    assert.equal(rb.severity, 'warning');
    assert.equal(at(text, rb), '"Analysis"');
    assert.equal(JSON.parse(applyEdits(text, rb.fixes![0].edits)).RollbackOnFailure, true);
    assert.ok(diags.every((d) => d.severity === 'warning'));
  });

  it('the LB check: a warning when nothing accepts a connection, none when something does', async () => {
    const closed = await check(base, { lb: true });
    assert.equal(closed.diags.length, 1);
    assert.equal(closed.diags[0].severity, 'warning');
    assert.match(closed.diags[0].message, /^the load balancer at 127\.0\.0\.1:9 does not answer: connection refused/);
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      assert.deepEqual((await check({ ...base, LB: `127.0.0.1:${port}` }, { lb: true })).diags, []);
    } finally {
      server.close();
    }
  });

  it('the JSON Schema says patterns and unknown fields in words, never a regex; LB is optional', () => {
    const schema = jsonSchemas()['service.schema.json'] as Record<string, unknown>;
    const walk = (n: unknown, path: string): string[] => {
      if (!n || typeof n !== 'object') return [];
      const o = n as Record<string, unknown>;
      const bad: string[] = [];
      if (typeof o.pattern === 'string' && typeof o.patternErrorMessage !== 'string') bad.push(`${path}: pattern`);
      if (o.additionalProperties === false && typeof o.errorMessage !== 'string') bad.push(`${path}: fields`);
      for (const [k, v] of Object.entries(o)) bad.push(...walk(v, `${path}/${k}`));
      return bad;
    };
    assert.deepEqual(walk(schema, ''), []);
    assert.ok(!(schema.required as string[]).includes('LB'));
  });

  it('hostile text never throws, and every problem lies inside the text', async () => {
    const { file } = write({});
    const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));
    const near = fc
      .record({
        drop: fc.subarray(Object.keys(base)),
        extra: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      })
      .map(({ drop, extra }) =>
        JSON.stringify(
          { ...Object.fromEntries(Object.entries(base).filter(([k]) => !drop.includes(k))), ...extra },
          null,
          1,
        ),
      );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 80 }), json, near), async (text) => {
        const diags = await checkService(file, text);
        for (const d of diags) {
          assert.ok(
            d.offset >= 0 && d.length >= 0 && d.offset + d.length <= Math.max(text.length, 1),
            JSON.stringify(d),
          );
          assert.ok(d.message.length > 0);
        }
      }),
      // ' ': the seed that found a parse error said to lie one character past the end of the text
      { seed: fuzzSeed(20261202), numRuns: fuzzRuns(150), examples: [[' '], ['{'], ['{"Src": ']] },
    );
  });
});
