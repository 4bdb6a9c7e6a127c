// Open SSH Terminal: a Pseudoterminal over an ssh2 shell channel with a pty, on the pooled
// connection (so the host key was checked like everywhere else).
import type { ClientChannel } from 'ssh2';
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import type { TreeNode } from '../../core/fleetView/treeModel';
import type { HostsProvider } from '../hostsProvider';
import type { Session } from '../session';

export function openSshTerminal(
  session: Session,
  provider: HostsProvider,
  node: TreeNode,
): vscode.Terminal | undefined {
  const h = node.host ? provider.model.host(node.host) : undefined;
  if (!h) return undefined;
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | void>();
  let channel: ClientChannel | undefined;
  let size = { cols: 80, rows: 24 };
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    onDidClose: close.event,
    open(dims) {
      if (dims) size = { cols: dims.columns, rows: dims.rows };
      write.fire(`Connecting to ${h.endpoint.user}@${h.endpoint.host}:${h.endpoint.port}…\r\n`);
      session.pool
        .withClient(
          h.endpoint,
          (c) =>
            new Promise<void>((resolve, reject) => {
              c.shell({ term: 'xterm-256color', cols: size.cols, rows: size.rows }, (err, ch) => {
                if (err) return reject(err);
                channel = ch;
                ch.on('data', (d: Buffer) => write.fire(d.toString('utf8')));
                ch.stderr.on('data', (d: Buffer) => write.fire(d.toString('utf8')));
                ch.on('close', () => resolve());
              });
            }),
        )
        .then(
          () => close.fire(0),
          (e) => {
            write.fire(`\r\nFleet: ${errorMessage(e)}\r\n`);
            close.fire(1);
          },
        );
    },
    close() {
      channel?.close();
    },
    handleInput(data) {
      channel?.write(data);
    },
    setDimensions(d) {
      size = { cols: d.columns, rows: d.rows };
      channel?.setWindow(d.rows, d.columns, 0, 0);
    },
  };
  const t = vscode.window.createTerminal({ name: `ssh ${h.name}`, pty });
  t.show();
  return t;
}
