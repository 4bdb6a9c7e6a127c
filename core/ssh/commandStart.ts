// Where a command's own output starts in one of its streams. A login may write before the command
// runs (an rc file that echoes, `bash: warning: setlocale: …`, sshd's "Could not chdir to home
// directory"), on stdout and on stderr, at any length and cut anywhere by the channel. The wire line
// (remoteShell.ts) writes a mark on each stream just before the command, carrying a nonce the login
// cannot have written: what precedes the mark is the login's, what follows it the command's, and the
// rest of the mark's line (the pid report, on stderr) is handed over.
import { UntilMarker } from './untilMarker';

/** longest rest of a mark's line read (a pid report is ~20 bytes); beyond it the line is cut */
const maxMarkLine = 80;

export class CommandStart {
  /** the mark and the rest of its line have been read */
  done = false;
  /** the rest of the mark's line, without its line end, once read */
  line: string | null = null;
  private readonly until: UntilMarker;
  private lineBuf: Buffer | null = null;

  constructor(
    private readonly mark: Buffer,
    onLogin: (b: Buffer) => void,
  ) {
    this.until = new UntilMarker(mark, onLogin);
  }

  /** reads a chunk: the command's bytes in it once the mark's line is read (maybe none), else null */
  push(chunk: Buffer): Buffer | null {
    if (this.done) return chunk;
    if (this.lineBuf === null) {
      const after = this.until.push(chunk);
      if (after === null) return null;
      this.lineBuf = Buffer.alloc(0);
      chunk = after;
    }
    const buf = Buffer.concat([this.lineBuf, chunk]);
    const nl = buf.indexOf(0x0a);
    if (nl < 0 && buf.length <= maxMarkLine) {
      this.lineBuf = buf;
      return null;
    }
    const end = nl < 0 ? maxMarkLine : nl;
    this.line = buf.subarray(0, end).toString('latin1').replace(/\r$/, '');
    this.done = true;
    return buf.subarray(nl < 0 ? end : nl + 1);
  }

  /** what was held back when the stream ended before the mark's line was read (nothing is lost) */
  rest(): Buffer {
    if (this.done) return Buffer.alloc(0);
    return this.lineBuf === null ? this.until.rest() : Buffer.concat([this.mark, this.lineBuf]);
  }
}
