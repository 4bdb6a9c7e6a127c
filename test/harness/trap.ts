// A server that should never be called: it counts every request it gets (and whether it carried
// credentials), and answers its own count at /__trap (not counted). A test points a setting a
// stranger's workspace may write at it, then asks how many requests Fleet sent there.
import { createServer, type Server } from 'node:http';

export interface Trap {
  url: string;
  hits(): Array<{ method: string; url: string; authorization: boolean }>;
  stop(): Promise<void>;
}

export async function startTrap(): Promise<Trap> {
  const hits: Array<{ method: string; url: string; authorization: boolean }> = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/__trap') return res.end(JSON.stringify(hits));
    hits.push({ method: req.method ?? '', url: req.url ?? '', authorization: Boolean(req.headers.authorization) });
    res.statusCode = 500;
    res.end('this server is a trap\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    hits: () => hits,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
