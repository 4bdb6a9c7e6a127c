// The smallest service.json of the seed's form, its Src a binary `app` beside it (Fleet wraps it
// into a zip in .fleet/packages/): for tests about what Fleet does with a service folder, not a rollout.
export function minimalService(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Concurrency: 1,
    CanaryNum: 0,
    MaxFailures: 0,
    Src: 'app',
    LB: '127.0.0.1:1',
    Pattern: '/',
    Backends: ['127.0.0.1:2'],
    ...extra,
  };
}
