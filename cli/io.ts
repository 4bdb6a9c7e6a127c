// What a `fleet` command sees of the world: its argv, stdout, stderr, stdin, environment, whether
// it may prompt, Ctrl-C, and the exit code it sets. The real process gives one (processIO); tests
// give a memory one (memoryIO) and run commands in process, in milliseconds.
import { PassThrough } from 'node:stream';

export interface CliIO {
  readonly argv: readonly string[];
  out(text: string): void;
  err(text: string): void;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly env: NodeJS.ProcessEnv;
  /** stdin and stderr are terminals: questions may be asked */
  readonly interactive: boolean;
  /** stderr is a terminal: progress may be redrawn there */
  readonly stderrIsTTY: boolean;
  /** the exit code the command chose (main returns it) */
  exitCode: number;
  /** calls fn on each Ctrl-C until the returned function is called */
  onInterrupt(fn: () => void): () => void;
  /** leaves at once with this code (a second Ctrl-C); absent in tests */
  exit?(code: number): void;
  /** stdout is a terminal: a region of it redrawn in place (undefined for pipes, files and tests) */
  live?(): Promise<LiveRegion>;
}

/** text redrawn in place on the terminal; done() leaves the last frame in the scrollback */
export interface LiveRegion {
  readonly columns: number;
  readonly rows: number;
  update(text: string): void;
  done(): void;
}

export function processIO(argv: readonly string[] = process.argv): CliIO {
  return {
    argv,
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    stdin: process.stdin,
    env: process.env,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    exitCode: 0,
    onInterrupt(fn) {
      process.on('SIGINT', fn);
      return () => void process.off('SIGINT', fn);
    },
    exit: (code) => process.exit(code),
    ...(process.stdout.isTTY && process.env.TERM !== 'dumb' ? { live: () => liveRegion(process.stdout) } : {}),
  };
}

/** log-update redraws (it counts wrapped lines and restores the cursor on exit): no cursor codes of our own */
async function liveRegion(stream: NodeJS.WriteStream): Promise<LiveRegion> {
  const { createLogUpdate } = await import('log-update');
  // what log-update reads of the terminal; one that reports no size (0×0, as a pty may) counts as
  // 80×24, where log-update would clip every frame to 0 rows
  const terminal = {
    isTTY: true,
    get columns() {
      return stream.columns || 80;
    },
    get rows() {
      return stream.rows || 24;
    },
    write: (s: string) => stream.write(s),
  };
  const log = createLogUpdate(terminal as unknown as NodeJS.WriteStream);
  return {
    get columns() {
      return stream.columns || 80;
    },
    get rows() {
      return stream.rows || 24;
    },
    update: (text) => log(text),
    done: () => log.done(),
  };
}

export interface MemoryIO extends CliIO {
  stdout: string;
  stderr: string;
  /** delivers a Ctrl-C to the command */
  interrupt(): void;
}

/** an in-memory IO for tests: output collected, stdin from `input`, no terminal */
export function memoryIO(argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): MemoryIO {
  const stdin = new PassThrough();
  stdin.end(opts.input ?? '');
  const handlers = new Set<() => void>();
  const io: MemoryIO = {
    argv: ['node', 'fleet', ...argv],
    stdout: '',
    stderr: '',
    out: (t) => void (io.stdout += t),
    err: (t) => void (io.stderr += t),
    stdin,
    env: { ...opts.env },
    interactive: false,
    stderrIsTTY: false,
    exitCode: 0,
    onInterrupt(fn) {
      handlers.add(fn);
      return () => void handlers.delete(fn);
    },
    interrupt: () => handlers.forEach((h) => h()),
  };
  return io;
}
