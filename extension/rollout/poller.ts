// A reading taken now and then every `everyMs` while started (the panel's traffic and the agents'
// records, while someone looks). Readings never overlap: a slow one makes the next ticks skip.
export class Poller {
  private timer?: NodeJS.Timeout;
  private busy = false;

  /** `read` resolves when its reading is done, or returns undefined when there is nothing to read now */
  constructor(
    private readonly read: () => Promise<unknown> | undefined,
    private readonly everyMs: number,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.busy) return;
    const reading = this.read();
    if (!reading) return;
    this.busy = true;
    void reading.catch(() => undefined).finally(() => (this.busy = false));
  }
}
