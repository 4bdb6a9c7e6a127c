// Loads service.json and turns it into what a rollout acts on: absolute paths, the package zip
// (a single-binary Src wrapped into a one-file zip), each backend's agent endpoint and args, the
// agents' and the LB's tokens. A service.json may come from anyone's repository: the files it names
// (Src, the token files) must lie inside its own folder, symlinks resolved, so a checked-in file
// cannot make Fleet upload ~/.ssh/id_ed25519 or send it as a token. A file elsewhere is given on the
// command line (`--src`, `--agent-token-file`, `--lb-token-file`), never by the file itself.
import { advice } from '../advice';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { ownedDir, writeWhole } from '../safeWrite';
import { basename, dirname, join, resolve, sep } from 'node:path';
import yazl from 'yazl';
import { loadToken } from '../token';
import { errorMessage, ValidationError } from '../errors';
import { readJsonFile } from '../jsonFile';
import { parseBackend } from '../protocol/lb';
import { entryPath, serviceSchema, type ServiceConfig } from './schema';
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
  /**
   * sha256 of the settings (service.json read and canonicalised: key order, spacing and line ends
   * do not count): two clones of one repository agree on it, so a resume from another machine can
   * check it continues the same rollout
   */
  serviceSha256: string;
  backends: BackendTarget[];
  /** the agents' bearer token (http:// agents) */
  token?: string;
  /** the LB's bearer token (a TCP control address) */
  lbToken?: string;
  /** Src as given on the command line, else resolved inside the folder */
  src: string;
}

/** files a person names on the command line, used instead of what service.json says */
export interface ServiceOverrides {
  src?: string;
  agentTokenFile?: string;
  lbTokenFile?: string;
}

export async function loadService(file: string, overrides: ServiceOverrides = {}): Promise<LoadedService> {
  const abs = resolve(file);
  const config = readJsonFile(abs, serviceSchema);
  const dir = dirname(abs);
  const src = overrides.src ? resolve(overrides.src) : inside(abs, 'Src', config.Src);
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
    if (!entryPath.pattern.test(binary))
      throw new ValidationError(
        abs,
        'Src',
        `the file name ${JSON.stringify(binary)} cannot name a program: ${entryPath.message}`,
      );
    zip = await wrapBinary(src, binary, dir);
  }
  const packageName =
    config.Package.Name ??
    basename(src)
      .replace(/\.zip$/i, '')
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '') ??
    'app';
  const tokenFile = (given: string | undefined, field: 'AgentTokenFile' | 'LBTokenFile') =>
    given ? resolve(given) : config[field] ? inside(abs, field, config[field]!) : undefined;
  let token: string | undefined;
  let lbToken: string | undefined;
  try {
    token = loadToken(tokenFile(overrides.agentTokenFile, 'AgentTokenFile'), 'FLEET_AGENT_TOKEN');
  } catch (e) {
    throw new ValidationError(abs, 'AgentTokenFile', errorMessage(e));
  }
  try {
    lbToken = config.LB.startsWith('unix:')
      ? undefined
      : loadToken(tokenFile(overrides.lbTokenFile, 'LBTokenFile'), 'FLEET_LB_TOKEN');
  } catch (e) {
    throw new ValidationError(abs, 'LBTokenFile', errorMessage(e));
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
  return {
    file: abs,
    dir,
    config,
    packageName: packageName || 'app',
    binary,
    zip,
    sha256,
    serviceSha256: createHash('sha256')
      .update(canonicalJson({ ...config, $schema: undefined }))
      .digest('hex'),
    backends,
    token,
    lbToken,
    src,
  };
}

/**
 * `rel` resolved against the folder of service.json, refused when it (or what a symlink in it points
 * to) lies outside that folder.
 */
function inside(file: string, field: 'Src' | 'AgentTokenFile' | 'LBTokenFile', rel: string): string {
  const r = resolveInside(dirname(file), rel);
  if (!r.inside)
    throw new ValidationError(
      file,
      field,
      `${rel} is outside the folder of this file (${r.real}); a service.json may only name files beside it. To use that file, ${advice().outsideFile(field)}`,
    );
  return r.path;
}

/**
 * `rel` resolved against `dir`, and whether it (and what links in it point to) stays inside; `real`
 * is where it leads (the plain path when it does not exist yet, which is then what is checked)
 */
export function resolveInside(dir: string, rel: string): { path: string; real: string; inside: boolean } {
  const p = resolve(dir, rel);
  let real = p;
  let realDir = dir;
  try {
    realDir = realpathSync(dir);
    real = realpathSync(p);
  } catch {
    // does not exist (yet): the plain path is checked; a missing file is reported by the caller
  }
  const within = (root: string, x: string) => x === root || x.startsWith(root + sep);
  return { path: p, real, inside: within(dir, p) && within(realDir, real) };
}

/**
 * A one-file zip holding the binary (mode 0755) in `.fleet/packages/` beside the service file,
 * named by its content. The folder may come from a repository: it is written without following
 * any link there (core/safeWrite.ts), and the zip's name is made of safe characters only.
 */
async function wrapBinary(src: string, name: string, serviceDir: string): Promise<string> {
  const data = readFileSync(src);
  const sha = createHash('sha256').update(data).digest('hex').slice(0, 16);
  const outDir = ownedDir(serviceDir, '.fleet', 'packages');
  const out = join(outDir, `${basename(src).replace(/[^A-Za-z0-9._-]/g, '_')}-${sha}.zip`);
  await writeWhole(
    out,
    (fd) =>
      new Promise<void>((res, rej) => {
        const z = new yazl.ZipFile();
        z.addBuffer(data, name, { mode: 0o100755, mtime: new Date(0) });
        z.outputStream
          .pipe(createWriteStream('', { fd, autoClose: false }))
          .on('finish', () => res())
          .on('error', rej);
        z.end();
      }),
    0o644,
  );
  return out;
}

/** JSON with object keys sorted at every level (undefined members left out) */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x ?? null)).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
