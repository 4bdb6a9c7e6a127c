// Plain-text tables for the CLI: each column as wide as its widest cell, two spaces apart, no
// trailing blanks.
export function formatColumns(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) =>
    r
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}
