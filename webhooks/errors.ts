/**
 * The webhook's error codes and the one place they map to HTTP status (STYLE §5). A code
 * missing here answers 500, which the registry test forbids for any code the webhook throws.
 */
import { SlicenetError } from '../lib/errors.ts';

export const HTTP_STATUS: Record<string, number> = {
  /** The body is not an AdmissionReview the webhook can answer: the caller's fault. */
  BAD_ADMISSION_REVIEW: 400,
  /** Reading the cluster to decide failed (API server down, RBAC): try again. */
  LOOKUP_FAILED: 500,
};

export function httpStatusOf(err: unknown): number {
  return err instanceof SlicenetError ? (HTTP_STATUS[err.code] ?? 500) : 500;
}

export class AdmissionReviewError extends SlicenetError {
  constructor(message: string) {
    super('BAD_ADMISSION_REVIEW', message);
  }
}

export class LookupError extends SlicenetError {
  constructor(what: string, cause: unknown) {
    super('LOOKUP_FAILED', `cannot read ${what}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** A bad setting: the message names it as a flag and as a variable. */
export class ConfigError extends SlicenetError {
  constructor(setting: string, message: string) {
    super('CONFIG_INVALID', `${setting}: ${message}`);
  }
}

/** Operator-supplied TLS files that cannot be used. */
export class TlsError extends SlicenetError {
  constructor(message: string, cause?: unknown) {
    super('TLS_UNUSABLE', message, { cause });
  }
}
