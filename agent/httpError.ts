// An error with the HTTP status the agent answers with; its message goes to the client as {error}.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
