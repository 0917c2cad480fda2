/**
 * The base of every Slicenet error: a stable `code` that boundaries (CLI exit codes, CNI
 * error codes, HTTP status, gRPC status) map from, and a message that says what was wrong
 * and what to do.
 */
export class SlicenetError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
