// The name a person most likely meant, for "did you mean …?": the same letters in another case, a
// typo or two (edit distance), or the one known name that shares a long enough stem ("Canarys" →
// CanaryNum). Ambiguous guesses are no guess.

export function nearestName(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same) return same;
  const scored = known
    .map((k) => ({ k, d: editDistance(lower, k.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(1, Math.floor(typed.length / 4)))
    .sort((a, b) => a.d - b.d);
  if (scored.length && (scored.length === 1 || scored[0].d < scored[1].d)) return scored[0].k;
  const stem = known.filter((k) => commonPrefix(lower, k.toLowerCase()) >= Math.min(5, Math.max(4, k.length - 3)));
  return stem.length === 1 ? stem[0] : undefined;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Levenshtein distance: insertions, deletions and substitutions */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
