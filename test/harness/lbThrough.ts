// The real LB code (serveLb) in process in front of a recording backend, for tests of what crosses it:
// raw bytes in from a client, what the client got back, and what the backend saw.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LbControlClient } from '../../core/lb/controlClient';
import { serveLb, type LbOptions, type RunningLb } from '../../lb/server';
import { freePort } from './net';
import { rawExchange } from './rawHttp';
import { RecordingBackend } from './recordingBackend';

/** an LB on a free port with one pool, "/", served by `backend` */
export async function lbWith(
  backend: { addr: string },
  o: Partial<LbOptions> = {},
): Promise<{ lb: RunningLb; port: number; control: LbControlClient }> {
  return lbOver([backend.addr], o);
}

/**
 * An LB on a free port with one pool, "/", served by `addrs` (added without a health check when
 * `health` is false: a backend that answers nothing sane can still be in the pool).
 */
export async function lbOver(
  addrs: string[],
  o: Partial<LbOptions> = {},
  health = true,
): Promise<{ lb: RunningLb; port: number; control: LbControlClient }> {
  const port = await freePort();
  const control = `unix:${join(mkdtempSync(join(tmpdir(), 'lbf-')), 'control.sock')}`;
  const lb = await serveLb({ http: `127.0.0.1:${port}`, control, ...o });
  const c = new LbControlClient(control);
  await c.addPool('/', health ? { path: '/healthz', healthyValues: ['ok'], intervalSecs: 60 } : undefined);
  for (const a of addrs) await c.addBackend('/', a);
  return { lb, port, control: c };
}

/**
 * sends raw bytes through a fresh LB; resolves what the client got back and what the backend saw (all of it: the LB is
 * closed first)
 */
export async function through(pieces: (string | Buffer)[], responses: number, o: Partial<LbOptions> = {}) {
  const backend = await RecordingBackend.start();
  const { lb, port } = await lbWith(backend, o);
  try {
    const got = await rawExchange(port, pieces, responses);
    await lb.close();
    await backend.idle();
    return { got, seen: backend.requests };
  } finally {
    await lb.close().catch(() => undefined);
    await backend.stop();
  }
}

/** runs `fn` against a fresh LB in front of a fresh recording backend, and stops both after */
export async function withLb<T>(
  fn: (t: { backend: RecordingBackend; port: number }) => Promise<T>,
  o: Partial<LbOptions> = {},
): Promise<T> {
  const backend = await RecordingBackend.start();
  const { lb, port } = await lbWith(backend, o);
  try {
    return await fn({ backend, port });
  } finally {
    await lb.close();
    await backend.stop();
  }
}
