// `fleet agent deploy HOST...`: put (or upgrade) the agent on hosts over SSH.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { deployAgent } from '../../core/agentClient/deploy';
import { errorMessage } from '../../core/errors';
import { mapLimit } from '../../core/limit';
import { Exit, exitCodeOf } from '../exitCodes';
import { addSshFlags, preloadKeys, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export function registerAgentDeploy(agent: Command, io: CliIO): void {
  addSshFlags(
    agent
      .command('deploy')
      .description('upload dist/agent.js to hosts over SFTP (sha256 verified), start it, wait until it answers')
      .argument('<hosts...>')
      .option('--agent-js <file>', 'the agent bundle to deploy', resolve(__dirname, 'agent.js')),
  ).action(async (hosts: string[], o: SshFlags & { agentJs: string }) => {
    if (!existsSync(o.agentJs)) throw new Error(`${o.agentJs} is missing: run npm run build`);
    const ctx = sshContext(io, hosts, o);
    await preloadKeys(ctx);
    let worst = Exit.ok as number;
    try {
      await mapLimit(ctx.endpoints, o.concurrency, async (ep) => {
        try {
          const r = await deployAgent(ctx.pool, ep, o.agentJs);
          io.out(
            o.json
              ? JSON.stringify(r) + '\n'
              : `${ep.label}: agent ${r.upgraded ? 'upgraded' : 'installed'} (${r.mode}, node ${r.nodeVersion}), socket ${r.socket}\n`,
          );
        } catch (e) {
          worst = Math.max(worst, exitCodeOf(e));
          io.out(
            o.json
              ? JSON.stringify({ host: ep.label, error: errorMessage(e) }) + '\n'
              : `${ep.label}: ${errorMessage(e)}\n`,
          );
        }
      });
    } finally {
      ctx.pool.close();
    }
    io.exitCode = worst;
  });
}
