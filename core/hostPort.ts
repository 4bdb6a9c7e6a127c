// HOST:PORT text, parsed and written in one place: `127.0.0.1:9091`, `[::1]:9091`, `lb.example:9091`.
// An IPv6 address is written in brackets wherever a port follows it (URLs, Host headers, targets).

/** the shape of HOST:PORT (schemas use it; parseHostPort also checks the port's range) */
export const hostPortPattern = /^(\[[0-9A-Fa-f:.]+\]|[^[\]:\s]+):(\d{1,5})$/;

/** `host:port` or `[v6]:port` with a port from 1 to 65535; the host comes back without brackets */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const m = hostPortPattern.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: unbracket(m[1]), port };
}

/** an IPv6 address in brackets, anything else as it is */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

export function formatHostPort(host: string, port: number): string {
  return `${bracketHost(host)}:${port}`;
}
