// Budgets for property tests (fast-check): a short, seeded run in `npm test`; `npm run fuzz` sets
// FLEET_FUZZ=1 for long runs from fresh seeds (fast-check prints the seed of a failure: it becomes a
// regular test with that seed).
export const fuzzing = process.env.FLEET_FUZZ === '1';

/** how many cases to try: `short` in npm test, `long` (default 40× short) under npm run fuzz */
export function fuzzRuns(short: number, long = short * 40): number {
  return fuzzing ? Number(process.env.FLEET_FUZZ_RUNS) || long : short;
}

/** a fixed seed in npm test; a fresh one (or FLEET_FUZZ_SEED) under npm run fuzz */
export function fuzzSeed(fixed: number): number {
  if (process.env.FLEET_FUZZ_SEED) return Number(process.env.FLEET_FUZZ_SEED);
  return fuzzing ? Date.now() % 2 ** 31 : fixed;
}
