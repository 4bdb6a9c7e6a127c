// The client connection's state machine (lb/front/connection.ts) driven by random clients and random
// handlers over real sockets: requests of every kind cut anywhere, pauses, half closes, resets and
// waits on one side; answers now, later, large, slow, after reading or dropping the body, 1xx first,
// an upgrade, or a throw on the other. Whatever happens, every transition is one the table
// (connectionStates.ts) lists, nothing throws, and the connection is gone once the client is (a
// client's FIN may be a half close: its answers still go out, so a handler's answer ends it).
import assert from 'node:assert/strict';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import fc from 'fast-check';
import { FrontConnection, type FrontHandler } from '../../lb/front/connection';
import { sendError } from '../../lb/front/errorAnswer';
import { createFrontServer } from '../../lb/front/server';
import { fuzzing, fuzzRuns, fuzzSeed } from '../harness/fuzz';

const behaviours = [
  'now',
  'later',
  'readBody',
  'readLater',
  'dropBody',
  'large',
  'largeAtOnce',
  'informational',
  'upgrade',
  'throwBefore',
  'throwAfter',
  'slow',
] as const;
type Behaviour = (typeof behaviours)[number];

const kinds = [
  'get',
  'post',
  'bigPost',
  'chunked',
  'expect',
  'bad',
  'partial',
  'partialHead',
  'http10',
  'close',
  'upgrade',
] as const;
type Kind = (typeof kinds)[number];

function wire(kind: Kind, b: Behaviour): string {
  const p = `/h/${b}`;
  switch (kind) {
    case 'get':
      return `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
    case 'post':
      return `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`;
    case 'bigPost':
      return `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: ${bigBody.length}\r\n\r\n${bigBody}`;
    case 'chunked':
      return `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n`;
    case 'expect':
      return `PUT ${p} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc`;
    case 'bad':
      return `GET ${p} HTTP/1.1\r\nHost: x\r\nX : y\r\n\r\n`;
    case 'partial':
      return `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nonly some`;
    case 'partialHead':
      return `GET ${p} HTTP/1.1\r\nHost: x\r\nX-Half: `;
    case 'http10':
      return `GET ${p} HTTP/1.0\r\n\r\n`;
    case 'close':
      return `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    case 'upgrade':
      return `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\n`;
  }
}

/** more than a client's kernel buffers take while it reads nothing */
const big = Buffer.alloc(1024 * 1024, 'x');
/** more than a body stream holds before its reader takes some */
const bigBody = 'b'.repeat(64 * 1024);

const handler: FrontHandler = (req, res) => {
  const b = req.url.slice(3) as Behaviour;
  const answer = () => {
    if (res.headersSent || res.cut) return;
    res.writeHead(200, ['content-length', '3']);
    res.end('ok\n');
  };
  switch (b) {
    case 'now':
      return answer();
    case 'later':
      return void setTimeout(answer, 5);
    case 'readBody':
      if (!req.body) return answer();
      req.body.on('data', () => undefined);
      return void req.body.on('end', answer);
    case 'readLater':
      if (!req.body) return answer();
      return void setTimeout(() => {
        req.body!.on('data', () => undefined);
        req.body!.on('end', answer);
      }, 30);
    case 'dropBody':
      req.body?.destroy();
      return sendError(res, 502, 'dropped', req.body !== null);
    case 'large': {
      res.writeHead(200, ['content-length', String(big.length * 16)]);
      let left = 16;
      const more = () => {
        while (left > 0 && !res.cut) {
          left--;
          if (!res.write(big)) return res.onDrain(more);
        }
        if (left === 0) res.end();
      };
      return more();
    }
    case 'largeAtOnce':
      // the answer is whole at once, queued for a client that may not read it
      res.writeHead(200, ['content-length', String(big.length * 4)]);
      return res.end(Buffer.concat([big, big, big, big]));
    case 'informational':
      res.writeInformational(103, ['link', '</a>']);
      return void setTimeout(answer, 2);
    case 'upgrade': {
      if (req.upgrade === undefined) return answer();
      const { socket, head } = res.upgrade(['connection', 'upgrade', 'upgrade', 'test']);
      socket.on('error', () => undefined);
      if (head.length) socket.write(head);
      socket.on('end', () => socket.end());
      return void socket.on('data', (d) => socket.write(d));
    }
    case 'throwBefore':
      throw new Error('boom before');
    case 'throwAfter':
      answer();
      throw new Error('boom after');
    case 'slow':
      // past every deadline of the connection's own: what a backend's server timeout bounds in service
      return void setTimeout(answer, 400);
  }
};

type Act =
  | { a: 'send'; kind: Kind; b: Behaviour; cuts: number[] }
  | { a: 'pause' | 'resume' | 'end' | 'reset' | 'shutdown' }
  | { a: 'wait'; ms: number };

const act: fc.Arbitrary<Act> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      a: fc.constant('send' as const),
      kind: fc.constantFrom(...kinds),
      b: fc.constantFrom(...behaviours),
      cuts: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ a: fc.constantFrom('pause' as const, 'resume' as const) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constantFrom('end' as const, 'reset' as const, 'shutdown' as const) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('wait' as const), ms: fc.constantFrom(0, 5, 60, 350) }) },
);

/** a wait past the deadlines is slow: in npm test the examples below cover each, under FLEET_FUZZ any run may */
const lastWait = fuzzing ? fc.constantFrom(0, 300, 800) : fc.constant(0);

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LB client connection: the state machine under random clients and handlers (property)', function () {
  this.timeout(fuzzing ? 7_200_000 : 120_000);
  const seen = new Map<string, number>();

  after(() => {
    if (fuzzing)
      console.log(`transitions taken (${seen.size}):\n${[...seen].map(([k, n]) => `  ${k} ${n}`).join('\n')}`);
  });

  it('property: every transition is in the table, nothing throws, the connection ends with its client', async () => {
    const violations: string[] = [];
    FrontConnection.observer = (from, event, to) => {
      if (to === undefined) violations.push(`${from} --${event}--> (not in the table)`);
      const k = `${from} --${event}--> ${to}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    };
    const thrown: unknown[] = [];
    const onUncaught = (e: unknown) => thrown.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(act, { minLength: 1, maxLength: 8 }), lastWait, async (acts, last) => {
          violations.length = 0;
          thrown.length = 0;
          const front = createFrontServer(handler, {
            maxHeadBytes: 16 * 1024,
            headersTimeoutMs: 150,
            requestTimeoutMs: 250,
            keepAliveTimeoutMs: 200,
            clientTimeoutMs: 200,
          });
          await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', () => r()));
          const port = (front.server.address() as AddressInfo).port;
          const s: Socket = connect(port, '127.0.0.1');
          s.on('error', () => undefined);
          s.on('data', () => undefined);
          try {
            await new Promise((r) => s.once('connect', r));
            for (const x of acts) {
              if (s.destroyed) break;
              if (x.a === 'send') {
                const w = Buffer.from(wire(x.kind, x.b), 'latin1');
                let at = 0;
                for (const c of [...x.cuts, w.length]) {
                  if (at >= w.length || s.destroyed || s.writableEnded) break;
                  s.write(w.subarray(at, Math.min(w.length, at + c)));
                  at += c;
                  await tick(0);
                }
              } else if (x.a === 'pause') s.pause();
              else if (x.a === 'resume') s.resume();
              else if (x.a === 'end') s.end();
              else if (x.a === 'reset') s.resetAndDestroy();
              else if (x.a === 'shutdown') front.closeIdleConnections();
              else if (x.a === 'wait') await tick(x.ms);
            }
            // a last wait lets the connection's deadlines run out while the client is still there (the
            // sweep that checks them runs every 0.5 s)
            await tick(last);
          } finally {
            s.destroy();
          }
          // the connection is gone once its client is (bounded: 3 s)
          let open = -1;
          for (const deadline = Date.now() + 3000; Date.now() < deadline;) {
            open = await new Promise<number>((r) => front.server.getConnections((_e, n) => r(n)));
            if (open === 0) break;
            await tick(20);
          }
          front.closeAllConnections();
          await new Promise((r) => front.server.close(r));
          const context = JSON.stringify({ acts, last });
          assert.deepEqual(violations, [], context);
          assert.deepEqual(thrown.map(String), [], context);
          assert.equal(open, 0, `a connection outlived its client: ${context}`);
        }),
        {
          seed: fuzzSeed(20261202),
          numRuns: fuzzRuns(30, 2000),
          endOnFailure: true,
          // the rarer states, always: a client that takes nothing of a streamed answer (the client
          // timeout), of a whole one (drainWait), and one that never finishes its body (the request timeout)
          examples: [
            [[{ a: 'pause' }, { a: 'send', kind: 'get', b: 'large', cuts: [] }], 800],
            [[{ a: 'pause' }, { a: 'send', kind: 'get', b: 'largeAtOnce', cuts: [] }], 800],
            [[{ a: 'send', kind: 'partial', b: 'readBody', cuts: [] }], 800],
            [[{ a: 'send', kind: 'partialHead', b: 'now', cuts: [] }], 800],
            [
              [
                { a: 'send', kind: 'bigPost', b: 'readLater', cuts: [] },
                { a: 'wait', ms: 60 },
              ],
              0,
            ],
          ],
        },
      );
    } finally {
      FrontConnection.observer = undefined;
      process.off('uncaughtException', onUncaught);
    }
  });
});
