// Deploy Zip…'s questions as pick lists: which hosts (each marked by its agent: running, none,
// down), the package name (what the hosts already run under that name first), the program to start
// (the zip's executable entries, read from its central directory), and its arguments. The answers
// given for a zip are remembered (per zip path, in the workspace) and offered first next time.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { versionOfId } from '../../core/agentInstall/agentVersion';
import { liveness, type HostState } from '../../core/hosts/hostState';
import { packageEntries, programsOf } from '../../core/rollout/packageEntries';
import type { HostsProvider } from '../hostsProvider';

export interface DeployAnswers {
  name: string;
  binary: string;
  args: string[];
}

const key = 'fleet.deployZip.answers';
/** zips whose answers are remembered */
const maxRemembered = 50;

/** how a host looks to a deploy: can it take a package now? */
export function agentMark(h: HostState): { description: string; ready: boolean } {
  const live = liveness(h);
  if (live === 'down') return { description: '$(error) down', ready: false };
  if (live === 'unknown' || !h.probe?.ok) return { description: '$(circle-outline) not checked yet', ready: false };
  const p = h.probe.probe;
  if (!p.agentSocket) return { description: '$(circle-slash) no agent: Install Agent first', ready: false };
  const pkgs = Array.isArray(h.packages) ? h.packages.map((s) => s.name) : [];
  return {
    description: `$(vm-running) agent ${p.agentId ? versionOfId(p.agentId) : ''}${pkgs.length ? ` · runs ${pkgs.join(', ')}` : ''}`,
    ready: true,
  };
}

export function remembered(memento: vscode.Memento | undefined, zip: string): DeployAnswers | undefined {
  return memento?.get<Record<string, DeployAnswers>>(key, {})[zip];
}

export async function remember(memento: vscode.Memento | undefined, zip: string, a: DeployAnswers): Promise<void> {
  if (!memento) return;
  const all = { ...memento.get<Record<string, DeployAnswers>>(key, {}) };
  delete all[zip];
  all[zip] = a;
  const keys = Object.keys(all);
  for (const k of keys.slice(0, Math.max(0, keys.length - maxRemembered))) delete all[k];
  await memento.update(key, all);
}

type Item = vscode.QuickPickItem & { value?: string; other?: true };

/** a pick list with "Other…" at the end, which asks in a box; undefined when cancelled */
async function pickOrType(
  items: Item[],
  title: string,
  box: vscode.InputBoxOptions,
): Promise<{ text: string; typed: boolean } | undefined> {
  const other: Item = { label: '$(edit) Other…', other: true };
  const picked = await vscode.window.showQuickPick([...items, other], {
    title,
    ignoreFocusOut: true,
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  if (!picked.other) return { text: picked.value ?? picked.label, typed: false };
  const text = await vscode.window.showInputBox({ ...box, title, ignoreFocusOut: true });
  return text === undefined ? undefined : { text, typed: true };
}

/** `a "b c" d` -> [a, b c, d] */
export function splitArgs(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

export async function askAnswers(
  provider: HostsProvider,
  zip: string,
  hosts: readonly string[],
  memento: vscode.Memento | undefined,
  given: Partial<DeployAnswers>,
): Promise<DeployAnswers | undefined> {
  const last = remembered(memento, zip);
  const fromFile = basename(zip)
    .replace(/\.zip$/i, '')
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  let name = given.name;
  if (name === undefined) {
    // the packages the chosen hosts already run: deploying under one of those names upgrades it
    const onHosts = new Map<string, string[]>();
    for (const h of hosts) {
      const pk = provider.model.states.get(h)?.packages;
      for (const s of Array.isArray(pk) ? pk : []) onHosts.set(s.name, [...(onHosts.get(s.name) ?? []), h]);
    }
    const names = [...new Set([...(last ? [last.name] : []), ...onHosts.keys(), ...(fromFile ? [fromFile] : [])])];
    name = (
      await pickOrType(
        names.map((n) => ({
          label: n,
          description: [
            n === last?.name ? 'last time' : '',
            onHosts.has(n)
              ? `upgrades it on ${onHosts.get(n)!.join(', ')}`
              : n === fromFile
                ? 'from the file name'
                : '',
          ]
            .filter(Boolean)
            .join(' · '),
        })),
        `Deploy ${basename(zip)}: the package's name on the hosts`,
        {
          prompt: 'Package name (letters, digits, . _ -)',
          value: fromFile,
          validateInput: (v) =>
            /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v)
              ? undefined
              : 'letters, digits, . _ - (at most 64), starting with a letter or digit',
        },
      )
    )?.text;
    if (!name) return undefined;
  }
  let binary = given.binary;
  if (binary === undefined) {
    const entries = await packageEntries(zip);
    const programs = programsOf(entries);
    const marked = new Set(entries.filter((e) => e.executable).map((e) => e.name));
    const order = [...new Set([...(last && programs.includes(last.binary) ? [last.binary] : []), ...programs])];
    binary = (
      await pickOrType(
        order.slice(0, 200).map((p) => ({
          label: p,
          description: [
            p === last?.binary ? 'last time' : '',
            marked.has(p) ? 'executable' : 'not marked executable in the zip',
          ]
            .filter(Boolean)
            .join(' · '),
        })),
        `Deploy ${basename(zip)}: the program to start`,
        { prompt: 'Program inside the zip to start', placeHolder: 'bin/server' },
      )
    )?.text;
    if (!binary) return undefined;
  }
  let args = given.args;
  if (args === undefined) {
    const items: Item[] = [];
    if (last?.args.length)
      items.push({ label: last.args.join(' '), value: JSON.stringify(last.args), description: 'last time' });
    items.push({ label: '(no arguments)', value: '[]' });
    const got = await pickOrType(items, `Deploy ${basename(zip)}: ${binary}'s arguments`, {
      prompt: 'Arguments (space separated; quote with "…")',
      value: last?.args.join(' ') ?? '',
    });
    if (got === undefined) return undefined;
    args = got.typed ? splitArgs(got.text) : (JSON.parse(got.text) as string[]);
  }
  return { name, binary, args };
}
