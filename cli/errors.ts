/**
 * The CLI's errors and the one place they become exit codes (STYLE §5). The codes are part of
 * the CLI's interface, documented in cli/README.md; a test checks that every one is.
 */
import { ApiException } from '@kubernetes/client-node';
import { SlicenetError } from '../lib/errors.ts';

/** Exit codes: stable, so scripts can tell "you typed it wrong" from "it is not there". */
export const EXIT = {
  ok: 0,
  /** Anything that went wrong at run time: API server unreachable or refusing, RBAC, conflicts. */
  failure: 1,
  /** The command line is wrong: unknown command or flag, missing argument, bad value. */
  usage: 2,
  /** The object named does not exist. */
  notFound: 3,
} as const;

export const EXIT_CODES: Record<string, number> = {
  USAGE: EXIT.usage,
  NOT_FOUND: EXIT.notFound,
  API_REFUSED: EXIT.failure,
  API_UNREACHABLE: EXIT.failure,
  ALREADY_EXISTS: EXIT.failure,
  KUBECONFIG_UNREADABLE: EXIT.failure,
  CONFLICT: EXIT.failure,
};

export function exitCodeOf(err: unknown): number {
  return err instanceof SlicenetError ? (EXIT_CODES[err.code] ?? EXIT.failure) : EXIT.failure;
}

/** The command line is wrong; the message names the flag or argument and how to fix it. */
export class UsageError extends SlicenetError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export class NotFoundError extends SlicenetError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class AlreadyExistsError extends SlicenetError {
  constructor(message: string) {
    super('ALREADY_EXISTS', message);
  }
}

export class ConflictError extends SlicenetError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

export class ApiRefusedError extends SlicenetError {
  constructor(message: string, cause?: unknown) {
    super('API_REFUSED', message, { cause });
  }
}

export class UnreachableError extends SlicenetError {
  constructor(message: string, cause?: unknown) {
    super('API_UNREACHABLE', message, { cause });
  }
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

function statusBody(err: ApiException<unknown>): StatusBody {
  const raw = err.body;
  if (typeof raw !== 'string') return raw ?? {};
  try {
    return JSON.parse(raw) as StatusBody;
  } catch {
    return { message: raw };
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
]);

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * Turns a failed API call into an error a user can act on. `what` names the object
 * ("SliceConfig demo in slicenet-system"); `server` is the API server's URL. A 422 carries
 * the CRD's or the webhook's message per field, which is shown as is: it names the field.
 */
export function explainApiError(err: unknown, what: string, server: string): Error {
  if (err instanceof SlicenetError) return err;
  const net = networkCode(err);
  if (net) {
    return new UnreachableError(
      `cannot reach the API server at ${server} (${net}): check --kubeconfig and --context, and that the cluster is up`,
      err,
    );
  }
  if (!(err instanceof ApiException)) return err instanceof Error ? err : new Error(String(err));
  const body = statusBody(err);
  const causes = (body.details?.causes ?? []).map(
    (c) => `  ${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`,
  );
  switch (err.code) {
    case 401:
      return new ApiRefusedError(
        `the API server at ${server} did not accept the credentials: log in again or pick another --context`,
        err,
      );
    case 403:
      return new ApiRefusedError(
        `forbidden: ${body.message ?? what}; ask for RBAC rights or use another --context`,
        err,
      );
    case 404:
      if (body.message?.includes('could not find the requested resource'))
        return new ApiRefusedError(
          `the API server at ${server} does not serve slicenet.dev/v1alpha1: install the CRDs (kubectl apply -f crds/)`,
          err,
        );
      return new NotFoundError(`${what} not found${body.message ? ` (${body.message})` : ''}`);
    case 409:
      return body.reason === 'AlreadyExists'
        ? new AlreadyExistsError(`${what} already exists: delete it first, or pick another name`)
        : new ConflictError(
            `${what} changed meanwhile: run the command again (${body.message ?? 'conflict'})`,
          );
    case 422:
      return new ApiRefusedError(
        [
          `the API server refused ${what}:`,
          ...(causes.length ? causes : [`  ${body.message ?? 'invalid'}`]),
        ].join('\n'),
        err,
      );
    default:
      return new ApiRefusedError(
        `${what}: the API server answered ${err.code}: ${body.message ?? 'no message'}`,
        err,
      );
  }
}
