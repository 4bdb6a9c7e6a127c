// The HTTP API kit shared by the agent and the LB's control API (core/protocol/httpApi.ts): who may
// call, and a client that gives up on a server that accepts and never answers.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { LbControlClient } from '../../core/lb/controlClient';
import { LbError } from '../../core/lb/types';
import { apiAccess, type ApiGuard } from '../../core/protocol/httpApi';

describe('HTTP API kit', () => {
  const g: ApiGuard = {
    name: 'LB',
    hostOk: (h) => h === '127.0.0.1:9091',
    tokens: { full: Buffer.from('f'.repeat(32)), read: Buffer.from('r'.repeat(32)) },
  };
  const ok = { host: '127.0.0.1:9091', authorization: `Bearer ${'f'.repeat(32)}` };

  it('refuses a web page, a foreign Host and a wrong token; tells the full token from the read-only one', () => {
    assert.deepEqual(apiAccess(ok, g), { ok: true, level: 'full' });
    assert.deepEqual(apiAccess({ ...ok, authorization: `Bearer ${'r'.repeat(32)}` }, g), { ok: true, level: 'read' });
    const page = apiAccess({ ...ok, origin: 'https://evil.example' }, g);
    assert.ok(!page.ok && page.status === 403 && /Origin header/.test(page.error));
    const rebound = apiAccess({ ...ok, host: 'evil.example:9091' }, g);
    assert.ok(!rebound.ok && rebound.status === 403 && /does not name this LB/.test(rebound.error));
    for (const authorization of [undefined, 'Bearer ', `Bearer ${'f'.repeat(31)}`, `bearer ${'f'.repeat(32)}`]) {
      const a = apiAccess({ ...ok, authorization }, g);
      assert.ok(!a.ok && a.status === 401 && /the token in the LB's token file/.test(a.error), String(authorization));
    }
    assert.deepEqual(apiAccess({ host: '127.0.0.1:9091' }, { ...g, tokens: undefined }), { ok: true, level: 'full' });
  });

  it('the LB control client gives up on an LB that accepts and never answers, saying so', async () => {
    const held: Socket[] = [];
    const server = createServer((s) => void held.push(s)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const c = new LbControlClient(`127.0.0.1:${port}`, 't'.repeat(32), 300);
      await assert.rejects(
        c.poolHealth('/'),
        (e: unknown) => e instanceof LbError && /did not answer within 0.3 s/.test(e.message),
      );
      const ac = new AbortController();
      const p = c.stats('/', ac.signal);
      ac.abort();
      await assert.rejects(p, (e: unknown) => !(e instanceof LbError), "the caller's own abort is not a deadline");
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });
});
