// Passes a stream's bytes on until a marker appears in it, holding back only bytes at a chunk's end
// that are the marker's beginning (a marker may arrive cut across chunks anywhere; anything else is
// passed on at once, so a line a command prints shows while it runs), then hands over what followed
// the marker.
const empty = Buffer.alloc(0);

export class UntilMarker {
  /** the marker has been seen */
  done = false;
  private tail: Buffer = empty;

  constructor(
    private readonly marker: Buffer,
    private readonly onData: (b: Buffer) => void,
  ) {}

  /** reads a chunk: the bytes after the marker once it is seen (maybe none), or null while it is not */
  push(chunk: Buffer): Buffer | null {
    if (this.done) return chunk;
    const buf = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      if (at > 0) this.onData(buf.subarray(0, at));
      this.done = true;
      this.tail = empty;
      return buf.subarray(at + this.marker.length);
    }
    const keep = this.markerStartAtEnd(buf);
    if (buf.length > keep) this.onData(buf.subarray(0, buf.length - keep));
    this.tail = Buffer.from(buf.subarray(buf.length - keep));
    return null;
  }

  /** how many bytes at the end of buf are the marker's beginning (they wait; the rest is passed on now) */
  private markerStartAtEnd(buf: Buffer): number {
    for (let k = Math.min(buf.length, this.marker.length - 1); k > 0; k--) {
      const from = buf.length - k;
      if (buf[from] === this.marker[0] && buf.subarray(from).equals(this.marker.subarray(0, k))) return k;
    }
    return 0;
  }

  /** the bytes held back, when the stream ends without the marker */
  rest(): Buffer {
    return this.tail;
  }
}
