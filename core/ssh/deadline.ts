// A remote command's deadline and its stop button: `stop` is called once, with a TimeoutError when
// opts.timeoutMs passes or a StoppedError when opts.signal aborts (at once if it already has).
import { StoppedError, TimeoutError } from '../errors';

export interface DeadlineOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** the host, in the errors */
  label?: string;
}

/** arms both; returns what disarms them */
export function armDeadline(opts: DeadlineOptions, stop: (why: Error) => void): () => void {
  const label = opts.label ?? '?';
  const timer = opts.timeoutMs
    ? setTimeout(() => stop(new TimeoutError(label, 'command', opts.timeoutMs!)), opts.timeoutMs)
    : undefined;
  const onAbort = () =>
    stop(new StoppedError(label, opts.signal?.reason instanceof Error ? opts.signal.reason.message : 'stopped'));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  };
}
