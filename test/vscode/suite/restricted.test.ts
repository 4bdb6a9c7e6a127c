// Inside VS Code, in a folder that is not trusted (Restricted Mode): Fleet lists fleet.json's hosts,
// and every action that would connect, start a process or write is refused with its reason. The
// runner (../restricted.ts) checks afterwards that the host saw no connection and the folder no write.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { FleetApi } from '../../../extension/extension';

export function restrictedTests(): void {
  describe('Fleet in Restricted Mode (an untrusted folder, real VS Code)', () => {
    let api: FleetApi;
    const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

    before(async () => {
      const ext = vscode.extensions.getExtension('fleet-dev.fleet');
      assert.ok(ext, 'the extension is installed');
      api = (await ext.activate()) as FleetApi;
    });

    it('the folder is not trusted (the premise)', () => {
      assert.equal(vscode.workspace.isTrusted, false);
    });

    it('lists the hosts of fleet.json, and says they are not checked', async () => {
      await vscode.commands.executeCommand('fleet.hosts.focus');
      assert.deepEqual([...api.provider.model.states.keys()], ['web1']);
      assert.match(api.provider.view?.message ?? '', /Restricted Mode.*connects to none/);
      // the view asked to refresh every second: still nothing probed
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(api.provider.model.states.get('web1')?.probe, undefined, 'a host was probed');
    });

    it('every action that connects, starts or writes is refused, naming itself', async () => {
      const tries: Array<[string, unknown[]]> = [
        ['fleet.refresh', []],
        ['fleet.runCommand', [{ hosts: ['web1'], command: 'touch /tmp/should-not-exist' }]],
        ['fleet.runExpect', [{ hosts: ['web1'], script: join(ws(), 'x.json') }]],
        ['fleet.deployZip', [{ hosts: ['web1'] }]],
        ['fleet.installAgent', []],
        ['fleet.scanNetwork', [{ cidr: '127.0.0.1/32', user: 'nobody', port: 22 }]],
        ['fleet.openRolloutPanel', [vscode.Uri.file(join(ws(), 'service.json'))]],
        ['fleet.tryDemo', []],
        ['fleet.createInventory', []],
        ['fleet.importSshConfig', [[]]],
        ['fleet.package.stop', []],
      ];
      for (const [id, args] of tries) {
        const before = api.restrictedRefusals.length;
        const r = await vscode.commands.executeCommand(id, ...args);
        assert.equal(r, undefined, `${id} returned a result`);
        assert.equal(api.restrictedRefusals.length, before + 1, `${id} was not refused`);
      }
      assert.ok(api.restrictedRefusals.includes('Open Rollout Panel'));
    });

    it('Filter Hosts still works: it only changes what the view shows', async () => {
      await vscode.commands.executeCommand('fleet.filterHosts', 'web1');
      assert.equal(api.provider.getChildren().length > 0, true);
      await vscode.commands.executeCommand('fleet.clearFilter');
    });
  });
}
