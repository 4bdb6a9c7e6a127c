// What Fleet learns about one SSH connection as it uses it, kept on one object instead of a table
// per module: its login shell (told by its first command: remoteShell.ts), its kept shell session
// (shellSession.ts), and whether its server refuses to forward a unix socket (the agent's
// socketStream.ts goes through the host's runtime instead). Made on first use and gone with the
// ssh2 Client it belongs to.
import type { Client } from 'ssh2';
import type { LoginShell } from './remoteShell';

export interface KeptShell<S> {
  session?: S;
  opening?: Promise<S | null>;
  /** a shell could not be had on this connection: exec from now on */
  failed?: boolean;
}

export class Connection {
  /** the login shell, once a command told it (until then: posix, and unknown) */
  loginShell?: LoginShell;
  /** the kept shell session of shellSession.ts */
  kept: KeptShell<unknown> = {};
  /** the server refused a stream-local forward here: the agent's socket goes through a bridge */
  noStreamLocal = false;

  constructor(readonly client: Client) {}
}

const connections = new WeakMap<Client, Connection>();

/** the facts of the connection `client` is (the one lookup of them) */
export function connectionOf(client: Client): Connection {
  let c = connections.get(client);
  if (!c) connections.set(client, (c = new Connection(client)));
  return c;
}
