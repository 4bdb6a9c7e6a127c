// Puts the agent on a host over SSH: checks Node >= 20, uploads dist/agent.js over SFTP (sha256
// verified on the host, renamed into place), (re)starts it as a systemd user unit where systemd
// runs, else detached with a pid file, and waits for /healthz through the SSH tunnel. Running it
// again upgrades the agent; installed packages and their state stay (they live in the data dir,
// and running programs are adopted by the new agent).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errorMessage, FleetError } from '../errors';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { shellQuote } from '../ssh/quote';
import { pushFile } from '../ssh/sftpPush';
import { AgentClient } from './client';
import { sleep } from '../sleep';

export class DeployError extends FleetError {}

export interface DeployResult {
  host: string;
  nodeVersion: string;
  mode: 'systemd' | 'detached';
  socket: string;
  upgraded: boolean;
  /** how the bundle went: SFTP, or an exec channel on a host without SFTP */
  via: 'sftp' | 'exec';
}

export async function deployAgent(
  pool: SshPool,
  ep: SshEndpoint,
  agentJs: string,
  opts: { log?: (m: string) => void; signal?: AbortSignal } = {},
): Promise<DeployResult> {
  const log = opts.log ?? (() => undefined);
  const sh = async (cmd: string) => pool.exec(ep, cmd, { timeoutMs: 60_000, signal: opts.signal });
  const node = await sh('command -v node >/dev/null && node --version || echo missing');
  const version = node.stdout.trim();
  const major = /^v(\d+)\./.exec(version)?.[1];
  if (!major || Number(major) < 20) {
    throw new DeployError(
      `host ${ep.label}: the agent needs Node.js >= 20, the host has ${version === 'missing' ? 'no node in PATH' : version}; install Node.js 20 or newer there first`,
    );
  }
  const home = (await sh('printf %s "$HOME"')).stdout;
  if (!home.startsWith('/')) throw new DeployError(`host ${ep.label}: cannot learn the home directory`);
  const dir = `${home}/.fleet-agent`;
  const bin = `${dir}/bin`;
  const body = readFileSync(agentJs);
  const sha = createHash('sha256').update(body).digest('hex');
  await sh(`mkdir -p ${shellQuote(bin)} && chmod 700 ${shellQuote(dir)}`);
  log(`uploading ${agentJs} (${body.length} bytes) to ${ep.label}:${bin}/agent.js`);
  let via: 'sftp' | 'exec';
  try {
    via = (await pushFile(pool, ep, agentJs, `${bin}/agent.js`, { sha256: sha, mode: 0o600, signal: opts.signal })).via;
  } catch (e) {
    throw new DeployError(errorMessage(e));
  }

  const q = (s: string) => shellQuote(s);
  const systemd =
    (await sh('systemctl --user show-environment >/dev/null 2>&1 && echo yes || echo no')).stdout.trim() === 'yes';
  const pidFile = `${dir}/agent.pid`;
  const was =
    (
      await sh(`test -f ${q(pidFile)} && kill -0 "$(cat ${q(pidFile)})" 2>/dev/null && echo running || echo no`)
    ).stdout.trim() === 'running';
  if (systemd) {
    const unitDir = `${home}/.config/systemd/user`;
    const unit = [
      '[Unit]',
      'Description=Fleet agent',
      '',
      '[Service]',
      `ExecStart=${process.platform === 'linux' ? '/usr/bin/env' : 'env'} node ${bin}/agent.js serve --data-dir ${dir}`,
      'KillMode=process',
      'Restart=on-failure',
      '',
      '[Install]',
      'WantedBy=default.target',
      '',
    ].join('\n');
    await sh(
      `mkdir -p ${q(unitDir)} && printf %s ${q(unit)} > ${q(unitDir + '/fleet-agent.service')} && systemctl --user daemon-reload && systemctl --user enable fleet-agent >/dev/null 2>&1; systemctl --user restart fleet-agent`,
    );
  } else {
    // stop the old agent (its programs keep running and are adopted), then start the new one detached
    await sh(
      `if test -f ${q(pidFile)}; then p=$(cat ${q(pidFile)}); kill "$p" 2>/dev/null; for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; fi; ` +
        // the whole group is redirected, so nothing holds the SSH channel open; exec keeps $! the agent's pid
        `(cd ${q(dir)} && exec setsid node ${q(bin + '/agent.js')} serve --data-dir ${q(dir)}) >> ${q(dir + '/agent.log')} 2>&1 < /dev/null & echo $! > ${q(pidFile)}`,
    );
  }
  const socket = `${dir}/agent.sock`;
  const client = new AgentClient(
    { kind: 'ssh', target: ep.label, socketPath: socket, text: `ssh://${ep.label}` },
    { pool, sshEndpoint: ep, timeoutMs: 5000 },
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await client.health()) === 'ok') break;
    } catch (e) {
      if (Date.now() > deadline) {
        const tail = (await sh(`tail -n 5 ${q(dir + '/agent.log')} 2>/dev/null`)).stdout.trim();
        throw new DeployError(
          `host ${ep.label}: the agent did not answer /healthz within 20 s: ${(e as Error).message}${tail ? `; its log ends: ${tail}` : ''}`,
        );
      }
    }
    await sleep(200, opts.signal);
  }
  return { host: ep.label, nodeVersion: version, mode: systemd ? 'systemd' : 'detached', socket, upgraded: was, via };
}
