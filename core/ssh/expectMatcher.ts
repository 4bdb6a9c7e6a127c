// The expect matcher, hand-written: output arrives in chunks (a prompt may be split across them,
// and has no newline); ANSI escape codes and carriage returns are stripped; a wait resolves with
// the earliest match among several patterns (the talk's ExpectSwitchCase) or a `fail` pattern,
// and consumes the output up to the match. Patterns are literal text, or /regex/flags.

export type Pattern = string;

export interface Match {
  /** index into the patterns waited for */
  index: number;
  text: string;
  groups: Record<string, string>;
}

// eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
const ansi = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(s: string): string {
  return s.replace(ansi, '').replace(/\r/g, '');
}

export function compilePattern(p: Pattern): RegExp {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(p);
  if (m) return new RegExp(m[1], m[2].replace('g', ''));
  return new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

export class ExpectBuffer {
  private pending = '';
  /** ANSI-stripped output so far, for the transcript */
  transcript = '';
  private carry = '';
  private waiters: Array<() => void> = [];
  closed = false;

  feed(chunk: string): void {
    // an escape sequence may be split across chunks: keep an unfinished one for the next chunk
    const text = this.carry + chunk;
    const cut = text.lastIndexOf('\u001b');
    const unfinished = cut >= 0 && cut > text.length - 16 && !/[@-~]/.test(text.slice(cut + 2)) ? text.slice(cut) : '';
    this.carry = unfinished;
    const clean = stripAnsi(unfinished ? text.slice(0, cut) : text);
    this.pending += clean;
    this.transcript += clean;
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** the output not yet consumed by a match */
  get unread(): string {
    return this.pending;
  }

  /** the earliest match of any pattern in the unread output, consuming through it; null when none yet */
  take(patterns: readonly RegExp[]): Match | null {
    let best: { index: number; m: RegExpExecArray } | null = null;
    patterns.forEach((re, index) => {
      const m = re.exec(this.pending);
      if (m && (!best || m.index < best.m.index)) best = { index, m };
    });
    if (!best) return null;
    const { index, m } = best as { index: number; m: RegExpExecArray };
    this.pending = this.pending.slice(m.index + m[0].length);
    return { index, text: m[0], groups: { ...(m.groups ?? {}) } };
  }

  /** resolves when more output arrives or the stream closes */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }
}
