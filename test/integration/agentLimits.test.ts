// The agent's TCP listener under clients that never authenticate: a refused request closes its
// connection even while the client trickles a body; connections are capped per peer address and in
// all (beyond the cap a connection is closed at once, and a client from elsewhere still gets in);
// a client that stalls its TLS handshake, its head or its body is cut off. A real agent process.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { AgentProcess } from '../harness/agentProcess';
import { freePort, waitFor } from '../harness/net';

interface Conn {
  sock: Socket | TLSSocket;
  closed: boolean;
  text: string;
}

function track(sock: Socket | TLSSocket): Conn {
  const c: Conn = { sock, closed: false, text: '' };
  sock.on('data', (d) => (c.text += d.toString('latin1')));
  sock.on('close', () => (c.closed = true));
  sock.on('error', () => undefined);
  return c;
}

async function plain(port: number, localAddress = '127.0.0.1'): Promise<Conn> {
  const sock = connect({ port, host: '127.0.0.1', localAddress });
  const c = track(sock);
  await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
  return c;
}

async function tls(port: number): Promise<Conn> {
  const sock = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  const c = track(sock);
  await new Promise<void>((res, rej) => sock.once('secureConnect', res).once('error', rej));
  return c;
}

const closed = (c: Conn) =>
  waitFor(async () => assert.ok(c.closed, `still open; got ${JSON.stringify(c.text)}`), 15_000);

/** a request head for a 1 MB upload; the body is to come */
const putHead = (port: number, token?: string) =>
  `PUT /api/v1/packages/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/zip\r\n` +
  `X-Fleet-Package: {"binary":"x"}\r\nContent-Length: 1000000\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;

describe('agent TCP listener limits (real agent process)', function () {
  this.timeout(120_000);

  describe('refused requests', () => {
    let agent: AgentProcess;
    let port: number;
    before(async () => {
      port = await freePort();
      agent = await AgentProcess.start({ listen: `127.0.0.1:${port}` });
    });
    after(() => agent?.stop());

    for (const via of ['plain http from loopback', 'TLS'] as const) {
      it(`a 401 closes the connection while the client trickles a body (${via})`, async () => {
        const c = via === 'TLS' ? await tls(port) : await plain(port);
        c.sock.write(putHead(port));
        await waitFor(async () => assert.match(c.text, /^HTTP\/1\.1 401 /), 10_000);
        // keep trickling: the agent must not keep reading (and holding the connection) to reuse it
        let sent = 0;
        await waitFor(async () => {
          if (!c.closed) c.sock.write('x'.repeat(100), () => sent++);
          assert.ok(c.closed, `open after ${sent} more writes`);
        }, 10_000);
        assert.match(c.text, /connection: close/i);
      });
    }

    it('a read-only token on a route that changes packages gets 403 and a closed connection', async () => {
      const c = await plain(port);
      c.sock.write(putHead(port, agent.readToken));
      await waitFor(async () => assert.match(c.text, /^HTTP\/1\.1 403 /), 10_000);
      assert.match(c.text, /read-only/);
      await closed(c);
    });
  });

  describe('connection caps and deadlines', () => {
    let agent: AgentProcess;
    let port: number;
    before(async () => {
      port = await freePort();
      // deadlines long enough that only the caps close a connection in the first test
      agent = await AgentProcess.start({
        listen: `127.0.0.1:${port}`,
        flags: ['--max-connections', '40', '--head-timeout-ms', '600000'],
      });
    });
    after(() => agent?.stop());

    it('caps connections per peer address (32) and in all (--max-connections); others still get in', async () => {
      const held: Conn[] = [];
      try {
        for (let i = 0; i < 32; i++) held.push(await plain(port, '127.0.0.1'));
        const over = await plain(port, '127.0.0.1');
        await closed(over);
        assert.equal(held.filter((c) => c.closed).length, 0, 'the 32 held connections stay open');
        // from another address: room, up to the total of 40
        const fromElsewhere: Conn[] = [];
        for (let i = 0; i < 8; i++) fromElsewhere.push(await plain(port, '127.0.0.2'));
        held.push(...fromElsewhere);
        const overTotal = await plain(port, '127.0.0.3');
        await closed(overTotal);
        // one held connection goes: an authenticated client gets in and is answered
        held.pop()!.sock.destroy();
        await waitFor(async () => {
          const c = await plain(port, '127.0.0.4');
          c.sock.write(
            `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${agent.token}\r\n\r\n`,
          );
          await waitFor(async () => assert.match(c.text, /^HTTP\/1\.1 200 /), 2000);
          c.sock.destroy();
        }, 15_000);
      } finally {
        held.forEach((c) => c.sock.destroy());
      }
    });
  });

  describe('deadlines', () => {
    let agent: AgentProcess;
    let port: number;
    before(async () => {
      port = await freePort();
      agent = await AgentProcess.start({
        listen: `127.0.0.1:${port}`,
        flags: ['--head-timeout-ms', '300', '--body-timeout-ms', '300'],
      });
    });
    after(() => agent?.stop());

    it('closes a connection that sends nothing (no TLS handshake, no head)', async () => {
      await closed(await plain(port));
    });

    it('closes a connection whose head never ends (plain and after a TLS handshake)', async () => {
      const p = await plain(port);
      p.sock.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
      const t = await tls(port);
      t.sock.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
      await closed(p);
      await closed(t);
    });

    it('answers 408 to an authenticated body that stalls, and closes', async () => {
      const c = await tls(port);
      c.sock.write(putHead(port, agent.token) + 'PK');
      await closed(c);
      assert.match(c.text, /^HTTP\/1\.1 408 /);
      assert.match(c.text, /stalled/);
    });
  });
});
