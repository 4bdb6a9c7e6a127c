// The agent build a deploy sends: dist/agent.js, named by Fleet's version and its content's hash
// (`0.1.0-1a2b3c4d5e6f`, so a rebuild is a new build even at the same version), and gzip'd once
// into the cache for the wire (2.2 MB -> ~0.5 MB).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FleetError } from '../errors';
import { fleetVersion } from '../version';

export interface AgentBundle {
  file: string;
  bytes: number;
  sha256: string;
  version: string;
  /** the first 12 hex digits of sha256: what the running agent reports as its build */
  build: string;
  /** `<version>-<build>`: its directory on hosts */
  id: string;
  gzFile: string;
  gzBytes: number;
  gzSha256: string;
}

/** the id of the build in `agentJs` (what the Hosts view compares hosts' agents with) */
export async function agentBuildId(agentJs: string, version = fleetVersion): Promise<string> {
  const sha256 = createHash('sha256')
    .update(await readFile(agentJs))
    .digest('hex');
  return `${version}-${sha256.slice(0, 12)}`;
}

export function loadAgentBundle(agentJs: string, cacheDir: string, version = fleetVersion): AgentBundle {
  if (!existsSync(agentJs)) throw new FleetError(`${agentJs} is missing: run npm run build`);
  const body = readFileSync(agentJs);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const build = sha256.slice(0, 12);
  const id = `${version}-${build}`;
  const dir = join(cacheDir, 'agent');
  const gzFile = join(dir, `${id}.js.gz`);
  if (!existsSync(gzFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${gzFile}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, gzipSync(body, { level: 9 }), { mode: 0o600 });
    renameSync(tmp, gzFile);
  }
  const gz = readFileSync(gzFile);
  return {
    file: agentJs,
    bytes: body.length,
    sha256,
    version,
    build,
    id,
    gzFile,
    gzBytes: statSync(gzFile).size,
    gzSha256: createHash('sha256').update(gz).digest('hex'),
  };
}
