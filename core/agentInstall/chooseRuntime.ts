// Which node the agent runs on, from the host's facts: the pinned runtime where it runs (Linux
// x86_64/aarch64 with glibc >= 2.28), else the host's own node >= 20, else a refusal that names
// the machine and C library and says what to do.
import type { HostFacts } from './hostFacts';
import { minGlibc, runtimeId, runtimePins, runtimeTargets, type RuntimeTarget } from './runtimePins';

export type RuntimeChoice =
  { kind: 'bundled'; target: RuntimeTarget; id: string } | { kind: 'host'; path: string; version: string; why: string };

export type Choice = { ok: true; runtime: RuntimeChoice } | { ok: false; problem: string };

function versionAtLeast(have: string, want: string): boolean {
  const a = have.split('.').map(Number);
  const b = want.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

export function targetOfMachine(machine: string): RuntimeTarget | undefined {
  return runtimeTargets.find((t) => runtimePins[t].unameMachines.includes(machine));
}

export function chooseRuntime(f: HostFacts): Choice {
  if (f.os !== 'Linux')
    return { ok: false, problem: `the agent runs on Linux; this host's uname -s is ${f.os || '?'}` };
  const needed = ['gzip', 'sha256sum'].filter((t) => f.missingTools.includes(t));
  if (needed.length)
    return {
      ok: false,
      problem: `the host lacks ${needed.join(' and ')}, which the upload's check and unpacking need; install them (Debian: gzip coreutils; Alpine: busybox)`,
    };
  const target = targetOfMachine(f.machine);
  const glibc = /^glibc (\d+\.\d+)/.exec(f.libc)?.[1];
  const hostNodeOk = f.hostNode && Number(/^v(\d+)\./.exec(f.hostNode.version)?.[1]) >= 20;
  let why: string;
  if (!target)
    why = `its machine is ${f.machine || '?'} (uname -m), and Fleet's runtime is built for x86_64 and aarch64`;
  else if (!glibc)
    why = `its C library is ${f.libc === 'unknown' ? 'not glibc (none found)' : f.libc}, and Fleet's runtime is the glibc build`;
  else if (!versionAtLeast(glibc, minGlibc))
    why = `its glibc is ${glibc}, and Fleet's runtime (Node.js' official build) needs glibc >= ${minGlibc}`;
  else if (f.missingTools.includes('tar')) why = 'it has no tar to unpack the runtime with (install tar, or busybox)';
  else return { ok: true, runtime: { kind: 'bundled', target, id: runtimeId(target) } };
  if (hostNodeOk)
    return { ok: true, runtime: { kind: 'host', path: f.hostNode!.path, version: f.hostNode!.version, why } };
  return {
    ok: false,
    problem: `cannot run the agent here: ${why}${f.hostNode ? `, and its own node is ${f.hostNode.version} (< 20)` : ', and it has no node'}. Install Node.js >= 20 on the host (Alpine: apk add nodejs) and deploy again: Fleet then runs the agent on it`,
  };
}
