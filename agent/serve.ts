// `serve`: starts the agent (also `fleet agent serve`). A unix socket (0600) in the data dir by
// default; TCP only with --listen (or the data dir's `listen` file, which deploy writes), and then
// TLS with the agent's own key and two bearer tokens from 0600 files: the full one and a read-only
// one (metrics and status).
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Server as NetServer } from 'node:net';
import { resolve } from 'node:path';
import { ensureTokenFile } from '../core/token';
import { listenTcp, type TcpListener } from './tcpListener';
import { ensureTlsIdentity } from './tlsIdentity';
import { DataDir } from './dataDir';
import { Ledger } from './ledger';
import { Packages } from './packages';
import { buildApp } from './server';
import { StateStore } from './state';
import { Stats } from './stats';
import { defaultUnzipLimits } from './unzip';
import { formatHostPort, parseHostPort } from '../core/hostPort';
import type { AgentInfo } from '../core/protocol/agent';
import { fleetVersion } from '../core/version';

import type { AgentOptions } from './options';

export { defaultAgentOptions, type AgentOptions } from './options';

export interface RunningAgent {
  servers: NetServer[];
  tokenFile?: string;
  readTokenFile?: string;
  /** SHA-256 fingerprint of the TCP listener's certificate */
  tlsFingerprint?: string;
  socket: string;
  close(): Promise<void>;
}

export async function serveAgent(o: AgentOptions): Promise<RunningAgent> {
  const data = new DataDir(resolve(o.dataDir));
  data.prepare();
  const state = new StateStore(data.stateFile);
  for (const p of state.problems) o.log(p);
  const packages = new Packages(data, state, o.supervisor, defaultUnzipLimits, o.log);
  const ledger = new Ledger(data, packages);
  for (const p of ledger.problems) o.log(p);
  const stats = new Stats(o.statsIntervalSecs);
  stats.start();
  await packages.recover();
  const upkeep = setInterval(() => packages.tick(), 10_000);
  upkeep.unref();

  const servers: NetServer[] = [];
  const socket = o.socket ?? data.socket;
  const info: AgentInfo = {
    version: fleetVersion,
    build: bundleBuild(),
    node: process.version,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    runtimeBin: o.supervisor.programPathPrefix ?? null,
    listen: null,
    tlsFingerprint: null,
  };
  const limits = {
    info,
    maxPackageBytes: o.maxPackageBytes,
    maxSeedJsonBytes: 64 * 1024 * 1024,
    bodyIdleTimeoutMs: o.bodyIdleTimeoutMs,
  };
  const unixApp = buildApp(data, packages, stats, ledger, {
    ...limits,
    guard: { allowedHosts: new Set(['localhost', 'localhost:80', 'fleet-agent']) },
  });
  await clearStaleSocket(socket);
  const unix = createServer(unixApp);
  hardenServer(unix);
  const oldMask = process.umask(0o177); // the socket is born 0600: no window where others may connect
  try {
    await new Promise<void>((res, rej) => unix.once('error', rej).listen(socket, () => res()));
  } finally {
    process.umask(oldMask);
  }
  chmodSync(socket, 0o600);
  servers.push(unix);
  o.log(`listening on unix:${socket}`);

  let tokenFile: string | undefined;
  let readTokenFile: string | undefined;
  let tcp: TcpListener | undefined;
  const listen = o.listen ?? listenFromFile(data.listenFile);
  if (listen) {
    const hp = parseHostPort(listen);
    if (!hp) throw new Error(`--listen ${listen}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
    const { host, port } = hp;
    tokenFile = o.tokenFile ?? data.tokenFile;
    readTokenFile = o.readTokenFile ?? data.readTokenFile;
    const full = ensureTokenFile(tokenFile);
    const read = ensureTokenFile(readTokenFile);
    if (full === read)
      throw new Error(
        `${tokenFile} and ${readTokenFile} hold the same token: the read-only token must differ (delete one to have it made anew)`,
      );
    const tls = ensureTlsIdentity(data.tlsKeyFile, data.tlsCertFile);
    if (tls.made) o.log(`made a TLS key and certificate: ${tls.certFile}`);
    info.listen = formatHostPort(host, port);
    info.tlsFingerprint = tls.fingerprint;
    const allowed = new Set([formatHostPort(host, port).toLowerCase(), `localhost:${port}`, `127.0.0.1:${port}`]);
    const app = buildApp(data, packages, stats, ledger, {
      ...limits,
      guard: { allowedHosts: allowed, port, tokens: { full, read, fullFile: tokenFile } },
    });
    tcp = await listenTcp({
      host,
      port,
      app,
      tls,
      plainHttp: o.plainHttp,
      httpsUrl: `https://${formatHostPort(host, port)}`,
      limits: o.limits,
    });
    servers.push(tcp.server);
    o.log(
      `listening on https://${info.listen} (TLS certificate SHA256 ${tls.fingerprint}; token in ${tokenFile}, read-only token in ${readTokenFile}; plain http ${o.plainHttp === 'off' ? 'refused' : 'from this machine only'})`,
    );
  }

  return {
    servers,
    tokenFile,
    readTokenFile,
    tlsFingerprint: info.tlsFingerprint ?? undefined,
    socket,
    async close() {
      clearInterval(upkeep);
      stats.stop();
      packages.detachAll();
      await Promise.all([new Promise<void>((res) => unix.close(() => res())), tcp?.close()]);
      rmSync(socket, { force: true });
    },
  };
}

/** the first 12 hex digits of the sha256 of the file this agent runs from (what deploy installed) */
function bundleBuild(): string {
  const file = require.main?.filename ?? process.argv[1];
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
  } catch {
    return 'unknown';
  }
}

/** timeouts against slow clients: headers within 10 s; a whole request (a 1 GiB upload) within 30 min */
function hardenServer(s: Server): void {
  s.headersTimeout = 10_000;
  s.requestTimeout = 30 * 60_000;
  s.keepAliveTimeout = 5_000;
}

/** the TCP listener deploy asked for (`fleet agent deploy --listen`), if any */
function listenFromFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((res) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
  if (live) throw new Error(`another agent already listens on ${path}; stop it first`);
  rmSync(path, { force: true });
}
