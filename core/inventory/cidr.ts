// IPv4 CIDR parsing and expansion for `fleet scan`. Addresses come out in numeric order.
import { advice } from '../advice';
import { UsageError } from '../errors';

export interface Cidr {
  text: string;
  base: number; // network address as an unsigned 32-bit number
  prefix: number;
  size: number;
}

const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(text: string): number | null {
  const m = ipv4.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p, i) => p > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith('0')))) return null;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** parses `a.b.c.d/n` (or a bare address, a /32); a malformed one is a UsageError naming it */
export function parseCidr(text: string): Cidr {
  const [addr, bits, extra] = text.split('/');
  const base = parseIPv4(addr);
  const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (base === null || extra !== undefined || !(prefix >= 0 && prefix <= 32)) {
    throw new UsageError(`invalid CIDR ${JSON.stringify(text)}: expected an IPv4 network like 10.0.0.0/24`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { text, base: (base & mask) >>> 0, prefix, size: 2 ** (32 - prefix) };
}

/** every address of the network, network and broadcast addresses included (as the seed's scan did) */
export function* addresses(c: Cidr): Generator<string> {
  for (let i = 0; i < c.size; i++) yield formatIPv4((c.base + i) >>> 0);
}

/** the largest network `fleet scan` takes without --force */
export const maxScanPrefix = 16;

export function checkScanSize(cidrs: readonly Cidr[], force: boolean): void {
  const big = cidrs.find((c) => c.prefix < maxScanPrefix);
  if (big && !force) {
    throw new UsageError(
      `${big.text} has ${big.size.toLocaleString('en-US')} addresses; ${advice().scanLimit(maxScanPrefix)}`,
    );
  }
}
