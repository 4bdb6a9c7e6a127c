// Passes a stream's bytes on until a marker appears in it, holding back only the few bytes that could
// be the marker's beginning (a marker may arrive cut across chunks anywhere), then hands over what
// followed the marker.
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
    const keep = Math.min(buf.length, this.marker.length - 1);
    if (buf.length > keep) this.onData(buf.subarray(0, buf.length - keep));
    this.tail = Buffer.from(buf.subarray(buf.length - keep));
    return null;
  }

  /** the bytes held back, when the stream ends without the marker */
  rest(): Buffer {
    return this.tail;
  }
}
