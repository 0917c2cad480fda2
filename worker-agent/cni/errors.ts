/**
 * The plugin's error codes and the one place any failure becomes CNI error JSON (STYLE §5).
 * Codes below 100 are the CNI spec's well-known ones; 100 and up are Slicenet's. A runtime
 * retries on 11; 50 tells it the network is not ready for pods.
 */
import { SlicenetError } from '../../lib/errors.ts';
import type { Command } from './versions.ts';

export const CNI_CODES = {
  /** The config's cniVersion (or the command at that version) is not supported. */
  INCOMPATIBLE_VERSION: 1,
  /** A config field the plugin refuses, such as `ipam` (slicenet allocates addresses itself). */
  UNSUPPORTED_FIELD: 2,
  /** The agent has no such attachment (CHECK of something never added). */
  UNKNOWN_CONTAINER: 3,
  /** A CNI_* variable is missing or malformed; the message names it. */
  INVALID_ENVIRONMENT: 4,
  /** Reading stdin failed. */
  IO_FAILURE: 5,
  /** stdin is not JSON. */
  DECODING_FAILURE: 6,
  /** The network config is invalid (missing `slice`, wrong `type`, unknown slice, …). */
  INVALID_NETWORK_CONFIG: 7,
  /** The agent is down, starting or too slow: the runtime should retry. */
  TRY_AGAIN_LATER: 11,
  /** STATUS: the agent cannot take ADDs now. */
  PLUGIN_NOT_AVAILABLE: 50,
  /** The pod's namespace has not joined the slice. */
  NOT_JOINED: 101,
  /** No free address in this cluster's share of the slice subnet. */
  NO_FREE_ADDRESS: 102,
  /** CHECK: the attachment is not as ADD left it. */
  CHECK_FAILED: 103,
  /** A bug, or an agent failure with no better code. */
  INTERNAL: 999,
} as const;

export type CniErrorCode = keyof typeof CNI_CODES;

export class CniError extends SlicenetError {
  declare readonly code: CniErrorCode;
  constructor(
    code: CniErrorCode,
    message: string,
    readonly details?: string,
  ) {
    super(code, message);
  }
  get cniCode(): number {
    return CNI_CODES[this.code];
  }
}

/**
 * A call to the agent that failed, before it is mapped: `status` is the gRPC status name
 * (UNAVAILABLE, NOT_FOUND, …) and `agentCode` the agent's own code from trailing metadata.
 */
export class AgentCallError extends SlicenetError {
  constructor(
    readonly command: Command,
    readonly socket: string,
    readonly status: string,
    readonly agentCode: string | undefined,
    readonly details: string,
  ) {
    super('AGENT_CALL_FAILED', details);
  }
}

const UNREACHABLE = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'CANCELLED']);

const BY_AGENT_CODE: Record<string, CniErrorCode> = {
  UNKNOWN_SLICE: 'INVALID_NETWORK_CONFIG',
  NOT_FOUND: 'UNKNOWN_CONTAINER',
  NOT_JOINED: 'NOT_JOINED',
  POOL_EXHAUSTED: 'NO_FREE_ADDRESS',
  INVALID_REQUEST: 'INVALID_NETWORK_CONFIG',
  CHECK_FAILED: 'CHECK_FAILED',
  NOT_READY: 'TRY_AGAIN_LATER',
};

/** For an agent that did not say its code (an older agent): the proto's header comment. */
const BY_GRPC_STATUS: Record<string, CniErrorCode> = {
  NOT_FOUND: 'INVALID_NETWORK_CONFIG',
  FAILED_PRECONDITION: 'NOT_JOINED',
  RESOURCE_EXHAUSTED: 'NO_FREE_ADDRESS',
  INVALID_ARGUMENT: 'INVALID_NETWORK_CONFIG',
};

function fromAgentCall(e: AgentCallError): CniError {
  const from = `agent ${e.status}${e.agentCode ? ` ${e.agentCode}` : ''} on ${e.socket}`;
  const unreachable = UNREACHABLE.has(e.status) || e.agentCode === 'NOT_READY';
  if (e.command === 'STATUS')
    return new CniError('PLUGIN_NOT_AVAILABLE', `slicenet agent not available: ${e.details}`, from);
  if (unreachable) {
    return new CniError(
      'TRY_AGAIN_LATER',
      `slicenet agent not available: ${e.details}; try again later`,
      from,
    );
  }
  const code =
    (e.agentCode ? BY_AGENT_CODE[e.agentCode] : undefined) ?? BY_GRPC_STATUS[e.status] ?? 'INTERNAL';
  return new CniError(code, e.details, from);
}

/** Any failure as a CniError: the plugin's single mapping point. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof AgentCallError) return fromAgentCall(err);
  return new CniError('INTERNAL', err instanceof Error ? err.message : String(err));
}

/** The spec's error object: `{cniVersion, code, msg, details}` (details only when there are some). */
export function errorJson(err: unknown, cniVersion: string): string {
  const e = toCniError(err);
  return JSON.stringify({
    cniVersion,
    code: e.cniCode,
    msg: e.message,
    ...(e.details ? { details: e.details } : {}),
  });
}
