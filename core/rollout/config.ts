// Loads service.json and turns it into what a rollout acts on: absolute paths, the package zip
// (a single-binary Src wrapped into a one-file zip), each backend's agent endpoint and args.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import yazl from 'yazl';
import { loadAgentToken } from '../agentClient/token';
import { errorMessage, ValidationError } from '../errors';
import { readJsonFile } from '../jsonFile';
import { parseBackend } from '../protocol/lb';
import { serviceSchema, type ServiceConfig } from './schema';
import { bracketHost } from '../hostPort';

export interface BackendTarget {
  addr: string;
  host: string;
  port: number;
  /** agent endpoint text */
  agent: string;
  args: string[];
}

export interface LoadedService {
  file: string;
  dir: string;
  config: ServiceConfig;
  packageName: string;
  binary: string;
  /** the zip to install (Src itself, or a wrapper made in .fleet/packages/) */
  zip: string;
  sha256: string;
  backends: BackendTarget[];
  token?: string;
}

export async function loadService(file: string): Promise<LoadedService> {
  const abs = resolve(file);
  const config = readJsonFile(abs, serviceSchema);
  const dir = dirname(abs);
  const src = resolve(dir, config.Src);
  let st;
  try {
    st = statSync(src);
  } catch {
    throw new ValidationError(
      abs,
      'Src',
      `${src} does not exist; build it (npm run build:examples for the samples) or fix the path`,
    );
  }
  if (!st.isFile()) throw new ValidationError(abs, 'Src', `${src} is not a file`);
  const isZip = readFileSync(src)
    .subarray(0, 4)
    .equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  let zip = src;
  let binary = config.Package.Binary;
  if (isZip) {
    if (!binary) throw new ValidationError(abs, 'Package.Binary', 'Src is a zip: name the program inside it to start');
  } else {
    binary ??= basename(src);
    zip = await wrapBinary(src, binary, join(dir, '.fleet', 'packages'));
  }
  const packageName =
    config.Package.Name ??
    basename(src)
      .replace(/\.zip$/i, '')
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '') ??
    'app';
  let token: string | undefined;
  try {
    token = loadAgentToken(config.AgentTokenFile && resolve(dir, config.AgentTokenFile));
  } catch (e) {
    throw new ValidationError(abs, 'AgentTokenFile', errorMessage(e));
  }
  const backends = config.Backends.map((b) => {
    const addr = typeof b === 'string' ? b : b.Addr;
    const { host, port } = parseBackend(addr)!;
    const agent = typeof b === 'string' || !b.Agent ? `ssh://${bracketHost(host)}` : b.Agent;
    const args = config.Package.Args.map((a) =>
      a.replaceAll('{addr}', addr).replaceAll('{host}', host).replaceAll('{port}', String(port)),
    );
    return { addr, host, port, agent, args };
  });
  const sha256 = createHash('sha256').update(readFileSync(zip)).digest('hex');
  return { file: abs, dir, config, packageName: packageName || 'app', binary, zip, sha256, backends, token };
}

/** a one-file zip holding the binary (mode 0755), cached by content */
async function wrapBinary(src: string, name: string, outDir: string): Promise<string> {
  const data = readFileSync(src);
  const sha = createHash('sha256').update(data).digest('hex').slice(0, 16);
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${basename(src)}-${sha}.zip`);
  await new Promise<void>((res, rej) => {
    const z = new yazl.ZipFile();
    z.addBuffer(data, name, { mode: 0o100755, mtime: new Date(0) });
    z.outputStream
      .pipe(createWriteStream(out))
      .on('close', () => res())
      .on('error', rej);
    z.end();
  });
  return out;
}
