// The agent's HTTP API types, shared by the daemon (agent/) and its clients (core/agent-client).
import { z } from 'zod';

/** the one rule for package names (the agent's routes, service.json's Package.Name, the seed's install) */
export const packageNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const packageNameRule = 'letters, digits, . _ - (1-64, starting with a letter or digit)';
export const packageName = z.string().regex(packageNamePattern, `expected a name of ${packageNameRule}`);

/** why `name` is not a package name, or null when it is one */
export function packageNameProblem(name: string): string | null {
  return packageNamePattern.test(name) ? null : `invalid package name ${JSON.stringify(name)}: use ${packageNameRule}`;
}

/** JSON in the X-Fleet-Package header of PUT /api/v1/packages/:name */
export const installSpecSchema = z
  .object({
    binary: z.string().min(1).max(255),
    args: z.array(z.string().max(4096)).max(256).default([]),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits')
      .optional(),
  })
  .strict();
export type InstallSpec = z.output<typeof installSpecSchema>;
export const installSpecHeader = 'x-fleet-package';

/** the seed's POST /api/v1.0.0/install body */
export const seedInstallSchema = z.object({
  Name: packageName,
  Package: z.string().min(1, 'expected the zip, base64-encoded'),
  Binary: z.string().min(1),
  Args: z.array(z.string()).default([]),
});

export type PackageState = 'running' | 'stopped' | 'crashed' | 'backoff' | 'starting';

export interface VersionInfo {
  id: string;
  sha256: string;
  binary: string;
  args: string[];
  installedAt: string;
}

export interface PackageStatus {
  name: string;
  binary: string;
  args: string[];
  state: PackageState;
  desired: 'running' | 'stopped';
  pid: number | null;
  restarts: number;
  startedAt: string | null;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  sha256: string;
  version: string;
  installedAt: string;
  previous: VersionInfo | null;
  /** what an action did not do, and why (start of a package that already runs) */
  note?: string;
}

/** `GET /api/v1/agent`: which agent answers (deploy checks the build it just installed) */
export interface AgentInfo {
  version: string;
  /** the first 12 hex digits of the sha256 of the bundle the agent runs from */
  build: string;
  node: string;
  pid: number;
  startedAt: string;
  /** the directory put at the front of the PATH of the programs it starts, if any */
  runtimeBin: string | null;
  /** its TCP listener (HOST:PORT, TLS) or null; absent from agents before TLS */
  listen?: string | null;
  /** SHA-256 fingerprint of its TLS certificate (as `openssl x509 -fingerprint -sha256` prints it), or null */
  tlsFingerprint?: string | null;
}

/**
 * What the read-only credential of an agent's TCP listener may ask: the GETs that Prometheus and the
 * Fleet view need (health, metrics, stats, which agent, the packages and their status), and the
 * rollout records `fleet status` and `fleet history` read (a package's lease holder, its latest
 * rollout's progress, its history: who changed what, never a secret). Everything else (install,
 * start, stop, restart, rollback, remove, taking or releasing a lease, recording progress, and the
 * logs, which may hold secrets) needs the agent's full token. Exact, case-sensitive paths: a path
 * Express would also route (a trailing slash, other case) is simply not read-only.
 */
export function isReadOnlyRequest(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (readOnlyPaths.has(path)) return true;
  return /^\/api\/v1\/packages\/[^/]+(\/(lease|rollout|history))?$/.test(path);
}
const readOnlyPaths = new Set(['/healthz', '/metrics', '/debug/vars', '/api/v1/agent', '/api/v1/packages']);

/** the DNS name every agent's certificate carries: Prometheus' tls_config.server_name for the whole job */
export const agentTlsServerName = 'fleet-agent';

export interface CpuPerf {
  ID: string;
  User: number;
  System: number;
  Idle: number;
  IOWait: number;
  IRQ: number;
}

export interface DebugVars {
  'system-cpu': { ResolutionSecs: number; UnixTimeNano: number; CPU: CpuPerf[] } | null;
  'system-mem': { ResolutionSecs: number; UnixTimeNano: number; Total: number; Free: number; Avail: number } | null;
}
