// One output stream of a remote command, kept up to a limit: what is over it is dropped and counted,
// and the text says so at its end.
export class Capture {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  add(b: Buffer): void {
    const room = this.max - this.kept;
    if (room > 0) {
      const part = b.length > room ? b.subarray(0, room) : b;
      this.parts.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, b.length - Math.max(room, 0));
  }
  text(): string {
    const s = Buffer.concat(this.parts).toString('utf8');
    return this.dropped > 0 ? `${s}\n[fleet: ${this.dropped} more bytes dropped]\n` : s;
  }
}
