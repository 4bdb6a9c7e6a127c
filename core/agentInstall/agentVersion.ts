// Agent build ids, `<version>-<build>` (`0.1.0-1a2b3c4d5e6f`), and how a host's compares with the
// one this Fleet would deploy: the Hosts view marks older ones for Update Agent.

export function buildOfId(id: string): string {
  return id.slice(id.lastIndexOf('-') + 1);
}

export function versionOfId(id: string): string {
  return id.slice(0, id.lastIndexOf('-'));
}

/** semver order of the release part (a prerelease suffix sorts before its release) */
export function compareVersions(a: string, b: string): number {
  const [ra, pa] = [a.split('-')[0], a.includes('-')];
  const [rb, pb] = [b.split('-')[0], b.includes('-')];
  const x = ra.split('.').map(Number);
  const y = rb.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) < (y[i] || 0) ? -1 : 1;
  if (pa !== pb) return pa ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * current: the same build; older: an older version, or an agent too old to have a build id;
 * rebuilt: the same version, another build (a development build); newer: from a newer Fleet
 */
export type AgentAge = 'current' | 'older' | 'rebuilt' | 'newer';

export function agentAge(hostId: string | undefined, bundledId: string): AgentAge {
  if (!hostId) return 'older';
  if (hostId === bundledId) return 'current';
  const c = compareVersions(versionOfId(hostId), versionOfId(bundledId));
  return c < 0 ? 'older' : c > 0 ? 'newer' : 'rebuilt';
}
