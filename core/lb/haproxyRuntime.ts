// A small client of HAProxy's runtime API on its admin socket: one command per connection,
// HAProxy answers and closes. Parsers for `show servers state` and `show stat` (CSV).
import { connect } from 'node:net';
import { LbError } from './types';

export class HaproxyRuntime {
  constructor(readonly socketPath: string) {}

  send(command: string, timeoutMs = 5000): Promise<string> {
    if (/[\n\r;]/.test(command))
      throw new LbError(
        `haproxy ${this.socketPath}`,
        `refusing a runtime command with a newline or ';': ${JSON.stringify(command)}`,
      );
    return new Promise((resolve, reject) => {
      const s = connect(this.socketPath);
      let out = '';
      s.setEncoding('utf8');
      s.setTimeout(timeoutMs, () => s.destroy(new Error(`no answer to "${command}" within ${timeoutMs} ms`)));
      s.on('connect', () => s.write(command + '\n'));
      s.on('data', (d: string) => (out += d));
      s.on('end', () => resolve(out));
      s.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          new LbError(
            `haproxy ${this.socketPath}`,
            `runtime API: ${e.code ?? e.message}; is HAProxy running with "stats socket ${this.socketPath} level admin"?`,
          ),
        ),
      );
    });
  }

  /** a `set …` command: success is an empty reply, any text is HAProxy's error */
  async set(command: string): Promise<void> {
    const reply = (await this.send(command)).trim();
    if (reply !== '') throw new LbError(`haproxy ${this.socketPath}`, `"${command}" failed: ${reply}`);
  }

  async serversState(backend: string): Promise<ServerState[]> {
    const text = await this.send(`show servers state ${backend}`);
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const header = lines.find((l) => l.startsWith('# '));
    if (!header)
      throw new LbError(
        `haproxy ${this.socketPath}`,
        `unexpected answer to "show servers state ${backend}": ${text.trim().slice(0, 200)}`,
      );
    const cols = header.slice(2).split(' ');
    return lines
      .filter((l) => !l.startsWith('#') && /^\d+ /.test(l))
      .map((l) => {
        const f = l.split(' ');
        const get = (k: string) => f[cols.indexOf(k)];
        return {
          backend: get('be_name'),
          server: get('srv_name'),
          addr: `${get('srv_addr')}:${get('srv_port')}`,
          opState: Number(get('srv_op_state')),
          adminState: Number(get('srv_admin_state')),
        };
      });
  }

  /** `show stat` rows as objects keyed by the CSV header */
  async stat(): Promise<Array<Record<string, string>>> {
    const text = await this.send('show stat');
    const [head, ...rows] = text.split('\n').filter((l) => l.trim() !== '');
    const cols = head.replace(/^# /, '').split(',');
    return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])));
  }
}

export interface ServerState {
  backend: string;
  server: string;
  addr: string;
  /** 0 stopped (down), 1 starting, 2 running, 3 stopping */
  opState: number;
  /**
   * bits: 0x01 forced maint, 0x02 inherited maint, 0x04 config maint, 0x08 forced drain, 0x10 inherited drain, 0x20
   * resolver maint
   */
  adminState: number;
}

export const adminMaint = 0x01 | 0x02 | 0x04 | 0x20;
export const adminDrain = 0x08 | 0x10;
