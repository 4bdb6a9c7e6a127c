// Reads a chunked body (RFC 9112 §7.1; a request's or an answer's) as it arrives, in pieces cut
// anywhere: hands out the data, says where the body ends (so the next pipelined message starts there),
// and refuses what two parsers could read two ways: a bare LF, a size with spaces or of more than 15
// hex digits, a control byte in an extension, a trailer line that is not `name: value` (HAProxy answers
// such a request 400 and such an answer 502). Extensions are dropped; trailers are kept, checked, for
// whoever forwards the body chunked.

/** bytes of chunk extensions, or of trailer fields, accepted per body */
export const maxChunkMetaBytes = 16 * 1024;

type State = 'size' | 'ext' | 'sizeLf' | 'data' | 'dataCr' | 'dataLf' | 'trailer' | 'trailerLf' | 'done';

/** a byte of a field name (an RFC 9110 token) */
const tokenByte = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  tokenByte[c.charCodeAt(0)] = 1;

export interface ChunkedStep {
  /** body bytes found in this piece */
  data: Buffer[];
  /** bytes of this piece consumed; the rest (when done) belongs to what follows the body */
  used: number;
  done: boolean;
}

export class ChunkedDecoder {
  private state: State = 'size';
  private size = 0;
  private digits = 0;
  private left = 0;
  private meta = 0;
  /** bytes on the current trailer line (0: the line is empty so far) */
  private lineBytes = 0;
  /** the current trailer line has had its colon (its name is read) */
  private colon = false;
  /** the trailer section's bytes so far (lines with their CRLF), as latin1 */
  private trailerText = '';

  /** reads as much of `buf` as belongs to the body; throws ChunkedError on a malformed body */
  push(buf: Buffer): ChunkedStep {
    const data: Buffer[] = [];
    let i = 0;
    while (i < buf.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, buf.length - i);
        data.push(buf.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'dataCr';
        continue;
      }
      this.step(buf[i++]);
    }
    return { data, used: i, done: this.state === 'done' };
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** the trailer fields, each line with its CRLF ('' when none), once finished */
  get trailers(): string {
    return this.trailerText;
  }

  private step(c: number): void {
    switch (this.state) {
      case 'size': {
        const d = hexValue(c);
        if (d >= 0) {
          if (++this.digits > 15) throw new ChunkedError('a chunk size of more than 15 hex digits');
          this.size = this.size * 16 + d;
        } else if (this.digits === 0) throw new ChunkedError('a chunk without a size');
        else if (c === 0x3b /* ; */) this.state = 'ext';
        else if (c === 0x0d) this.state = 'sizeLf';
        else throw new ChunkedError(`a chunk size followed by ${describe(c)}`);
        return;
      }
      case 'ext':
        if (c === 0x0d) this.state = 'sizeLf';
        else if ((c < 0x20 && c !== 0x09) || c === 0x7f)
          throw new ChunkedError('a control character in a chunk extension');
        else this.countMeta();
        return;
      case 'sizeLf':
        this.expect(c, 0x0a, 'a chunk size line');
        this.left = this.size;
        this.state = this.size === 0 ? 'trailer' : 'data';
        this.size = 0;
        this.digits = 0;
        return;
      case 'dataCr':
        this.expect(c, 0x0d, 'chunk data');
        this.state = 'dataLf';
        return;
      case 'dataLf':
        this.expect(c, 0x0a, 'chunk data');
        this.state = 'size';
        return;
      case 'trailer':
        if (c === 0x0d) {
          if (this.lineBytes > 0 && !this.colon) throw new ChunkedError('a trailer line without a colon');
          this.state = 'trailerLf';
        } else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new ChunkedError('a control character in a trailer');
        else {
          if (!this.colon) {
            if (c === 0x3a /* : */) {
              if (this.lineBytes === 0) throw new ChunkedError('a trailer line without a field name');
              this.colon = true;
            } else if (!tokenByte[c])
              throw new ChunkedError(`${describe(c)} in a trailer field name (a folded or malformed trailer line)`);
          }
          this.lineBytes++;
          this.countMeta();
          this.trailerText += String.fromCharCode(c);
        }
        return;
      case 'trailerLf':
        this.expect(c, 0x0a, 'a trailer line');
        // an empty line ends the trailers, and the body
        if (this.lineBytes === 0) this.state = 'done';
        else {
          this.state = 'trailer';
          this.trailerText += '\r\n';
        }
        this.lineBytes = 0;
        this.colon = false;
        return;
    }
  }

  private expect(c: number, want: number, where: string): void {
    if (c !== want) throw new ChunkedError(`${describe(c)} where ${want === 0x0a ? 'LF' : 'CR'} ends ${where}`);
  }

  private countMeta(): void {
    if (++this.meta > maxChunkMetaBytes)
      throw new ChunkedError(`more than ${maxChunkMetaBytes} bytes of chunk extensions and trailers`);
  }
}

export class ChunkedError extends Error {}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function describe(c: number): string {
  return c >= 0x21 && c <= 0x7e ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
