#!/usr/bin/env node
// The talk's sample web backend. GET / says which node and version it is, /healthz answers ok
// (or fails, in the broken build), /installedAt tells when this build was installed.
// Flags: --port N (required), --node NAME (default: a random id). Built into zips by examples/build.ts,
// which writes build.json beside this file: {"version": "v1"|"v2", "broken": bool, "failEvery": N,
// "delayMs": N}: failEvery makes every Nth answer of / a 500 while /healthz stays ok (the flaky build a
// health check alone lets through), delayMs answers / that much later (the slow build).
'use strict';
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const build = JSON.parse(readFileSync(join(__dirname, 'build.json'), 'utf8'));
const port = Number(flag('port', ''));
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('web: --port N is required (1-65535)\n');
  process.exit(64);
}
const node = flag('node', randomUUID());
const installedAt = statSync(join(__dirname, 'build.json')).mtime.toISOString();
const host = flag('host', '127.0.0.1');
let served = 0;

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(build.broken ? 500 : 200, { 'content-type': 'text/plain' });
    return res.end(build.broken ? 'broken' : 'ok');
  }
  if (path === '/installedAt') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end(installedAt);
  }
  if (path === '/slow') {
    // for drain tests: answers after ?ms= milliseconds (at most 10 s)
    const ms = Math.min(10000, Number(new URL(req.url, 'http://x').searchParams.get('ms')) || 1000);
    return setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-fleet-node': node, 'x-fleet-version': build.version });
      res.end(`slow ${build.version} ${node}\n`);
    }, ms);
  }
  served++;
  if (build.failEvery && served % build.failEvery === 0) {
    res.writeHead(500, { 'content-type': 'text/plain', 'x-fleet-node': node, 'x-fleet-version': build.version });
    return res.end(`flaky ${build.version} failed this one\n`);
  }
  const answer = () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-fleet-node': node, 'x-fleet-version': build.version });
    res.end(
      build.version === 'v1'
        ? `Hello web from node ${node} (${build.version})\n`
        : `Hello web from replaced node ${node} (${build.version})\n`,
    );
  };
  if (build.delayMs) setTimeout(answer, build.delayMs);
  else answer();
});
server.keepAliveTimeout = 5000;
server.listen(port, host, () =>
  process.stdout.write(`web ${build.version} node ${node} listening on ${host}:${port}\n`),
);
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
