// The agent's HTTP API (design.md "Agent API") as an Express 5 app. Every error is JSON {error}.
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  type AgentInfo,
  installSpecHeader,
  installSpecSchema,
  packageNameProblem,
  seedInstallSchema,
} from '../core/protocol/agent';
import type { DataDir } from './dataDir';
import { guard, type GuardOptions } from './guard';
import { HttpError } from './httpError';
import type { Ledger } from './ledger';
import type { Packages } from './packages';
import { prometheusText } from './metrics';
import type { Stats } from './stats';
import { diskError } from './unzip';
import { receiveUpload } from './upload';

export interface ServerOptions {
  guard: GuardOptions;
  info: AgentInfo;
  maxPackageBytes: number;
  /** JSON body limit of the seed's base64 install route */
  maxSeedJsonBytes: number;
  /** a body that sends nothing for this long: 408, connection closed */
  bodyIdleTimeoutMs: number;
}

export function buildApp(
  data: DataDir,
  packages: Packages,
  stats: Stats,
  ledger: Ledger,
  opts: ServerOptions,
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(guard(opts.guard));
  app.use(bodyDeadline(opts.bodyIdleTimeoutMs));

  app.param('name', (_req, _res, next, name: string) => {
    const problem = packageNameProblem(name);
    next(problem ? new HttpError(400, problem) : undefined);
  });

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/api/v1/agent', (_req, res) => {
    res.json(opts.info);
  });
  app.get('/debug/vars', async (_req, res) => {
    await stats.ready;
    res.json(stats.vars);
  });
  app.get('/metrics', async (_req, res) => {
    await stats.ready;
    res.type('text/plain; version=0.0.4').send(prometheusText(stats.vars, packages.list(), opts.info));
  });

  app.get('/api/v1/packages', (_req, res) => {
    res.json(packages.list());
  });
  app.get('/api/v1/packages/:name', (req, res) => {
    res.json(packages.status(req.params.name));
  });

  app.put('/api/v1/packages/:name', async (req, res) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (type !== 'application/zip' && type !== 'application/octet-stream')
      throw new HttpError(415, 'send the package as the body with Content-Type: application/zip');
    const spec = parseSpecHeader(req.headers[installSpecHeader]);
    const name = req.params.name;
    const status = await ledger.change(req, name, 'install', () =>
      packages.install(name, spec, () => receiveUpload(req, data.tmp, opts.maxPackageBytes)),
    );
    res.json(status);
  });

  for (const op of ['start', 'stop', 'restart', 'rollback'] as const) {
    app.post(`/api/v1/packages/:name/${op}`, async (req, res) => {
      const name = req.params.name;
      res.json(await ledger.change(req, name, op, () => packages[op](name)));
    });
  }
  app.delete('/api/v1/packages/:name', async (req, res) => {
    const name = req.params.name;
    await ledger.change(req, name, 'remove', () => packages.remove(name));
    res.status(204).end();
  });
  // leases, the latest rollout's record, history
  app.use(ledger.routes());
  app.get('/api/v1/packages/:name/logs', (req, res) => {
    packages.status(req.params.name); // 404 when unknown
    const tail = req.query.tail === undefined ? 100 : Number(req.query.tail);
    if (!Number.isInteger(tail) || tail < 1 || tail > 10_000)
      throw new HttpError(400, 'tail must be a whole number from 1 to 10000');
    res.type('text/plain').send(tailLines(data.logFile(req.params.name), tail));
  });

  // the seed's route: {Name, Package (base64 zip), Binary, Args}
  app.post('/api/v1.0.0/install', express.json({ limit: opts.maxSeedJsonBytes }), async (req, res) => {
    const r = seedInstallSchema.safeParse(req.body);
    if (!r.success)
      throw new HttpError(400, `${r.error.issues[0].path.join('.') || 'body'}: ${r.error.issues[0].message}`);
    const { Name, Package, Binary, Args } = r.data;
    const body = Buffer.from(Package, 'base64');
    if (body.length > opts.maxPackageBytes) {
      throw new HttpError(
        413,
        `package is ${body.length} bytes; the limit is ${opts.maxPackageBytes} (agent flag --max-package-bytes)`,
      );
    }
    const dir = mkdtempSync(join(data.tmp, 'seed-'));
    try {
      await ledger.change(req, Name, 'install', () =>
        packages.install(Name, { binary: Binary, args: Args }, async () => {
          const file = join(dir, 'package.zip');
          writeFileSync(file, body, { mode: 0o600 });
          return { file, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    res.json({});
  });

  app.use((_req, _res, next) => next(new HttpError(404, 'no such route; see GET /api/v1/packages')));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    const disk = diskError(err as NodeJS.ErrnoException);
    const status = disk
      ? 507
      : err instanceof HttpError
        ? err.status
        : e.type === 'entity.too.large'
          ? 413
          : e.type === 'entity.parse.failed'
            ? 400
            : 500;
    if (disk) e.message = disk.message;
    if (!res.headersSent)
      res.status(status).json({ error: e.message ?? String(err), ...(err instanceof HttpError ? err.extra : {}) });
  });
  return app;
}

/**
 * While a request's body arrives, its connection may idle at most `ms` between bytes; then 408 and
 * the connection closes. Cleared once the body is read: an install's unpacking may take long.
 */
function bodyDeadline(ms: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || req.complete) return next();
    const sock = req.socket;
    const clear = () => sock.setTimeout(0);
    req.once('timeout', () => {
      if (!res.headersSent)
        res
          .status(408)
          .set('connection', 'close')
          .json({ error: `the request body stalled: nothing arrived for ${Math.round(ms / 1000)} s` });
      sock.destroySoon();
    });
    req.once('end', clear);
    res.once('close', clear);
    sock.setTimeout(ms);
    next();
  };
}

function parseSpecHeader(raw: string | string[] | undefined): ReturnType<typeof installSpecSchema.parse> {
  if (typeof raw !== 'string')
    throw new HttpError(400, `missing ${installSpecHeader} header: JSON {"binary": "...", "args": [...]}`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpError(400, `${installSpecHeader} header is not JSON`);
  }
  const r = installSpecSchema.safeParse(json);
  if (!r.success)
    throw new HttpError(400, `${installSpecHeader}: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
  return r.data;
}

/** the last n lines of a file, reading at most its last 1 MiB */
function tailLines(file: string, n: number): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return '';
  }
  const len = Math.min(size, 1024 * 1024);
  const buf = Buffer.alloc(len);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, len, size - len);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n).join('\n') + (lines.length ? '\n' : '');
}
