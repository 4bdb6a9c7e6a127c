// Bytes to lines for streamed output: a chunk may end mid-line and a UTF-8 character may be split
// between chunks. Memory stays bounded however long a command runs: at most `maxLine` characters of an
// unfinished line are held; a longer line is passed on in pieces, each marked as continuing.
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 64 * 1024,
  ) {}

  push(chunk: Buffer): void {
    const text = this.partial + this.decoder.write(chunk);
    const parts = text.split('\n');
    this.partial = parts.pop()!;
    for (const p of parts) this.onLine(p.endsWith('\r') ? p.slice(0, -1) : p);
    while (this.partial.length > this.maxLine) {
      this.onLine(`${this.partial.slice(0, this.maxLine)}…`);
      this.partial = this.partial.slice(this.maxLine);
    }
  }

  /** the last line, when the stream ended without a newline */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest) this.onLine(rest);
  }
}
