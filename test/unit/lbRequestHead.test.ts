// The LB's request-head parser: what it accepts, and the framing tricks it refuses (each one a way two
// HTTP parsers have been made to disagree about where a request ends).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { isHeadError, maxHeaderFields, parseRequestHead, type RequestHead } from '../../lb/front/requestHead';

function ok(head: string): RequestHead {
  const h = parseRequestHead(head);
  if (isHeadError(h)) assert.fail(`refused ${JSON.stringify(head)}: ${h.message}`);
  return h;
}

function refused(head: string, status: number, message: RegExp): void {
  const h = parseRequestHead(head);
  assert.ok(isHeadError(h), `accepted ${JSON.stringify(head)}`);
  assert.equal(h.status, status, h.message);
  assert.match(h.message, message);
}

describe('LB request head', () => {
  it('reads the request line, the fields as sent (trimmed) and the framing', () => {
    const h = ok('POST /a/b?c=1 HTTP/1.1\r\nHost: x\r\nX-A:  two  words \t\r\nContent-Length: 12');
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/a/b?c=1');
    assert.equal(h.minor, 1);
    assert.deepEqual(h.rawHeaders, ['Host', 'x', 'X-A', 'two  words', 'Content-Length', '12']);
    assert.deepEqual(h.framing, { kind: 'length', bytes: 12 });
    assert.equal(h.close, false);
    assert.deepEqual(ok('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked').framing, { kind: 'chunked' });
    assert.deepEqual(ok('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0').framing, { kind: 'none' });
  });

  it('keeps header bytes beyond ASCII as they are, 0xA0 at the edge included', () => {
    const v = Buffer.from('café \xa0', 'latin1').toString('latin1');
    assert.equal(ok(`GET / HTTP/1.1\r\nHost: x\r\nX: ${v}`).rawHeaders[3], v);
  });

  it('ends the connection after HTTP/1.0 and after Connection: close', () => {
    assert.equal(ok('GET / HTTP/1.0').close, true);
    assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close').close, true);
    assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: closed').close, false);
  });

  it('waits with the body for 100-continue only when there is a body', () => {
    assert.equal(ok('PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3').expectContinue, true);
    assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue').expectContinue, false);
    refused('PUT / HTTP/1.1\r\nHost: x\r\nExpect: magic', 417, /Expect "magic"/);
  });

  it('refuses what two parsers could read two ways', () => {
    refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1', 400, /more than one Content-Length/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked', 400, /together/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 1', 400, /together/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +1', 400, /not a number/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2', 400, /not a number/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10', 400, /not a number/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999999999999', 400, /not a number/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked', 501, /not supported/);
    refused(
      'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
      501,
      /not supported/,
    );
    refused('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked', 501, /not supported/);
    refused('POST / HTTP/1.0\r\nTransfer-Encoding: chunked', 400, /HTTP\/1\.0/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5', 400, /malformed header line/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b', 400, /obs-fold/);
    refused('GET / HTTP/1.1\r\nHost: x\nContent-Length: 5', 400, /control character/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nX: a\rContent-Length: 5', 400, /control character/);
    refused('GET / HTTP/1.1\nHost: x', 400, /request line/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b', 400, /control character/);
    refused('GET / HTTP/1.1\r\nHost: x\r\n: nameless', 400, /malformed header line/);
    refused('GET / HTTP/1.1\r\nHost: x\r\nHost: y', 400, /more than one Host/);
    refused('GET / HTTP/1.1', 400, /no Host/);
  });

  it('refuses request lines it cannot route or does not speak', () => {
    refused('GET http://x/ HTTP/1.1\r\nHost: x', 400, /request line/);
    refused('GET  / HTTP/1.1\r\nHost: x', 400, /request line/);
    refused('GET / x HTTP/1.1\r\nHost: x', 400, /request line/);
    refused('G\x00T / HTTP/1.1\r\nHost: x', 400, /request line/);
    refused('GET / HTTP/2.0\r\nHost: x', 505, /HTTP\/2\.0/);
    refused('GET / HTTP/1.2\r\nHost: x', 505, /HTTP\/1\.2/);
    refused('GET / HTTP/1.1 \r\nHost: x', 400, /request line/);
  });

  it('counts header fields', () => {
    const fields = Array.from({ length: maxHeaderFields }, (_, i) => `X-${i}: v`).join('\r\n');
    ok(`GET / HTTP/1.1\r\n${fields}`.replace('X-0: v', 'Host: x'));
    refused(`GET / HTTP/1.1\r\nHost: x\r\n${fields}`, 431, /header fields/);
  });

  it('property: any bytes get an answer (a head or a reason), never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
          fc
            .array(
              fc.constantFrom(
                'GET',
                ' ',
                '/',
                'HTTP/1.1',
                '\r\n',
                ':',
                'Host',
                'Content-Length',
                '1',
                'chunked',
                '\t',
                '\n',
              ),
            )
            .map((parts) => parts.join('')),
        ),
        (head) => {
          const h = parseRequestHead(head);
          if (isHeadError(h)) assert.ok([400, 417, 431, 501, 505].includes(h.status) && h.message.length > 0);
          else assert.ok(h.target.startsWith('/'));
        },
      ),
      { seed: fuzzSeed(20261126), numRuns: fuzzRuns(500) },
    );
  });
});
