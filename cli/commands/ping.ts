// `fleet ping [HOST...]`: the talk's ping CLI. Hosts from arguments, else one per line on stdin.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ping, type PingResult } from '../../core/local/ping';
import { requireProgram } from '../../core/local/program';
import { Semaphore } from '../../core/limit';
import { Exit } from '../exitCodes';
import { positiveInt } from '../sshOptions';
import type { CliIO } from '../io';

export function registerPing(program: Command, io: CliIO): void {
  program
    .command('ping')
    .description('tell which hosts answer ping (hosts from arguments, else one per line on stdin)')
    .argument('[hosts...]')
    .option('--timeout <seconds>', 'wait this long for each reply', positiveInt('--timeout'), 2)
    .option('--concurrency <n>', 'pings at once', positiveInt('--concurrency'), 64)
    .option('--json', 'one JSON object per host: {"host","alive","rttMs"}')
    .action(async (hosts: string[], o: { timeout: number; concurrency: number; json?: boolean }) => {
      const bin = requireProgram('ping');
      const limit = new Semaphore(o.concurrency);
      let allAlive = true;
      const print = (r: PingResult) => {
        allAlive &&= r.alive;
        if (o.json)
          io.out(
            JSON.stringify({ host: r.host, alive: r.alive, rttMs: r.rttMs, ...(r.error ? { error: r.error } : {}) }) +
              '\n',
          );
        else io.out(`host(${r.host}) is alive: ${r.alive}\n`);
        if (r.error && !o.json) io.err(`fleet ping: ${r.host}: ${r.error}\n`);
      };
      const one = (h: string) => limit.run(() => ping(h, { timeoutSecs: o.timeout, pingPath: bin }));
      if (hosts.length > 0) {
        // arguments: answers in argument order
        for (const r of await Promise.all(hosts.map(one))) print(r);
      } else {
        // stdin: each answer as soon as it is known, as the seed's did
        const pending: Promise<void>[] = [];
        for await (const line of createInterface({ input: io.stdin })) {
          const h = line.trim();
          if (h) pending.push(one(h).then(print));
        }
        await Promise.all(pending);
      }
      io.exitCode = allAlive ? Exit.ok : Exit.failed;
    });
}
