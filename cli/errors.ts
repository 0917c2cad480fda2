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
  API_UNTRUSTED: EXIT.failure,
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

/** TLS to the API server failed: its certificate is not one the kubeconfig trusts, or no TLS at all. */
export class UntrustedError extends SlicenetError {
  constructor(message: string, cause?: unknown) {
    super('API_UNTRUSTED', message, { cause });
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

/** Errors of the connection itself: nothing reached an API server that answered. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'EAI_AGAIN',
]);

/** Node's codes for a server certificate that the kubeconfig's CA does not vouch for. */
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The first system error code on the cause chain (client-node's fetch wraps the socket's). */
function systemCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** Where a call went: the server's URL, and the kubeconfig context and cluster that named it. */
export interface ApiEndpoint {
  server: string;
  context?: string;
  cluster?: string;
}

const named = (at: ApiEndpoint): string =>
  at.context ? `context '${at.context}'${at.cluster ? `, cluster '${at.cluster}'` : ''}` : 'the kubeconfig';

/**
 * The connection failed before any API answer: refused, unreachable, or TLS that the
 * kubeconfig does not trust. Undefined for anything else.
 */
function connectionError(err: unknown, at: ApiEndpoint): SlicenetError | undefined {
  const code = systemCode(err);
  if (code === undefined) return undefined;
  if (NETWORK_CODES.has(code))
    return new UnreachableError(
      `cannot reach the API server at ${at.server} (${code}): check that the cluster is up and reachable from here, and that --kubeconfig and --context (${named(at)}) name the right one`,
      err,
    );
  if (CERT_CODES.has(code))
    return new UntrustedError(
      `the API server at ${at.server} presented a certificate that ${named(at)} does not trust (${code}): check the cluster's certificate-authority(-data) in the kubeconfig, and that its server URL is that cluster's API server`,
      err,
    );
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
    return new UntrustedError(
      `no TLS connection to the API server at ${at.server} (${code}): check that the server URL of ${named(at)} is the cluster's https:// API server address`,
      err,
    );
  return undefined;
}

/**
 * Turns a failed API call into an error a user can act on. `what` names the object
 * ("SliceConfig demo in slicenet-system"); `at` is where the call went. A 422 carries
 * the CRD's or the webhook's message per field, which is shown as is: it names the field.
 */
export function explainApiError(err: unknown, what: string, at: ApiEndpoint): Error {
  if (err instanceof SlicenetError) return err;
  const connection = connectionError(err, at);
  if (connection) return connection;
  const { server } = at;
  if (!(err instanceof ApiException)) return err instanceof Error ? err : new Error(String(err));
  const body = statusBody(err);
  const causes = (body.details?.causes ?? []).map(
    (c) => `  ${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`,
  );
  switch (err.code) {
    case 401:
      return new ApiRefusedError(
        `the API server at ${server} did not accept the credentials of ${named(at)} (401 Unauthorized): check the user's token or client certificate in the kubeconfig (it may have expired: log in again), or pick another --context`,
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
