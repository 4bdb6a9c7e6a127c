// Terminal prompts: secrets read without echo (the talk's term.ReadPassword), yes/no questions.
// Both need a terminal (CliIO.interactive); without one they answer "no" so a batch job never hangs.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { CliIO } from './io';

export function askSecret(io: CliIO, question: string): Promise<string | undefined> {
  if (!io.interactive || !io.stdin.setRawMode) return Promise.resolve(undefined);
  const stdin = io.stdin;
  const setRaw = io.stdin.setRawMode.bind(io.stdin);
  return new Promise((resolve) => {
    io.err(question);
    setRaw(true);
    stdin.resume();
    let value = '';
    const done = (v: string | undefined) => {
      setRaw(false);
      stdin.pause();
      stdin.off('data', onData);
      io.err('\n');
      resolve(v);
    };
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(value);
        if (ch === '\u0003' || ch === '\u0004') return done(undefined); // Ctrl-C, Ctrl-D
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export function askYesNo(io: CliIO, question: string): Promise<boolean> {
  if (!io.interactive) return Promise.resolve(false);
  const output = new Writable({ write: (chunk, _enc, cb) => (io.err(String(chunk)), cb()) });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  return new Promise((resolve) =>
    rl.question(question, (a) => {
      rl.close();
      resolve(/^y(es)?$/i.test(a.trim()));
    }),
  );
}
