/**
 * Errors a reconcile can throw to steer the work queue. Any other error means "try again with
 * backoff"; a TerminalError means "retrying will not help until the object changes", so the
 * key is dropped from the queue and only a new event brings it back.
 */
import { SlicenetError } from '../errors.ts';

export class TerminalError extends SlicenetError {
  /** `code` lets a caller say which terminal condition it was (e.g. for a status reason). */
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? 'RECONCILE_TERMINAL', message, { cause: options.cause });
  }
}
