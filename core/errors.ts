// Typed errors of the engine. Callers branch on the class, never on message text;
// cli/exitCodes.ts maps each class to an exit code in one place.
// Messages are lower-case, say what happened, to what, and what to do.

export class FleetError extends Error {
  /** true when trying the same operation again may succeed (a dropped handshake, a busy host) */
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** the host could not be reached: refused, no route, DNS, or dropped before authentication */
export class UnreachableError extends FleetError {
  override readonly retryable: boolean;
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(`host ${host}: ${message}`, options);
    this.retryable = options?.retryable ?? false;
  }
}

/** the server refused every credential we had */
export class AuthError extends FleetError {
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`host ${host}: ${message}`, options);
  }
}

/**
 * The host's key is not the one we know (want set), or unknown to us (want empty), or revoked.
 * No credential has been sent on a connection that raised it.
 */
export class HostKeyError extends FleetError {
  constructor(
    readonly host: string,
    readonly got: { type: string; fingerprint: string; line: string },
    readonly want: string[],
    readonly kind: 'unknown' | 'changed' | 'revoked',
    message: string,
  ) {
    super(`host ${host}: ${message}`);
  }
}

/** a deadline passed; `what` says which (connect, command) */
export class TimeoutError extends FleetError {
  constructor(
    readonly host: string,
    readonly what: string,
    readonly ms: number,
  ) {
    super(`host ${host}: ${what} timed out after ${formatMs(ms)}`);
  }
}

/** the user stopped the command while it ran (Ctrl-C, Cancel): the remote processes were ended */
export class StoppedError extends FleetError {
  constructor(
    readonly host: string,
    readonly why: string,
  ) {
    super(`host ${host}: ${why}`);
  }
}

/** an input file is invalid: names the file, the field and what is expected */
export class ValidationError extends FleetError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly expected: string,
    /** the file's other problems, after this first one (a person fixes them all at once) */
    readonly more: ReadonlyArray<{ field: string; expected: string }> = [],
  ) {
    super(`${file}: ${field ? field + ': ' : ''}${expected}${more.length ? ` (and ${more.length} more)` : ''}`);
  }
}

/** the command line is wrong: names the flag or argument and what to do */
export class UsageError extends FleetError {}

/** a local program Fleet needs is missing */
export class MissingProgramError extends FleetError {
  constructor(
    readonly program: string,
    readonly debianPackage: string,
  ) {
    super(`cannot find ${program} in PATH; install it (Debian: apt-get install ${debianPackage})`);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Why a file could not be read, for a person: the error code and what to do about it
 * (`ENOENT (no such file: check the path…)`); other errors as their message.
 */
export function cannotRead(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const todo: Record<string, string> = {
    ENOENT: 'no such file: check the path',
    EACCES: 'permission denied: make it readable to this user',
    EISDIR: 'a directory: give the file in it',
  };
  return `cannot read: ${code ?? errorMessage(e)}${code && todo[code] ? ` (${todo[code]})` : ''}`;
}
