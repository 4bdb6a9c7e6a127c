// An error answer from the LB itself: a JSON body saying what went wrong, on one line.
import type { FrontResponse } from './response';

/**
 * `close`: the request's body may not have been read, so the connection cannot carry another
 * request: say so and close it (no byte of that body can be read as a request of its own).
 */
export function sendError(res: FrontResponse, status: number, message: string, close = false): void {
  if (res.headersSent) return void res.destroy();
  // a line: what follows on the connection (the next answer) starts on a line of its own
  const body = JSON.stringify({ error: message }) + '\n';
  if (close) res.closeConnection();
  res.writeHead(status, ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(body))]);
  res.end(body);
}
