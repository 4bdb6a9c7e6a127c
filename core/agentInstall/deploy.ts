// Puts the agent on one host over SSH, or upgrades or rolls it back, the way an editor installs its
// remote server: the runtime once per host (never sent again while present), the agent build next
// to it, a `current` link switched only after both are complete and checked, the service
// (re)started, and the new agent's own report of its build awaited. If the new build does not
// answer, `current` goes back and the previous agent runs again. Packages live in the data dir and
// keep running across all of this (the next agent adopts them).
import { megabytes as mb } from '../format';
import { errorMessage } from '../errors';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { shellQuote as q } from '../ssh/quote';
import type { AgentBundle } from './agentBundle';
import { buildOfId } from './agentVersion';
import { chooseRuntime, type RuntimeChoice } from './chooseRuntime';
import type { HostFacts } from './hostFacts';
import { agentLayout, type AgentLayout } from './layout';
import type { RuntimeSource } from './runtimeCache';
import { runtimePins } from './runtimePins';
import { InstallError, InstallHost } from './remoteHost';
import { removeUnitScript, serviceModeOf, startScript, stopScript, type ServiceMode } from './service';
import { parseListen, pinAgentCertificate, prepareListener, type ListenOptions, type PinResult } from './tcpListener';
import type { KnownAgents } from '../agentClient/knownAgents';

export type DeployOutcome = 'installed' | 'upgraded' | 'up to date' | 'started' | 'rolled back';

export interface DeployResult {
  host: string;
  outcome: DeployOutcome;
  /** the agent build now current, and the one kept for --rollback */
  agent: string;
  previous?: string;
  /** the runtime's id, or `host node vX at PATH` */
  runtime: string;
  mode: ServiceMode;
  socket: string;
  /** bytes sent over SSH for the runtime and the agent (0 when already there) */
  sent: { runtime: number; agent: number };
  /** SFTP, or an exec channel on a host without SFTP; none when nothing was sent */
  via: 'sftp' | 'exec' | 'none';
  /** things a person should know (lingering, a host node used) */
  notes: string[];
  /** with --listen: the TLS certificate read over SSH and pinned */
  tls?: PinResult;
  durationMs: number;
}

export interface DeployOptions {
  runtime: RuntimeSource;
  /** switch back to the build kept as previous instead of installing */
  rollback?: boolean;
  /** a step a person may want to see (`uploading the runtime (42.7 MB)`) */
  progress?: (message: string) => void;
  signal?: AbortSignal;
  /** how long the new agent has to answer (default 30 s) */
  healthTimeoutMs?: number;
  /** the agent's TCP listener (TLS): set up, restarted into, and its certificate pinned */
  listen?: ListenOptions;
  /** where the pin goes (default ~/.fleet/known_agents.json) */
  knownAgents?: KnownAgents;
}

export async function deployAgent(
  pool: SshPool,
  ep: SshEndpoint,
  bundle: AgentBundle,
  opts: DeployOptions,
): Promise<DeployResult> {
  const started = performance.now();
  const progress = opts.progress ?? (() => undefined);
  const host = new InstallHost(pool, ep, opts.signal);
  // one round trip: the host-wide deploy lock, the directories, and the facts read under the lock
  const facts = await host.lockAndFacts();
  const l = agentLayout(facts.home);
  const mode = serviceModeOf(facts);
  const base = { host: ep.label, mode, socket: l.socket, notes: [] as string[] };
  let pruneAfter = false;
  try {
    if (opts.rollback) {
      const r = await rollback(host, facts, l, mode, progress, opts);
      return { ...base, ...r, durationMs: Math.round(performance.now() - started) };
    }
    const choice = chooseRuntime(facts);
    if (!choice.ok) throw new InstallError(`host ${ep.label}: ${choice.problem}`);
    const rt = choice.runtime;
    if (rt.kind === 'host') base.notes.push(`runs on the host's node ${rt.version} at ${rt.path}: ${rt.why}`);
    const runtimeText = rt.kind === 'bundled' ? rt.id : `host node ${rt.version} at ${rt.path}`;

    const listen = opts.listen ? parseListen(opts.listen.address) : undefined;
    if (facts.current === bundle.id && facts.agents.includes(bundle.id) && !listen) {
      if ((await host.agentBuild(l)) === bundle.build)
        return {
          ...base,
          outcome: 'up to date',
          agent: bundle.id,
          previous: facts.previous,
          runtime: runtimeText,
          sent: { runtime: 0, agent: 0 },
          via: 'none',
          durationMs: Math.round(performance.now() - started),
        };
    }

    // each file: one upload to a temporary name, then one command that checks, unpacks and places it
    const sent = { runtime: 0, agent: 0 };
    let via: DeployResult['via'] = 'none';
    if (rt.kind === 'bundled' && !facts.runtimes.includes(rt.id)) {
      const tgz = await opts.runtime.tarball(rt.target);
      const pin = runtimePins[rt.target];
      progress(`uploading the runtime ${rt.id} (${mb(pin.tarballBytes)})`);
      const upload = `${l.runtimesDir}/.${rt.id}.tgz`;
      via = await host.upload(tgz, upload);
      sent.runtime = pin.tarballBytes;
      progress('unpacking the runtime');
      await host.script(
        unpackRuntimeScript(l, rt.id, upload, pin.tarballSha256, pin.nodeSha256),
        'unpacking the runtime',
      );
    }
    if (!facts.agents.includes(bundle.id)) {
      progress(`uploading the agent ${bundle.id} (${mb(bundle.gzBytes)})`);
      const upload = `${l.agentsDir}/.${bundle.id}.js.gz`;
      via = await host.upload(bundle.gzFile, upload);
      sent.agent = bundle.gzBytes;
      await host.script(unpackAgentScript(l, bundle, upload, nodeLinkOf(rt)), 'unpacking the agent');
    }

    const before = facts.current && facts.current !== bundle.id ? facts.current : facts.previous;
    if (opts.listen) await prepareListener(host, l, opts.listen);
    progress(`starting the agent (${mode})`);
    base.notes.push(...(await switchAndStart(host, facts, l, mode, bundle.id, before)));
    try {
      await host.waitForBuild(l, mode, bundle.build, opts.healthTimeoutMs ?? 30_000, progress);
    } catch (e) {
      const back = before && facts.agents.includes(before) ? before : undefined;
      const tail = await host.logTail(l, mode);
      if (back) await switchAndStart(host, facts, l, mode, back, bundle.id).catch(() => undefined);
      throw new InstallError(
        `host ${ep.label}: the new agent ${bundle.id} did not start: ${errorMessage(e)}${tail}${back ? `; the previous agent ${back} runs again` : ''}`,
      );
    }
    pruneAfter = true;
    let tls: PinResult | undefined;
    if (listen && listen !== 'off') {
      tls = await pinAgentCertificate(pool, ep, listen.port, {
        knownAgents: opts.knownAgents,
        source: `fleet agent deploy ${ep.label} (over SSH)`,
        signal: opts.signal,
      });
      base.notes.push(
        `TLS on ${opts.listen!.address}, certificate SHA256 ${tls.fingerprint} pinned for ${tls.address}${tls.replaced ? ` (it replaces ${tls.replaced})` : ''}`,
      );
    }
    return {
      ...base,
      tls,
      outcome: facts.current || facts.legacyBin ? (facts.current === bundle.id ? 'started' : 'upgraded') : 'installed',
      agent: bundle.id,
      previous: before,
      runtime: runtimeText,
      sent,
      via,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    // one round trip: old builds and unused runtimes removed (after a success), the lock released
    await host.unlock(l, pruneAfter ? pruneScript(l) : undefined);
  }
}

async function rollback(
  host: InstallHost,
  facts: HostFacts,
  l: AgentLayout,
  mode: ServiceMode,
  progress: (m: string) => void,
  opts: DeployOptions,
): Promise<Pick<DeployResult, 'outcome' | 'agent' | 'previous' | 'runtime' | 'sent' | 'via'>> {
  const prev = facts.previous;
  if (!prev || !facts.agents.includes(prev) || !facts.current)
    throw new InstallError(`host ${host.label}: there is no previous agent build to roll back to`);
  progress(`rolling back to ${prev}`);
  await switchAndStart(host, facts, l, mode, prev, facts.current);
  await host.waitForBuild(l, mode, buildOfId(prev), opts.healthTimeoutMs ?? 30_000, progress);
  return {
    outcome: 'rolled back',
    agent: prev,
    previous: facts.current,
    runtime: (await host.sh(`readlink ${q(`${l.agentDir(prev)}/bin/node`)}`)).trim(),
    sent: { runtime: 0, agent: 0 },
    via: 'none',
  };
}

/** what `agent/<id>/bin/node` points at */
function nodeLinkOf(rt: RuntimeChoice): string {
  return rt.kind === 'bundled' ? `../../../runtime/${rt.id}/bin/node` : rt.path;
}

/** the uploaded file hashes to what was sent, or it is removed and the script stops */
function checkUpload(upload: string, sha256: string): string {
  return [
    `got=$(sha256sum ${q(upload)}); got=\${got%% *}`,
    `if [ "$got" != ${sha256} ]; then rm -f ${q(upload)}; echo "the upload hashes to $got, expected ${sha256}: it was corrupted on the way and was removed" >&2; exit 3; fi`,
  ].join('\n');
}

/** unpacks bin/node and LICENSE from the npm tarball, checks node's hash and that it runs here */
export function unpackRuntimeScript(
  l: AgentLayout,
  id: string,
  upload: string,
  tarballSha256: string,
  nodeSha256: string,
): string {
  const t = `${l.runtimesDir}/.${id}.partial`;
  return [
    'set -e',
    'umask 077',
    checkUpload(upload, tarballSha256),
    `rm -rf ${q(t)}`,
    `mkdir -p ${q(t + '/bin')}`,
    `tar -xzf ${q(upload)} -C ${q(t)} package/bin/node package/LICENSE`,
    `rm -f ${q(upload)}`,
    `got=$(sha256sum ${q(t + '/package/bin/node')}); got=\${got%% *}`,
    `if [ "$got" != ${nodeSha256} ]; then rm -rf ${q(t)}; echo "the unpacked node hashes to $got, expected ${nodeSha256}" >&2; exit 3; fi`,
    `mv ${q(t + '/package/bin/node')} ${q(t + '/bin/node')}`,
    `mv ${q(t + '/package/LICENSE')} ${q(t + '/LICENSE')}`,
    `rm -rf ${q(t + '/package')}`,
    `chmod 700 ${q(t + '/bin/node')}`,
    `if ! v=$(${q(t + '/bin/node')} --version 2>&1); then rm -rf ${q(t)}; echo "the runtime does not run on this host: $v" >&2; exit 4; fi`,
    `: > ${q(t + '/.complete')}`,
    `rm -rf ${q(l.runtimeDir(id))}`,
    `mv ${q(t)} ${q(l.runtimeDir(id))}`,
  ].join('\n');
}

export function unpackAgentScript(l: AgentLayout, b: AgentBundle, upload: string, nodeLink: string): string {
  const t = `${l.agentsDir}/.${b.id}.partial`;
  return [
    'set -e',
    'umask 077',
    checkUpload(upload, b.gzSha256),
    `rm -rf ${q(t)}`,
    `mkdir -p ${q(t + '/bin')}`,
    `gzip -dc < ${q(upload)} > ${q(t + '/agent.js')}`,
    `rm -f ${q(upload)}`,
    `got=$(sha256sum ${q(t + '/agent.js')}); got=\${got%% *}`,
    `if [ "$got" != ${b.sha256} ]; then rm -rf ${q(t)}; echo "the unpacked agent hashes to $got, expected ${b.sha256}" >&2; exit 3; fi`,
    `ln -s ${q(nodeLink)} ${q(t + '/bin/node')}`,
    `: > ${q(t + '/.complete')}`,
    `rm -rf ${q(l.agentDir(b.id))}`,
    `mv ${q(t)} ${q(l.agentDir(b.id))}`,
  ].join('\n');
}

/** points `current` at `id` (atomically where mv -T exists) and `previous` at `prev` */
export function switchScript(l: AgentLayout, id: string, prev: string | undefined): string {
  const next = `${l.current}.new`;
  return [
    `ln -sfn ${q(id)} ${q(next)}`,
    `mv -Tf ${q(next)} ${q(l.current)} 2>/dev/null || { rm -f ${q(next)}; ln -sfn ${q(id)} ${q(l.current)}; }`,
    prev && prev !== id ? `ln -sfn ${q(prev)} ${q(l.previous)}` : ':',
    '',
  ].join('\n');
}

/** stops an agent left running another way (a round-1 detached agent, a unit of the other kind) */
function retireOtherModes(f: HostFacts, mode: ServiceMode, l: AgentLayout): string {
  const parts: string[] = [];
  if (mode !== 'detached' && f.detachedPid) parts.push(stopScript('detached', l));
  if (mode !== 'system' && f.systemUnit && f.uid === 0) parts.push(removeUnitScript('system', l));
  if (mode !== 'user' && f.userUnit) parts.push(removeUnitScript('user', l));
  return parts.map((p) => p + '\n').join('');
}

/**
 * One round trip: stops an agent run another way, points `current` at `id` (and `previous` at
 * `prev`), and (re)starts the service; for a user unit, turns lingering on where the host allows it.
 */
async function switchAndStart(
  host: InstallHost,
  f: HostFacts,
  l: AgentLayout,
  mode: ServiceMode,
  id: string,
  prev: string | undefined,
): Promise<string[]> {
  const linger = mode === 'user' && f.linger === false;
  const script = [
    retireOtherModes(f, mode, l),
    switchScript(l, id, prev),
    mode === 'detached' ? stopScript('detached', l) : '',
    startScript(mode, l, f.home),
    linger
      ? `if loginctl enable-linger 2>/dev/null; then : > ${q(l.fleetDir + '/linger-enabled-by-fleet')}; echo linger=on; else echo linger=refused; fi`
      : '',
  ].join('\n');
  const out = await host.script(script, `starting the agent (${mode})`);
  if (!linger) return [];
  return out.includes('linger=on')
    ? [`lingering enabled for ${f.user}: the agent keeps running without a login session`]
    : [
        `lingering is off and loginctl enable-linger was refused: the agent stops when ${f.user}'s last session ends; ask an admin to run loginctl enable-linger ${f.user}`,
      ];
}

/** removes agent builds other than current and previous, and runtimes neither of them uses */
export function pruneScript(l: AgentLayout): string {
  return [
    `cd ${q(l.agentsDir)} || exit 0`,
    'cur=$(readlink current 2>/dev/null || true); prev=$(readlink previous 2>/dev/null || true)',
    'for d in * .*.partial .*.gz .*.fleet-*; do',
    '  case "$d" in current|previous|current.new|"$cur"|"$prev"|"*"|".*.partial"|".*.gz"|".*.fleet-*") continue ;; esac',
    '  if [ ! -L "$d" ]; then rm -rf "$d"; fi',
    'done',
    'keep=',
    'for a in current previous; do',
    '  t=$(readlink "$a/bin/node" 2>/dev/null) || continue',
    '  case "$t" in ../../../runtime/*) r=${t#../../../runtime/}; keep="$keep ${r%%/*}" ;; esac',
    'done',
    `cd ${q(l.runtimesDir)} || exit 0`,
    'for d in * .*.partial .*.tgz .*.fleet-*; do',
    '  case "$d" in "*"|".*.partial"|".*.tgz"|".*.fleet-*") continue ;; esac',
    '  case " $keep " in *" $d "*) continue ;; esac',
    '  rm -rf "$d"',
    'done',
    `rm -rf ${q(l.legacyBinDir)}`,
  ].join('\n');
}
