// Small helpers for the benchmarks: timing, medians, percentiles, markdown tables, tool lookup.
import { requireProgram } from '../core/local/program';

export function timeIt(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function requireTool(name: string, debianPackage: string): string {
  try {
    return requireProgram(name);
  } catch {
    throw new Error(`benchmark needs ${name}: apt-get install -y ${debianPackage}`);
  }
}
