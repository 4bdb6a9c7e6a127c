// Streams a request body to a temp file: never buffered whole, bounded in size (413 beyond),
// hashed on the way; an aborted or failed upload leaves no file behind.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError } from './httpError';
import { diskError } from './unzip';

export interface Upload {
  file: string;
  size: number;
  sha256: string;
}

export async function receiveUpload(req: IncomingMessage, dir: string, limitBytes: number): Promise<Upload> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limitBytes)
    throw new HttpError(
      413,
      `package is ${declared} bytes; the limit is ${limitBytes} (agent flag --max-package-bytes)`,
    );
  const file = join(dir, `upload-${randomBytes(8).toString('hex')}.zip`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > limitBytes)
        return cb(
          new HttpError(
            413,
            `package is larger than the limit of ${limitBytes} bytes (agent flag --max-package-bytes)`,
          ),
        );
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(req, meter, createWriteStream(file, { mode: 0o600 }));
  } catch (e) {
    rmSync(file, { force: true });
    if (e instanceof HttpError) throw e;
    throw (
      diskError(e as NodeJS.ErrnoException) ?? new HttpError(400, `upload did not complete: ${(e as Error).message}`)
    );
  }
  if (size === 0) {
    rmSync(file, { force: true });
    throw new HttpError(400, 'empty body: send the zip as the request body (Content-Type: application/zip)');
  }
  return { file, size, sha256: hash.digest('hex') };
}
