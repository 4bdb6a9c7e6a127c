// An error with the HTTP status the agent answers with; its message goes to the client as {error},
// beside `extra` (a refused change names the lease that refused it: {error, lease}).
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
