#!/usr/bin/env node
// The talk's quote-of-the-day TCP server: each line a client sends gets a quote back (an empty
// line too: the talk's version panicked on it). A connection that sends nothing gets one quote
// and is closed. Flag: --port N (default 17), --host ADDR (default 127.0.0.1).
'use strict';
const net = require('node:net');

const quotes = [
  'Golf is a good walk spoiled',
  'The easy way can be way harder',
  'Simplicity is complicated',
  'Clear is better than clever',
];

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const port = Number(flag('port', '17'));
const host = flag('host', '127.0.0.1');
let n = 0;
const next = () => quotes[n++ % quotes.length];

const server = net.createServer((sock) => {
  let buf = '';
  let answered = false;
  sock.setEncoding('utf8');
  const idle = setTimeout(() => {
    if (!answered) sock.end(next() + '\n');
  }, 500);
  sock.on('data', (d) => {
    buf += d;
    if (buf.length > 4096) return sock.destroy(); // no unbounded buffering
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      buf = buf.slice(i + 1);
      answered = true;
      sock.write(next() + '\n');
    }
  });
  sock.on('error', () => undefined);
  sock.on('close', () => clearTimeout(idle));
});
server.listen(port, host, () => process.stdout.write(`qotd listening on ${host}:${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
