// What this window remembers of its rollout panels, in the workspace's Memento. VS Code restores a
// webview panel from the workbench layout, which the web workbench saves only every few seconds
// (never at a reload), so a restored panel can come back without its webview state, or not at all.
// The Memento is written through at once, so the extension can still tell which service.json a
// restored panel showed (by its title), and which rollouts this window was running when it went away.
import type * as vscode from 'vscode';

const panelsKey = 'fleet.rollout.panels';
const runningKey = 'fleet.rollout.running';

export class PanelMemory {
  constructor(private readonly state: vscode.Memento) {}

  /** the service.json of an open panel, by the panel's title */
  fileForTitle(title: string): string | undefined {
    return this.state.get<Record<string, string>>(panelsKey, {})[title];
  }

  async panelOpened(title: string, file: string): Promise<void> {
    const panels = { ...this.state.get<Record<string, string>>(panelsKey, {}), [title]: file };
    await this.state.update(panelsKey, panels);
  }

  /** service files whose rollout this window started and that have not reached an end state */
  running(): string[] {
    return this.state.get<string[]>(runningKey, []);
  }

  async setRunning(file: string, running: boolean): Promise<void> {
    const rest = this.running().filter((f) => f !== file);
    await this.state.update(runningKey, running ? [...rest, file] : rest);
  }
}
