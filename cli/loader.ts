// Entry point of dist/cli.js, the `fleet` command: runs the bundle (dist/cli-main.js, from
// cli/bin.ts) with a V8 code cache in the user's cache directory (cli/codeCache.ts);
// FLEET_DEBUG_CODE_CACHE=1 says on stderr whether the cache was used.
import { join } from 'node:path';
import { defaultCacheDir } from '../core/cacheDir';
import { runWithCodeCache } from './codeCache';

const off = process.env.FLEET_CODE_CACHE === '0';
// one cache per command (`run`, `rollout`…; anything else shares one): each starts from code it ran
const command = process.argv[2] ?? '';
const run = runWithCodeCache(join(__dirname, 'cli-main.js'), off ? null : join(defaultCacheDir(), 'v8'), command);
process.once('exit', () => run.save());
if (process.env.FLEET_DEBUG_CODE_CACHE === '1') process.stderr.write(`fleet: code cache ${run.status}\n`);
