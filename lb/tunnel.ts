// A connection upgraded by a backend's 101 (WebSocket): bytes copied both ways with backpressure
// until either side closes, or nothing crosses for the idle timeout (HAProxy's `timeout tunnel`), or a
// drain of its backend closes it at the drain timeout. Each end's half close is passed on.
import type { Socket } from 'node:net';

export class Tunnel {
  private closed = false;

  constructor(
    private readonly client: Socket,
    clientRest: Buffer,
    private readonly backend: Socket,
    backendRest: Buffer,
    idleMs: number,
    /** called once, when both sockets are gone */
    private readonly onClose: () => void,
  ) {
    for (const s of [client, backend]) {
      s.on('error', () => undefined);
      s.once('close', () => this.close());
      // a socket's idle clock runs on its reads and its writes: what crosses either way keeps both alive
      s.setTimeout(idleMs, () => this.close());
    }
    if (backendRest.length) client.write(backendRest);
    if (clientRest.length) backend.write(clientRest);
    client.pipe(backend);
    backend.pipe(client);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.backend.destroy();
    this.onClose();
  }
}
