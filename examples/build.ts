// Builds the sample apps' zips for the agent (`npm run build:examples`), into examples/dist/:
// web-v1.zip, web-v2.zip (the talk's "replace" web), web-v2-broken.zip (its health check fails),
// web-v2-flaky.zip (healthy, but every 4th answer of / is a 500), web-v2-slow.zip (healthy, / 80 ms
// slower), qotd.zip. Each holds an executable entry point (mode 0755 kept in the zip) and build.json.
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yazl from 'yazl';

export const examplesDir = __dirname;
export const examplesDist = join(__dirname, 'dist');

function zip(out: string, files: Array<{ name: string; data: Buffer; mode: number }>): Promise<void> {
  return new Promise((resolve, reject) => {
    const z = new yazl.ZipFile();
    for (const f of files) z.addBuffer(f.data, f.name, { mode: f.mode, mtime: new Date() });
    z.outputStream.pipe(createWriteStream(out)).on('close', resolve).on('error', reject);
    z.end();
  });
}

/** srcDir: where examples/ is (from a bundle in dist/, pass its path explicitly) */
export async function buildExamples(dir = examplesDist, srcDir = examplesDir): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const web = readFileSync(join(srcDir, 'web', 'web.js'));
  const out: Record<string, string> = {};
  for (const [name, build] of [
    ['web-v1', { version: 'v1', broken: false }],
    ['web-v2', { version: 'v2', broken: false }],
    ['web-v2-broken', { version: 'v2', broken: true }],
    ['web-v2-flaky', { version: 'v2', broken: false, failEvery: 4 }],
    ['web-v2-slow', { version: 'v2', broken: false, delayMs: 80 }],
  ] as const) {
    out[name] = join(dir, `${name}.zip`);
    await zip(out[name], [
      { name: 'web', data: web, mode: 0o100755 },
      { name: 'build.json', data: Buffer.from(JSON.stringify(build) + '\n'), mode: 0o100644 },
    ]);
  }
  out.qotd = join(dir, 'qotd.zip');
  await zip(out.qotd, [{ name: 'qotd', data: readFileSync(join(srcDir, 'qotd', 'qotd.js')), mode: 0o100755 }]);
  return out;
}
