// Extension-host tests: the real `vscode` API, the extension loaded from source, a real sshd
// fleet (started by test/vscode/run.ts, described in the workspace's test-context.json).
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { NewHostKey } from '../../../core/ssh/hostKeyPolicy';
import type { HostResult } from '../../../core/ssh/fanout';
import { agentMark } from '../../../extension/commands/deployPicks';
import type { FleetApi } from '../../../extension/extension';
import type { PanelState } from '../../../webviews/rollout/protocol';

interface TestContext {
  hosts: Array<{ name: string; address: string }>;
  /** an sshd not in fleet.json: Scan Network finds it */
  unlisted: { address: string; port: number; user: string };
  /** a server the workspace's settings name as Prometheus: Fleet must never call it */
  trap: string;
  zip: string;
  webPort: number;
  /** service.json of a local fleet (3 agents + built-in LB) */
  service: string;
  proxy: string;
  /** a Prometheus scraping one agent labelled web3 */
  prometheus: string;
}

function httpText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}

interface PanelHandle {
  lastPosted?: { state: PanelState };
  panel: vscode.WebviewPanel;
}

/** opens the rollout panel of a file and waits until its webview said ready and got a state that passes `until` */
async function openPanel(file: string, until: (s: PanelState) => boolean = () => true): Promise<PanelHandle> {
  const panel = (await vscode.commands.executeCommand('fleet.openRolloutPanel', vscode.Uri.file(file))) as PanelHandle;
  for (let i = 0; i < 300 && !(panel.lastPosted && until(panel.lastPosted.state)); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.ok(panel.lastPosted, `the webview of ${file} never said ready within 30 s`);
  return panel;
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function fleetTests(): void {
  describe('Fleet extension (real VS Code, real sshd)', () => {
    let api: FleetApi;
    let ctx: TestContext;
    const prompts: string[][] = [];

    /** the host rows under the group rows */
    const hostRows = () => api.provider.getChildren().flatMap((g) => (g.contextValue === 'group' ? g.children! : [g]));
    const hostRow = (name: string) => hostRows().find((n) => n.label === name)!;

    before(async () => {
      const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
      ctx = JSON.parse(readFileSync(join(ws, 'test-context.json'), 'utf8'));
      const ext = vscode.extensions.getExtension('fleet-dev.fleet');
      assert.ok(ext, 'the extension is installed');
      api = await ext.activate();
      console.log(`  (the extension's activate() took ${api.activationMs.toFixed(1)} ms: measured, not asserted)`);
      api.setHostKeyPrompt(async (keys: NewHostKey[]) => {
        prompts.push(keys.map((k) => k.name).sort());
        return keys.map((k) => k.name);
      });
    });

    it("a workspace's settings cannot weaken host-key checking (machine-scoped settings)", () => {
      const cfg = vscode.workspace.getConfiguration('fleet');
      assert.equal(cfg.get('hostKeyPolicy'), 'ask', 'the workspace asked for accept-new');
      assert.match(cfg.get<string>('knownHostsFile') ?? '', /[/]known_hosts$/);
      assert.doesNotMatch(cfg.get<string>('knownHostsFile') ?? '', /elsewhere/);
    });

    it("a workspace's settings cannot send the user's Prometheus credentials anywhere (machine-scoped)", async () => {
      const prom = vscode.workspace.getConfiguration('fleet.prometheus');
      assert.equal(prom.get('url'), '', 'the workspace named its own Prometheus');
      assert.equal(prom.get('auth'), 'none');
      assert.equal(prom.get('tokenFile'), '');
      await vscode.commands.executeCommand('fleet.refresh');
      const hits = (await (await fetch(`${ctx.trap}/__trap`)).json()) as unknown[];
      assert.deepEqual(hits, [], 'Fleet called the server the workspace named');
    });

    it('asks once for every new host key, then lists the hosts under their group, each row at a glance', async () => {
      await vscode.commands.executeCommand('fleet.refresh');
      assert.equal(prompts.length, 1, `prompts: ${JSON.stringify(prompts)}`);
      assert.equal(prompts[0].length, ctx.hosts.length);
      const groups = api.provider.getChildren();
      assert.deepEqual(
        groups.map((g) => [g.label, g.description]),
        [['web', `${ctx.hosts.length}/${ctx.hosts.length} up`]],
      );
      const nodes = hostRows();
      assert.deepEqual(
        nodes.map((n) => n.label),
        ctx.hosts.map((h) => h.name),
      );
      for (const n of nodes) {
        assert.equal(n.contextValue, 'host.up');
        assert.match(n.description ?? '', /^\d+% · [\d.]+\/[\d.]+ [KMGT]iB · no agent$/);
        assert.match(n.tooltipMarkdown ?? '', /^\*\*web\d\*\* · `[a-z0-9]+@/);
        assert.deepEqual(n.icon, { id: 'circle-filled', color: 'testing.iconPassed' });
        assert.deepEqual(
          n.children!.map((c) => c.label),
          ['CPU', 'Memory', 'Agent'],
        );
      }
      const item = api.provider.getTreeItem(nodes[0]);
      assert.ok(item.iconPath instanceof vscode.ThemeIcon);
      assert.ok(item.tooltip instanceof vscode.MarkdownString);
      // a second refresh asks nothing: the keys are pinned
      await vscode.commands.executeCommand('fleet.refresh');
      assert.equal(prompts.length, 1);
    });

    it('with fleet.prometheus.url, takes the hosts Prometheus scrapes from it and asks the rest over SSH', async () => {
      const cfg = vscode.workspace.getConfiguration('fleet.prometheus');
      // a machine setting: the user's own (a workspace cannot set it)
      await cfg.update('url', ctx.prometheus, vscode.ConfigurationTarget.Global);
      try {
        // refreshed until Prometheus has web3's CPU rate (two scrapes after it started)
        const fromProm = () => {
          const st = api.provider.model.states.get('web3');
          return st?.probe?.ok && st.probe.source === 'prometheus' && st.probe.probe.cpuPct !== null ? st : undefined;
        };
        for (let i = 0; i < 30 && !fromProm(); i++) {
          await vscode.commands.executeCommand('fleet.refresh');
          if (!fromProm()) await new Promise((r) => setTimeout(r, 1000));
        }
        const web3 = fromProm();
        assert.ok(
          web3,
          `web3 not from Prometheus: ${JSON.stringify(api.provider.model.states.get('web3')?.probe)} ${api.provider.model.prometheusError ?? ''}`,
        );
        assert.ok(web3.probe?.ok);
        const q = (await (
          await fetch(`${ctx.prometheus}/api/v1/query?query=node_memory_MemTotal_bytes{host="web3"}`)
        ).json()) as { data: { result: Array<{ value: [number, string] }> } };
        assert.equal(web3.probe.probe.memTotalBytes, Number(q.data.result[0].value[1]), 'the value Prometheus holds');
        await vscode.commands.executeCommand('fleet.refresh');
        for (const n of ['web1', 'web2']) assert.equal(api.provider.model.states.get(n)?.probe?.source, 'ssh', n);
        assert.match(hostRow('web3').tooltipMarkdown ?? '', /from Prometheus, scraped \d+s ago/);
        assert.match(hostRow('web1').tooltipMarkdown ?? '', /over SSH, \d+s ago/);
        assert.match(hostRow('web3').description ?? '', /^\d+% · [\d.]+\/[\d.]+ [KMGT]iB · agent [✓⬆] · 0 pkgs$/);
      } finally {
        await cfg.update('url', undefined, vscode.ConfigurationTarget.Global);
      }
      // the setting's change reaches the extension asynchronously: refresh until a refresh went over SSH
      const viaSsh = () => api.provider.model.states.get('web3')?.probe?.source === 'ssh';
      for (let i = 0; i < 20 && !viaSsh(); i++) {
        await vscode.commands.executeCommand('fleet.refresh');
        if (!viaSsh()) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(viaSsh(), 'web3 is asked over SSH again once fleet.prometheus.url is unset');
    });

    it('Run Command returns per-host results and writes the grouped output', async () => {
      const names = ctx.hosts.map((h) => h.name);
      const results = (await vscode.commands.executeCommand('fleet.runCommand', {
        hosts: names,
        command: 'echo "hello from $(hostname)"',
      })) as HostResult[];
      assert.equal(results.length, names.length);
      for (const r of results) {
        assert.equal(r.exitCode, 0, r.error?.message);
        assert.match(r.stdout, /^hello from /);
      }
    });

    it('Run Expect Script answers a prompt on a host, with the secret masked', async () => {
      const dir = vscode.workspace.workspaceFolders![0].uri.fsPath;
      writeFileSync(join(dir, 'ask.sh'), 'printf "Token: "; read t; [ "$t" = hunter2-secret ] && echo accepted\n');
      writeFileSync(
        join(dir, 'ask.json'),
        JSON.stringify({
          command: `sh ${join(dir, 'ask.sh')}`,
          steps: [{ expect: 'Token: ', send: 'hunter2-secret\n', secret: true }, { expect: 'accepted' }],
        }),
      );
      const [r] = (await vscode.commands.executeCommand('fleet.runExpect', {
        script: join(dir, 'ask.json'),
        hosts: [ctx.hosts[1].name],
      })) as Array<{ ok: boolean; transcript: string; error?: string }>;
      assert.equal(r.ok, true, r.error);
      assert.match(r.transcript, /accepted/);
      assert.ok(!r.transcript.includes('hunter2-secret'), r.transcript);
    });

    it('filters the view by name, group and state; a filter that matches nothing says so', async () => {
      await vscode.commands.executeCommand('fleet.filterHosts', ctx.hosts[1].name);
      assert.deepEqual(
        hostRows().map((n) => n.label),
        [ctx.hosts[1].name],
      );
      await vscode.commands.executeCommand('fleet.filterHosts', 'group:web state:up');
      assert.equal(hostRows().length, ctx.hosts.length);
      await vscode.commands.executeCommand('fleet.filterHosts', 'state:down');
      assert.deepEqual(
        api.provider.getChildren().map((n) => n.contextValue),
        ['filter.empty'],
      );
      await vscode.commands.executeCommand('fleet.clearFilter');
      assert.equal(hostRows().length, ctx.hosts.length);
    });

    it('installs the agent on a multi-selection of hosts, and deploys a zip through it', async () => {
      const [node, second] = hostRows();
      // a context-menu command on a multi-selection gets the row clicked and every selected row
      const installed = (await vscode.commands.executeCommand('fleet.installAgent', node, [node, second])) as string[];
      assert.deepEqual(installed, [node.label, second.label]);
      const after = hostRow(node.label);
      assert.equal(after.contextValue, 'host.up.agent', 'the agent runs the bundled build: nothing to update');
      // Deploy Zip's host picker marks each host by its agent
      const mark = (n: string) => agentMark(api.provider.model.states.get(n)!);
      assert.equal(mark(node.label).ready, true);
      assert.match(mark(node.label).description, /^\$\(vm-running\) agent \d+\.\d+\.\d+/);
      assert.deepEqual(mark(ctx.hosts[2].name), {
        description: '$(circle-slash) no agent: Install Agent first',
        ready: false,
      });
      const agentRow = after.children!.find((c) => c.label === 'Agent')!;
      assert.match(agentRow.description ?? '', /^running \d+\.\d+\.\d+$/);
      // Update Agent on a current host goes through the same deploy and finds it up to date
      const updated = (await vscode.commands.executeCommand('fleet.updateAgent', after)) as string[];
      assert.deepEqual(updated, [node.label]);
      const results = (await vscode.commands.executeCommand('fleet.deployZip', {
        zip: ctx.zip,
        hosts: [node.label],
        name: 'web',
        binary: 'web',
        args: ['--port', String(ctx.webPort), '--node', 'vscode-test'],
      })) as Array<{ status?: { state: string }; error?: string }>;
      assert.equal(results[0].error, undefined);
      assert.equal(results[0].status?.state, 'running');
      let body = '';
      for (let i = 0; i < 300 && !body; i++) {
        body = await httpText(`http://127.0.0.1:${ctx.webPort}/`).catch(() => '');
        if (!body) await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(body, /Hello web from node vscode-test \(v1\)/);
      // again, answering nothing: the pick lists offer the answers given for this zip first (Enter takes them)
      const again = vscode.commands.executeCommand('fleet.deployZip', {
        zip: ctx.zip,
        hosts: [node.label],
      }) as Thenable<Array<{ status?: { state: string; args: string[] }; error?: string }>>;
      let settled = false;
      void Promise.resolve(again).finally(() => (settled = true));
      for (let i = 0; i < 200 && !settled; i++) {
        await new Promise((r) => setTimeout(r, 150));
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      }
      const [redeployed] = await again;
      assert.equal(redeployed.error, undefined);
      assert.deepEqual(redeployed.status?.args, ['--port', String(ctx.webPort), '--node', 'vscode-test']);
      const pkgNode = hostRow(node.label)
        .children!.find((c) => c.label === 'Agent')!
        .children!.find((c) => c.label === 'web')!;
      // deployed twice: the first build is kept for a rollback
      assert.equal(pkgNode.contextValue, 'package.running.rollback');
      // its logs: a read-only document titled `web @ host`, nothing to save on close
      await vscode.commands.executeCommand('fleet.package.logs', pkgNode);
      const editor = await until('the logs document', () =>
        vscode.window.activeTextEditor?.document.uri.scheme === 'fleet-logs'
          ? vscode.window.activeTextEditor
          : undefined,
      );
      assert.equal(editor.document.uri.path, `/web @ ${node.label}.log`);
      assert.match(editor.document.getText(), /web v1 node vscode-test listening/);
      assert.equal(editor.document.isDirty, false);
      await vscode.commands.executeCommand('fleet.logs.follow');
      await vscode.commands.executeCommand('fleet.logs.unfollow');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      const stopped = (await vscode.commands.executeCommand('fleet.package.stop', pkgNode)) as { state: string };
      assert.equal(stopped.state, 'stopped');
    });

    it('the rollout panel runs service.json to ESSuccess and shows every backend done', async () => {
      const panel = await openPanel(ctx.service, (st) => Boolean(st.summary));
      const before = panel.lastPosted!.state;
      assert.equal(before.summary?.backends, 3);
      assert.equal(before.plan?.canaries.length, 1);
      assert.deepEqual(before.can, { start: true, pause: false, resume: false, abort: false });
      await api.rollouts.start(ctx.service);
      await api.rollouts.settled(ctx.service);
      const after = panel.lastPosted!.state;
      assert.equal(after.progress?.endState, 'ESSuccess');
      assert.match(after.headline ?? '', /^Succeeded: all 3 backends serve web-v2\.zip; 3 of 3 upgraded in \d+ s$/);
      assert.deepEqual(
        Object.values(after.now ?? {}).map((n) => [n.text, n.tone]),
        [
          ['web-v2.zip', 'new'],
          ['web-v2.zip', 'new'],
          ['web-v2.zip', 'new'],
        ],
      );
      // nothing to resume after a clean success, and the button says why
      assert.equal(after.can.resume, false);
      assert.match(after.hints?.resume.title ?? '', /every backend was upgraded/);
      assert.ok(after.progress!.rows.every((r) => r.phase === 'done' && r.lb === 'in'));
      assert.ok(
        after.progress!.rows.every((r) => r.from?.sha256 && r.from.sha256 !== after.progress!.sha256),
        'from → to',
      );
      assert.match(await httpText(`${ctx.proxy}/`), /\(v2\)/);
    });

    it('a broken package ends in ESCanaryFailure with the error on the canary row', async () => {
      const broken = ctx.service.replace(/service\.json$/, 'broken.json');
      const svc = JSON.parse(readFileSync(ctx.service, 'utf8'));
      writeFileSync(
        broken,
        JSON.stringify({
          ...svc,
          Src: 'dist/web-v2-broken.zip',
          Health: { ...svc.Health, TimeoutSecs: 2 },
          Retries: 0,
          RollbackOnFailure: true,
        }),
      );
      const panel = await openPanel(broken, (st) => Boolean(st.summary));
      await api.rollouts.start(broken);
      await api.rollouts.settled(broken);
      const st = panel.lastPosted!.state;
      assert.equal(st.progress?.endState, 'ESCanaryFailure');
      const canary = st.progress!.rows.find((r) => r.canary)!;
      assert.equal(canary.phase, 'failed');
      assert.match(canary.error ?? '', /did not become healthy within 2s: GET \/healthz answered HTTP 500/);
      assert.ok(
        st.progress!.rows.filter((r) => !r.canary).every((r) => r.phase === 'pending'),
        'the others were not touched',
      );
      // the outcome says what serves now: the canary was rolled back to what it ran (web-v2.zip, from the test before)
      assert.match(
        st.headline ?? '',
        new RegExp(`^Rolled back: the canary ${canary.addr} serves web-v2\\.zip again; 0 of 3 upgraded`),
      );
      assert.deepEqual(st.now?.[canary.addr], {
        text: 'web-v2.zip again',
        tone: 'old',
        note: st.now?.[canary.addr].note,
        before: 'web-v2.zip',
      });
      assert.match(st.now?.[canary.addr].note ?? '', /^rolled back to /);
      assert.equal(st.outcome?.tone, 'bad');
      // a health check that failed may have been the host's fault: Resume retries the canary, and says so
      assert.equal(st.can.resume, true);
      assert.equal(st.hints?.resume.label, 'Retry Canary');
      assert.match(
        st.hints?.resume.title ?? '',
        new RegExp(`^Try ${canary.addr.replace(/\\./g, '\\\\.')} again from findApp with the same package`),
      );
    });

    it('lists every problem of an invalid service.json, and follows the file when it is fixed', async () => {
      const bad = ctx.service.replace(/service\.json$/, 'invalid.json');
      writeFileSync(bad, JSON.stringify({ Concurrency: 0 }));
      const panel = await openPanel(bad, (s) => Boolean(s.invalid));
      const st = panel.lastPosted!.state;
      assert.match(st.invalid!.message, /invalid\.json: Concurrency: expected at least 1/);
      assert.equal(st.invalid!.field, 'Concurrency');
      assert.ok(st.invalid!.issues.length > 3, JSON.stringify(st.invalid!.issues));
      assert.ok(st.invalid!.issues.some((i) => i.field === 'Src'));
      assert.equal(st.can.start, false);
      // fixed on disk: the panel reads it again without being reopened
      writeFileSync(bad, readFileSync(ctx.service, 'utf8'));
      await until(
        'the panel to follow its fixed file',
        () => !panel.lastPosted!.state.invalid && panel.lastPosted!.state.summary,
      );
      // another service.json opens in the column the rollout panels already use
      const other = await openPanel(ctx.service, (s) => Boolean(s.summary));
      assert.equal(other.panel.viewColumn, panel.panel.viewColumn);
    });

    it("the Problems view lists Fleet's own checks of service.json: a missing Src, a misspelt field and its quick fix", async () => {
      const dir = join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'problems');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'service.json');
      const svc = JSON.parse(readFileSync(ctx.service, 'utf8'));
      delete svc.CanaryNum;
      writeFileSync(file, JSON.stringify({ ...svc, Canarys: 1, Src: 'dist/missing.zip' }, null, 2));
      const doc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(doc);
      const fleetDiags = () => vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === 'Fleet');
      const src = await until('the missing Src in Problems', () =>
        fleetDiags().find((d) => /dist\/missing\.zip does not exist/.test(d.message)),
      );
      assert.equal(src.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(doc.getText(src.range), '"dist/missing.zip"', 'the range is the value of Src');
      assert.doesNotMatch(src.message, /npm run/, 'no developer hint');
      const typo = fleetDiags().find(
        (d) => d.message === 'Canarys is not a field of service.json: did you mean CanaryNum?',
      );
      assert.ok(typo, JSON.stringify(fleetDiags().map((d) => d.message)));
      assert.equal(doc.getText(typo.range), '"Canarys"');
      const actions = (await vscode.commands.executeCommand(
        'vscode.executeCodeActionProvider',
        doc.uri,
        typo.range,
      )) as vscode.CodeAction[];
      const rename = actions.find((a) => a.title === 'Rename Canarys to CanaryNum');
      assert.ok(rename?.edit, JSON.stringify(actions.map((a) => a.title)));
      await vscode.workspace.applyEdit(rename.edit);
      assert.match(doc.getText(), /"CanaryNum": 1/);
      // a missing Src offers the packages that are there
      const useZip = (
        (await vscode.commands.executeCommand(
          'vscode.executeCodeActionProvider',
          doc.uri,
          src.range,
        )) as vscode.CodeAction[]
      )
        .map((a) => a.title)
        .filter((t) => t.startsWith('Use '));
      assert.deepEqual(useZip, [], 'no package beside this file: no fix to offer');
      await until('the typo gone once fixed', () => !fleetDiags().some((d) => /Canarys/.test(d.message)));
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    });

    it('Import Hosts from ~/.ssh/config adds its hosts to fleet.json, keeping what was there', async () => {
      const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
      const before = readFileSync(join(ws, 'fleet.json'), 'utf8');
      writeFileSync(join(ws, 'fleet.json'), `// kept: a comment a person wrote\n${before}`);
      const r = (await vscode.commands.executeCommand('fleet.importSshConfig', ['imported-one'])) as {
        added: string[];
      };
      assert.deepEqual(r.added, ['imported-one']);
      const text = readFileSync(join(ws, 'fleet.json'), 'utf8');
      assert.match(text, /^\/\/ kept: a comment a person wrote/);
      assert.match(text, /"host": "imported-one"/);
      await until('the imported host, probed at once', () =>
        hostRow('imported-one')?.contextValue.startsWith('host.up'),
      );
    });

    it('Scan Network asks about new host keys within the scan and says what it added', async () => {
      const before = prompts.length;
      const records = (await vscode.commands.executeCommand('fleet.scanNetwork', {
        cidr: `${ctx.unlisted.address}/32`,
        user: ctx.unlisted.user,
        port: ctx.unlisted.port,
      })) as Array<{ Host: string; LoginSSH: boolean }>;
      assert.equal(prompts.length, before + 1, 'asked once, during the scan');
      assert.deepEqual(
        records.map((r) => [r.Host, r.LoginSSH]),
        [[ctx.unlisted.address, true]],
      );
      const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
      assert.match(
        readFileSync(join(ws, 'fleet.json'), 'utf8'),
        new RegExp(`"host": "${ctx.unlisted.address.replace(/\./g, '\\.')}"`),
      );
      // scanning again changes nothing, and says so (no second write, no second question)
      await vscode.commands.executeCommand('fleet.scanNetwork', {
        cidr: `${ctx.unlisted.address}/32`,
        user: ctx.unlisted.user,
        port: ctx.unlisted.port,
      });
      assert.equal(prompts.length, before + 1);
    });

    it('a host that is down: Retry, Copy Address, Reveal in fleet.json, the status bar shows it, Remove (after a question)', async () => {
      const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
      const inv = join(ws, 'fleet.json');
      const before = readFileSync(inv, 'utf8');
      // a host nothing answers on (a port nobody listens on)
      writeFileSync(
        inv,
        before.replace(
          '"hosts": [',
          `"hosts": [\n    { "name": "downhost", "host": "127.0.0.1", "port": ${ctx.webPort} },`,
        ),
      );
      await until('downhost down', () => hostRow('downhost')?.contextValue === 'host.down', 60_000);
      const row = hostRow('downhost');
      assert.deepEqual(await vscode.commands.executeCommand('fleet.retryHost', row), ['downhost']);
      assert.equal(hostRow('downhost').contextValue, 'host.down');
      assert.equal(
        await vscode.commands.executeCommand('fleet.copyAddress', row),
        `${ctx.unlisted.user}@127.0.0.1:${ctx.webPort}`,
      );
      assert.equal(await vscode.env.clipboard.readText(), `${ctx.unlisted.user}@127.0.0.1:${ctx.webPort}`);
      assert.equal(await vscode.commands.executeCommand('fleet.revealHost', row), true);
      const ed = vscode.window.activeTextEditor!;
      assert.equal(ed.document.uri.fsPath, inv);
      assert.match(ed.document.getText(ed.selection), /^\{ "name": "downhost"/);
      // the status bar's click: the view filtered to the hosts that are down
      await vscode.commands.executeCommand('fleet.showDownHosts');
      assert.equal(api.provider.filter?.text, 'state:down');
      assert.deepEqual(
        hostRows().map((n) => n.label),
        ['downhost'],
      );
      await vscode.commands.executeCommand('fleet.clearFilter');
      // Remove asks first; no: nothing changes; yes: its entry leaves fleet.json, the rest stays as written
      const asked: string[] = [];
      api.setConfirm(async (m) => (asked.push(m), false));
      assert.deepEqual(await vscode.commands.executeCommand('fleet.removeHost', row), []);
      assert.match(readFileSync(inv, 'utf8'), /downhost/);
      api.setConfirm(async (m) => (asked.push(m), true));
      assert.deepEqual(await vscode.commands.executeCommand('fleet.removeHost', row), ['downhost']);
      api.setConfirm(undefined);
      assert.deepEqual(asked, ['Fleet: remove downhost from fleet.json?', 'Fleet: remove downhost from fleet.json?']);
      assert.equal(readFileSync(inv, 'utf8'), before);
      await until('downhost gone from the view', () => !hostRow('downhost'));
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    it('a host whose key changed: both fingerprints shown, the pinned key replaced only once confirmed', async () => {
      const known = vscode.workspace.getConfiguration('fleet').get<string>('knownHostsFile')!;
      const name = 'web2';
      const addr = ctx.hosts[1].address;
      const original = readFileSync(known, 'utf8');
      const lines = original.split('\n');
      const i = lines.findIndex((l) => l.startsWith(`[${addr.split('@').pop()!.split(':')[0]}]`));
      assert.ok(i >= 0, `no known_hosts line for ${addr}:\n${original}`);
      const [pattern, type, realKey] = lines[i].split(' ');
      assert.equal(type, 'ssh-ed25519', 'the test fleet uses ed25519 host keys');
      // another ed25519 key pinned instead of the host's: to Fleet the host's key "changed"
      const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string };
      const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
      const fake = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(Buffer.from(jwk.x, 'base64url'))]).toString(
        'base64',
      );
      lines[i] = `${pattern} ${type} ${fake}`;
      writeFileSync(known, lines.join('\n'));
      // a host key is checked when a connection is made: the window's kept connections go, as after a reload
      api.session.reset();
      api.provider.reloadHosts(false);
      await vscode.commands.executeCommand('fleet.retryHost', hostRow(name));
      assert.equal(hostRow(name).contextValue, 'host.down.keyChanged');
      const keyRow = hostRow(name).children!.find((c) => c.contextValue === 'error.keyChanged');
      assert.equal(keyRow?.command, 'fleet.replaceHostKey', 'the row opens the flow when clicked');
      const fp = (b64: string) =>
        `SHA256:${createHash('sha256').update(Buffer.from(b64, 'base64')).digest('base64').replace(/=+$/, '')}`;
      const shown: string[] = [];
      api.setConfirm(async (m, detail) => (shown.push(`${m}\n${detail}`), false));
      assert.equal(await vscode.commands.executeCommand('fleet.replaceHostKey', hostRow(name)), 'cancelled');
      assert.match(shown[0], /^Fleet: the host key of web2 changed\./);
      assert.ok(shown[0].includes(fp(fake)) && shown[0].includes(fp(realKey)), shown[0]);
      assert.ok(readFileSync(known, 'utf8').includes(fake), 'cancelled: nothing replaced');
      api.setConfirm(async () => true);
      assert.equal(await vscode.commands.executeCommand('fleet.replaceHostKey', hostRow(name)), 'replaced');
      api.setConfirm(undefined);
      const after = readFileSync(known, 'utf8');
      assert.ok(!after.includes(fake), 'the old pin is gone');
      assert.ok(after.includes(`${pattern} ${type} ${realKey}`), 'the key the host shows is pinned');
      assert.equal(after.split('\n').filter((l) => l.startsWith(pattern)).length, 1);
      assert.match(hostRow(name).contextValue, /^host\.up/);
    });

    it('Try the Demo Fleet: a local LB and 8 agents, its rollout in the panel, everything stopped after', async () => {
      const temps = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('fleet-demo')));
      const tempsBefore = temps();
      const file = (await vscode.commands.executeCommand('fleet.tryDemo')) as string;
      const demoDir = dirname(file);
      const demoTabs = () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .filter(
            (t) =>
              (t.input instanceof vscode.TabInputText && t.input.uri.fsPath.startsWith(demoDir)) ||
              (t.input instanceof vscode.TabInputWebview && t.label.includes(demoDir)),
          );
      await until('the demo service.json and its rollout panel open', () => demoTabs().length === 2);
      const demoRoot = await until('the demo node', () =>
        api.provider.getChildren().find((n) => n.contextValue === 'demo'),
      );
      assert.equal(demoRoot.children!.length, 8);
      await until(
        '8 backends serving',
        () => api.provider.getChildren().find((n) => n.contextValue === 'demo')?.description === '8/8 serving',
      );
      await api.rollouts.start(file);
      await api.rollouts.settled(file);
      const st = api.rollouts.state(file);
      assert.equal(st.progress?.endState, 'ESSuccess', st.progress?.log.slice(-5).join('\n'));
      assert.ok(
        st.progress!.rows.some((r) => r.analysis?.verdict === 'pass'),
        'the canary was judged by its traffic',
      );
      await until('the demo rows on v2', () =>
        api.provider
          .getChildren()
          .find((n) => n.contextValue === 'demo')
          ?.children?.every((c) => /^web v2/.test(c.description ?? '')),
      );
      // the status bar's Stop asks first: no, and it runs on
      api.setConfirm(async () => false);
      assert.equal(await vscode.commands.executeCommand('fleet.stopDemo', { ask: true }), false);
      assert.ok(api.provider.getChildren().find((n) => n.contextValue === 'demo'));
      api.setConfirm(undefined);
      await vscode.commands.executeCommand('fleet.stopDemo');
      assert.equal(
        api.provider.getChildren().find((n) => n.contextValue === 'demo'),
        undefined,
      );
      await assert.rejects(httpText('http://127.0.0.1:9090/'), /ECONNREFUSED/);
      // what it opened is closed, what it made is gone: no panel on a deleted file, no temp folders left
      await until('the demo panel and service.json closed', () => demoTabs().length === 0, 10_000).catch(() =>
        assert.deepEqual(
          demoTabs().map((t) => t.label),
          [],
        ),
      );
      assert.equal(existsSync(demoDir), false);
      assert.deepEqual(
        [...temps()].filter((n) => !tempsBefore.has(n)),
        [],
      );
    });
  });
}
