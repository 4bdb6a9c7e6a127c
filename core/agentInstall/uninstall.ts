// Takes the agent off a host: stops it however it runs (system unit, user unit, pid file), removes
// the units, ~/.fleet (runtime and agent builds), the agent's own files in the data dir, and
// lingering if Fleet turned it on. Installed packages, their state and logs stay, and their
// programs keep running, unless `purge`: then every package is stopped through the agent first
// and the whole data dir goes.
import { errorMessage } from '../errors';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { shellQuote as q } from '../ssh/quote';
import { agentLayout, systemUnitFile } from './layout';
import { InstallHost } from './remoteHost';
import { removeUnitScript, stopScript } from './service';

export interface UninstallResult {
  host: string;
  /** the agent was found there at all */
  found: boolean;
  removed: string[];
  /** packages stopped (purge) */
  stoppedPackages: string[];
  notes: string[];
}

export async function uninstallAgent(
  pool: SshPool,
  ep: SshEndpoint,
  opts: { purge?: boolean; signal?: AbortSignal; progress?: (m: string) => void } = {},
): Promise<UninstallResult> {
  const host = new InstallHost(pool, ep, opts.signal);
  const f = await host.facts();
  const l = agentLayout(f.home);
  const notes: string[] = [];
  const stoppedPackages: string[] = [];
  const present = (
    await host.sh(
      [l.fleetDir, l.dataDir, l.userUnitFile, ...(f.uid === 0 ? [systemUnitFile] : [])]
        .map((p) => `if [ -e ${q(p)} ] || [ -L ${q(p)} ]; then printf '%s\\n' ${q(p)}; fi`)
        .join('; ') + '; true',
    )
  )
    .split('\n')
    .filter(Boolean);
  if (!present.length) return { host: ep.label, found: false, removed: [], stoppedPackages, notes };

  await host.lock(l);
  if (opts.purge) {
    const client = host.client(l);
    const packages = await client.list().catch((e) => {
      notes.push(
        `the agent did not answer (${errorMessage(e)}), so no package was stopped; programs it started may still run`,
      );
      return [];
    });
    for (const p of packages) {
      opts.progress?.(`stopping package ${p.name}`);
      await client.action(p.name, 'stop');
      stoppedPackages.push(p.name);
    }
  }
  opts.progress?.('stopping the agent');
  const linger = (await host.exec(`[ -f ${q(l.fleetDir + '/linger-enabled-by-fleet')} ] && echo yes`)).stdout.trim();
  const steps = [
    ...(f.uid === 0 && f.systemUnit ? [removeUnitScript('system', l)] : []),
    ...(f.userUnit ? [removeUnitScript('user', l)] : []),
    stopScript('detached', l),
    ...(linger === 'yes' ? ['loginctl disable-linger 2>/dev/null || true'] : []),
    `rm -rf ${q(l.fleetDir)}`,
    opts.purge
      ? `rm -rf ${q(l.dataDir)}`
      : `rm -rf ${q(l.socket)} ${q(l.pidFile)} ${q(l.logFile)} ${q(l.legacyBinDir)}`,
    // an empty ~/.config/systemd/user left by the deploy
    `rmdir ${q(l.userUnitDir)} 2>/dev/null || true`,
  ];
  await host.script(steps.join('\n'), 'removing the agent');
  if (linger === 'yes') notes.push(`lingering turned off again for ${f.user}`);
  if (!opts.purge) notes.push(`packages, their state and logs stay in ${l.dataDir} (remove them with --purge)`);
  return {
    host: ep.label,
    found: true,
    removed: opts.purge ? present : present.filter((p) => p !== l.dataDir),
    stoppedPackages,
    notes,
  };
}
