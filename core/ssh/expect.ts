// `fleet expect`: a pty session driven by a script (the talk's goexpect over SSH). Steps run in
// order: wait for one of their patterns (a step may offer several cases, like ExpectSwitchCase),
// then send. `fail` patterns stop the run with a clear error whenever they appear. Named regex
// groups become ${captures} usable in later sends; ${env:NAME} reads the environment. Secrets are
// masked in the transcript, whatever the remote echoes.
import type { Client, ClientChannel } from 'ssh2';
import { z } from 'zod';
import { FleetError } from '../errors';
import { compilePattern, ExpectBuffer } from './expectMatcher';
import { sleep } from '../sleep';
import { Capture } from './capture';
import { CommandStart } from './commandStart';
import { killRemote, pidOfMark, type RemotePid } from './remoteProcess';
import { execCommand } from './exec';
import { commandMarks, loginShellKnown, loginShellOf, newNonce, wireCommand } from './remoteShell';
import { openSession } from './sessionOpen';
import { SecretMask } from './secretMask';
import { StringDecoder } from 'node:string_decoder';

const pattern = z.string().min(1, 'expected a literal or /regex/');
const caseSchema = z
  .object({
    expect: pattern,
    send: z.string().optional(),
    secret: z.boolean().default(false),
    done: z.boolean().default(false).describe('end the script when this case matches'),
  })
  .strict();

export const expectScriptSchema = z
  .object({
    command: z.string().optional().describe('run this with a pty (default: an interactive login shell)'),
    fail: z.array(pattern).default([]).describe('patterns that stop the script with an error'),
    timeoutSecs: z.number().positive().max(3600).default(10).describe('default per-step timeout'),
    steps: z
      .array(
        z
          .object({
            expect: z.union([pattern, z.array(caseSchema).min(1)]).optional(),
            send: z.string().optional(),
            secret: z.boolean().default(false).describe('mask what is sent in the transcript'),
            timeoutSecs: z.number().positive().max(3600).optional(),
          })
          .strict(),
      )
      .min(1, 'expected at least one step'),
  })
  .strict();

export type ExpectScript = z.output<typeof expectScriptSchema>;

export class ExpectError extends FleetError {
  constructor(
    message: string,
    readonly transcript: string,
  ) {
    super(message);
  }
}

export interface ExpectResult {
  transcript: string;
  captures: Record<string, string>;
  exitCode: number | null;
}

export { mask } from './secretMask';

export async function runExpect(
  client: Client,
  script: ExpectScript,
  /** killAfterMs: a program stopped early gets SIGTERM, then SIGKILL after this (remoteProcess.ts) */
  opts: { host: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv; killAfterMs?: number },
): Promise<ExpectResult> {
  const env = opts.env ?? process.env;
  const secrets = new SecretMask();
  // one decoder for the whole session: a character split across two reads is whole again (a
  // non-ASCII secret decoded per chunk came out as replacement characters around its other letters)
  const decoder = new StringDecoder('utf8');
  const captures: Record<string, string> = Object.create(null); // a group named constructor is a name like any other
  const buf = new ExpectBuffer();
  // a pty mixes a login shell's refusal into the program's output: learn the shell first (csh, fish)
  if (script.command !== undefined && !loginShellKnown(client))
    await execCommand(client, ':', { timeoutMs: 30_000, signal: opts.signal });
  const nonce = newNonce();
  const ch = await open(
    client,
    script.command === undefined ? undefined : wireCommand(script.command, loginShellOf(client), nonce),
  );
  let exitCode: number | null = null;
  // a command's marks come first (remoteShell.ts; a pty carries stderr's and stdout's in that order):
  // what the login wrote before them is not the program's, and the pid is kept for the deadline's kill
  let remote: RemotePid | null = null;
  const marks = commandMarks(nonce);
  const before = new Capture(64 * 1024);
  const pidMark = script.command === undefined ? null : new CommandStart(marks.stderr, (b) => before.add(b));
  const outMark = new CommandStart(marks.stdout, () => undefined);
  let finished = false;
  ch.on('data', (d: Buffer) => {
    if (pidMark && !outMark.done) {
      let own: Buffer | null = d;
      if (!pidMark.done) {
        own = pidMark.push(d);
        if (own === null) return;
        remote = pidOfMark(pidMark.line);
      }
      own = outMark.push(own);
      if (own === null) return;
      d = own;
    }
    buf.feed(decoder.write(d));
  });
  ch.on('exit', (code: number | null) => (exitCode = code));
  ch.on('close', () => {
    // the marks never came (the command never started): what the session said is all there is
    if (pidMark && !outMark.done) buf.feed(before.text() + Buffer.concat([pidMark.rest(), outMark.rest()]).toString());
    else buf.feed(decoder.end());
    buf.close();
  });
  const failRes = script.fail.map(compilePattern);
  /** any text with every secret sent so far masked: the transcript, and remote output quoted in errors */
  const hide = (text: string) => secrets.hide(text);
  const masked = () => hide(buf.transcript);
  /** what callers see of the captures: a capture that caught an echoed secret is masked too */
  const shownCaptures = () => Object.fromEntries(Object.entries(captures).map(([k, v]) => [k, hide(v)]));
  const expand = (s: string, where: string) =>
    s.replace(/\$\{(env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, isEnv: string | undefined, name: string) => {
      const v = isEnv ? (Object.hasOwn(env, name) ? env[name] : undefined) : captures[name];
      if (v === undefined)
        throw new ExpectError(`host ${opts.host}: ${where}: \${${isEnv ?? ''}${name}} is not set`, masked());
      return v;
    });
  const send = (text: string, secret: boolean) => {
    if (secret) secrets.add(text.replace(/\n$/, ''));
    ch.write(text);
  };
  try {
    for (const [i, step] of script.steps.entries()) {
      const where = `step ${i + 1}`;
      if (step.expect !== undefined) {
        const cases =
          typeof step.expect === 'string'
            ? [{ expect: step.expect, send: undefined, secret: false, done: false }]
            : step.expect;
        const res = [...cases.map((c) => compilePattern(c.expect)), ...failRes];
        const deadline = Date.now() + (step.timeoutSecs ?? script.timeoutSecs) * 1000;
        for (;;) {
          const m = buf.take(res);
          if (m && m.index >= cases.length)
            throw new ExpectError(
              `host ${opts.host}: ${where}: output matched the fail pattern ${script.fail[m.index - cases.length]}: ${JSON.stringify(hide(m.text))}`,
              masked(),
            );
          if (m) {
            Object.assign(captures, m.groups);
            const c = cases[m.index];
            if (c.send !== undefined) send(expand(c.send, where), c.secret);
            if (c.done) {
              finished = true;
              return { transcript: masked(), captures: shownCaptures(), exitCode };
            }
            break;
          }
          if (buf.closed)
            throw new ExpectError(
              `host ${opts.host}: ${where}: the session ended before ${cases.map((c) => JSON.stringify(c.expect)).join(' or ')} appeared`,
              masked(),
            );
          const left = deadline - Date.now();
          if (left <= 0) {
            throw new ExpectError(
              `host ${opts.host}: ${where}: timed out after ${step.timeoutSecs ?? script.timeoutSecs}s waiting for ${cases.map((c) => JSON.stringify(c.expect)).join(' or ')}; last output: ${JSON.stringify(hide(buf.unread).slice(-200))}`,
              masked(),
            );
          }
          if (opts.signal?.aborted) throw new ExpectError(`host ${opts.host}: aborted`, masked());
          await Promise.race([buf.changed(), sleep(Math.min(left, 250))]);
        }
      }
      if (step.send !== undefined) send(expand(step.send, where), step.secret);
    }
    if (script.command) {
      // wait for the program to finish (bounded by the default timeout), still watching for fail patterns
      const deadline = Date.now() + script.timeoutSecs * 1000;
      while (!buf.closed && Date.now() < deadline) await Promise.race([buf.changed(), sleep(250)]);
      const f = buf.take(failRes);
      if (f)
        throw new ExpectError(
          `host ${opts.host}: output matched the fail pattern ${script.fail[f.index]}: ${JSON.stringify(hide(f.text))}`,
          masked(),
        );
    }
    finished = true;
    return { transcript: masked(), captures: shownCaptures(), exitCode };
  } finally {
    // stopped early (a deadline, a fail pattern, an abort): what the command started is killed, not left behind
    if (!finished && remote && !buf.closed) await killRemote(client, remote, opts.killAfterMs);
    ch.close();
  }
}

function open(client: Client, command?: string): Promise<ClientChannel> {
  const pty = { term: 'dumb', rows: 40, cols: 200 };
  // the session's output is read through its stream (buffered until read): nothing to attach at once
  return openSession<ClientChannel, ClientChannel>(
    (cb) => (command ? client.exec(command, { pty }, cb) : client.shell(pty, cb)),
    (ch) => ch,
  );
}
