// The agent's zip check against random archives (fast-check, seeded): an archive is unpacked exactly
// when it is within every bound (entries, total, whole-archive ratio beyond the floor, each large
// entry's ratio), what lands on disk never exceeds the bound its own size allows, and a refused
// archive writes nothing at all.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { HttpError } from '../../agent/httpError';
import { unpackedBound, unzipTo, type UnzipLimits } from '../../agent/unzip';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { rawZip, type RawEntry } from '../harness/rawZip';

const limits: UnzipLimits = {
  maxEntries: 30,
  maxTotalBytes: 6 * 1024 * 1024,
  maxRatio: 20,
  ratioFloorBytes: 512 * 1024,
  entryRatioFloorBytes: 128 * 1024,
};

const entry = fc.record({
  size: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 600 * 1024 })),
  fill: fc.constantFrom('zeros', 'random', 'text'),
  deflate: fc.boolean(),
});

function data(size: number, fill: string, seed: number): Buffer {
  if (fill === 'zeros') return Buffer.alloc(size);
  if (fill === 'text') return Buffer.from('fleet agent package '.repeat(Math.ceil(size / 20)).slice(0, size));
  const b = Buffer.alloc(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function du(dir: string): number {
  let n = 0;
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (d.isFile()) n += statSync(join(d.parentPath, d.name)).size;
  return n;
}

describe('the agent zip check under random archives (property)', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'unzip-prop-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('unpacks exactly the archives within every bound, never more than the bound allows, and nothing of a refused one', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 40 }), async (spec) => {
        const entries: RawEntry[] = spec.map((e, i) => ({
          name: `d${i % 3}/f${i}`,
          data: data(e.size, e.fill, i + 1),
          deflate: e.deflate,
        }));
        const zipFile = join(dir, `a${n}.zip`);
        const root = join(dir, `root${n++}`);
        const zip = rawZip(entries);
        writeFileSync(zipFile, zip);
        const total = spec.reduce((s, e) => s + e.size, 0);
        let result: { bytes: number } | Error;
        try {
          result = await unzipTo(zipFile, root, limits);
        } catch (e) {
          result = e as Error;
        }
        const within =
          entries.length <= limits.maxEntries &&
          total <= limits.maxTotalBytes &&
          total <= unpackedBound(zip.length, limits) &&
          entries.every((e) => {
            const raw = e.data!.length;
            const packed = e.deflate ? deflateRawSync(e.data!).length : raw;
            return raw <= limits.entryRatioFloorBytes || raw / Math.max(1, packed) <= limits.maxRatio;
          });
        if (within) {
          assert.ok(!(result instanceof Error), `refused an archive within bounds: ${(result as Error).message}`);
          assert.equal(du(root), total);
          assert.ok(total <= unpackedBound(zip.length, limits));
        } else {
          assert.ok(result instanceof HttpError && result.status === 400, `accepted: ${JSON.stringify(result)}`);
          const written = (() => {
            try {
              return du(root);
            } catch {
              return 0;
            }
          })();
          assert.equal(written, 0, 'a refused archive wrote files');
        }
        rmSync(root, { recursive: true, force: true });
        rmSync(zipFile, { force: true });
      }),
      { numRuns: fuzzRuns(25, 400), seed: fuzzSeed(2604) },
    );
  });
});
