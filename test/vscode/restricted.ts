// Restricted Mode in a real VS Code: a folder that is not trusted (Workspace Trust on, never
// granted) holds a fleet.json naming a real sshd host and a service.json whose Src is a binary.
// The suite (suite/restricted.test.ts) checks that the view lists the host and that every action
// that would connect, start or write is refused with a reason; this runner then checks the other
// side: the host's sshd saw no connection, and nothing was written into the folder.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimalService } from '../harness/minimalService';
import { killAllTracked } from '../harness/processes';
import { SshFleet } from '../harness/sshFleet';
import { startCodeServer, writeWorkspace } from './codeServer';
import { buildSuite, runSuite } from './runSuite';

async function main(): Promise<void> {
  const suite = await buildSuite('test/vscode/suite/restrictedIndex.ts', 'vscode-restricted');
  const fleet = await SshFleet.start(1);
  const ws = mkdtempSync(join(tmpdir(), 'fleet-untrusted-'));
  const server = await startCodeServer({
    workspaceTrust: true,
    // no trust prompt at start: the folder simply opens in Restricted Mode
    userSettings: { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' },
  });
  try {
    writeWorkspace(ws, {
      'fleet.json': JSON.stringify({
        defaults: { user: fleet.loginName, port: fleet.port, identityFile: fleet.clientKey },
        hosts: [{ name: 'web1', host: fleet.hosts[0].address, groups: ['web'] }],
      }),
      'service.json': JSON.stringify(minimalService()),
      '.vscode/settings.json': JSON.stringify({
        'fleet.refreshIntervalSeconds': 1,
        'fleet.hostKeyPolicy': 'accept-new',
      }),
    });
    writeFileSync(join(ws, 'app'), '#!/bin/sh\necho hi\n');
    chmodSync(join(ws, 'app'), 0o755);
    const before = readdirSync(ws).sort();
    const logBefore = fleet.log(fleet.hosts[0]).length;
    await runSuite('restricted-mode', server, ws, suite);
    assert.deepEqual(readdirSync(ws).sort(), before, 'Fleet wrote into the untrusted folder');
    const log = await fleet.logSince(fleet.hosts[0], logBefore);
    assert.doesNotMatch(log, /Connection from/, `the host was contacted in Restricted Mode:\n${log.slice(0, 2000)}`);
    process.stdout.write('  restricted mode: nothing contacted, nothing written\n');
  } finally {
    await server.stop();
    await fleet.stop();
  }
}

main().then(
  () => {
    killAllTracked();
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`restricted-mode tests: ${e instanceof Error ? e.stack : e}\n`);
    killAllTracked();
    process.exit(1);
  },
);
